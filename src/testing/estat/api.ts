/**
 * e-Stat API 3.0's JSON endpoints as a function of the request (ESTAT-API.md §3–§13): what
 * getStatsList, getMetaInfo and getStatsData answer, with e-Stat's paging, counts, narrowing,
 * STATUS errors and wire encoding. The fake HTTP server and the in-memory EStat layer both answer
 * through this, so the two cannot drift apart.
 */
import { encodeJson, messages, one, parameterEcho, result, tableInf } from "./encode.js"
import type { FakeCell, FakeTable } from "./model.js"
import { specialValues } from "./model.js"
import { narrowing } from "./narrowing.js"
import { matchesFilters } from "./search.js"

/** What e-Stat sends back: an HTTP status and a JSON body. */
export interface EStatAnswer {
  readonly httpStatus: number
  readonly body: string
  /** The same body in pieces to send as they are: a kept page's VALUE is not copied for each request. */
  readonly pieces?: ReadonlyArray<string | Uint8Array>
}

/** Variants of e-Stat's behaviour that have been observed (ESTAT-API.md §13), switchable per request. */
export interface Quirks {
  /** The STATUS an unknown statsDataId gets (the spec's 300 by default; 100, as e-Stat has answered, comes with its auth message). */
  readonly unknownIdStatus?: 100 | 300
  /** Errors with HTTP 200 instead of the spec's HTTP codes. */
  readonly always200?: boolean
  /** "No data" search results as `DATALIST_INF: { NUMBER: 0 }` instead of omitting the block. */
  readonly emptyListAsNumberZero?: boolean
}

export interface EStatApiOptions {
  /** Every table the service knows, in the order getStatsList lists them. */
  readonly tables: Iterable<FakeTable>
  /** Application IDs accepted; any other gets STATUS 100. */
  readonly appIds: ReadonlyArray<string>
  /**
   * Keep every data page's VALUE once encoded, as bytes, with its count (benchmarks: latency then
   * is only the simulated one). A page rebuilt and copied for every request (~8–16 MB) kept a
   * one-process fake e-Stat from answering a search for a second while pages were asked for.
   */
  readonly cacheDataPages?: boolean
}

export interface EStatApi {
  /** The answer to `endpoint` (one e-Stat has: see `isEndpoint`). */
  readonly answer: (endpoint: Endpoint, params: URLSearchParams, nowMs: number, quirks?: Quirks) => EStatAnswer
  /** An error answer with this STATUS and e-Stat's message for it (1 no data, 100 auth, 300 not found, 200 internal …). */
  readonly failure: (endpoint: Endpoint, params: URLSearchParams, status: number, nowMs: number, quirks?: Quirks) => EStatAnswer
}

/** A getStatsData request for values, not a count. */
export const isDataRequest = (request: { readonly endpoint: string; readonly params: URLSearchParams }) =>
  request.endpoint === "getStatsData" && request.params.get("cntGetFlg") !== "Y"

const roots = { getStatsList: "GET_STATS_LIST", getMetaInfo: "GET_META_INFO", getStatsData: "GET_STATS_DATA" } as const

export type Endpoint = keyof typeof roots

/** One of the JSON endpoints served (`/json/<endpoint>`). */
export const isEndpoint = (name: string): name is Endpoint => Object.hasOwn(roots, name)
const listTags = { surveyYears: "SURVEY_YEARS", openYears: "OPEN_YEARS", statsField: "STATS_FIELD", statsCode: "STATS_CODE", searchWord: "SEARCH_WORD", explanationGetFlg: "EXPLANATION_GET_FLG", startPosition: "START_POSITION", limit: "LIMIT", updatedDate: "UPDATED_DATE" }
const metaTags = { statsDataId: "STATS_DATA_ID", explanationGetFlg: "EXPLANATION_GET_FLG" }
const dataTags = { statsDataId: "STATS_DATA_ID", startPosition: "START_POSITION", limit: "LIMIT", metaGetFlg: "METAGET_FLG", cntGetFlg: "CNT_GET_FLG", explanationGetFlg: "EXPLANATION_GET_FLG", annotationGetFlg: "ANNOTATION_GET_FLG", replaceSpChars: "REPLACE_SP_CHARS" }

const VALUES_SLOT = "__FAKE_ESTAT_VALUES__"
const textBytes = new TextEncoder()

/** A data page kept (`cacheDataPages`): its VALUE's bytes, its cells and the count matching its narrowing. */
interface KeptPage {
  readonly values: Uint8Array
  readonly cells: number
  readonly total: number
}

const PAGE_NEUTRAL = new Set(["appId", "lang", "metaGetFlg", "cntGetFlg", "explanationGetFlg", "annotationGetFlg", "sectionHeaderFlg"])

const httpStatusOf = (status: number) =>
  status === 100 ? 403 : status >= 200 && status < 300 ? 500 : status === 303 ? 500 : status >= 100 ? 400 : 200

const statusMessage = (status: number, params: URLSearchParams) =>
  status === 1 ? messages.noData : status === 100 ? messages.auth : status === 300 ? messages.notFound(params.get("statsDataId") ?? "") : messages.internal

const memoized = (f: (value: string) => string) => {
  const cache = new Map<string, string>()
  return (value: string) => {
    let out = cache.get(value)
    if (out === undefined) cache.set(value, out = f(value))
    return out
  }
}

const classInf = (table: FakeTable) => ({
  CLASS_OBJ: one(table.dimensions.map((d) => ({
    "@id": d.id,
    "@name": d.name,
    CLASS: one(d.classes.map((c) => ({
      "@code": c.code, "@name": c.name, "@level": c.level ?? "",
      ...(c.unit ? { "@unit": c.unit } : {}), ...(c.parentCode ? { "@parentCode": c.parentCode } : {})
    })))
  })))
})

const replaceSpecial = (value: string, mode: string | null) => {
  if (!specialValues.includes(value) || mode === null || mode === "0") return value
  return mode === "1" ? "0" : mode === "2" ? "" : "NA"
}

/** VALUE as e-Stat sends it (one cell: an object), written cell by cell: the fake must not be the bottleneck of a benchmark. */
const encodeValues = (table: FakeTable, page: ReadonlyArray<FakeCell>, mode: string | null) => {
  const code = memoized((value: string) => encodeJson(value))
  const text = (value: string) => (/^[\w.+-]*$/.test(value) ? `"${value}"` : encodeJson(value))
  const keys = table.dimensions.map((d) => `"@${d.id}":`)
  const parts = page.map((cell) => {
    let json = "{"
    for (let d = 0; d < keys.length; d++) json += `${keys[d]}${code(cell.dims[table.dimensions[d]!.id] ?? "")},`
    if (cell.unit !== undefined) json += `"@unit":${code(cell.unit)},`
    if (cell.annotation !== undefined) json += `"@annotation":${code(cell.annotation)},`
    return `${json}"$":${text(replaceSpecial(cell.value, mode))}}`
  })
  return parts.length === 1 ? parts[0]! : `[${parts.join(",")}]`
}

/** The cells of one page and the number matching the narrowing; dense tables jump straight to the page. */
const selectPage = (table: FakeTable, filter: { readonly keep: (cell: FakeCell) => boolean; readonly all: boolean }, start: number, limit: number) => {
  const page: Array<FakeCell> = []
  if (filter.all && table.cellAt !== undefined) {
    for (let i = start - 1; i < Math.min(table.cellCount, start - 1 + limit); i++) page.push(table.cellAt(i))
    return { page, total: table.cellCount }
  }
  let total = 0
  for (const cell of table.cells()) {
    if (!filter.keep(cell)) continue
    total++
    if (total >= start && page.length < limit) page.push(cell)
  }
  return { page, total }
}

export const makeEStatApi = (options: EStatApiOptions): EStatApi => {
  const catalog = new Map([...options.tables].map((t) => [t.info.id, t]))
  const appIds = new Set(options.appIds)
  const pageCache = new Map<string, KeptPage>()
  const keep = (key: string, page: KeptPage) => {
    pageCache.set(key, page)
    return page
  }

  return {
    failure: (endpoint, params, status, nowMs, quirks = {}) =>
      errorAnswer(roots[endpoint], params, status, statusMessage(status, params), {}, nowMs, quirks),
    answer: (endpoint, params, nowMs, quirks = {}) => {
      const root = roots[endpoint]
      const appId = params.get("appId")
      if (appId === null || !appIds.has(appId)) return errorAnswer(root, params, 100, messages.auth, {}, nowMs, quirks)
      const request: Request = { root, params, nowMs, quirks }
      return endpoint === "getStatsList" ? getStatsList(request) : endpoint === "getMetaInfo" ? getMetaInfo(request) : getStatsData(request)
    }
  }

  function getStatsList({ root, params, nowMs, quirks }: Request): EStatAnswer {
    const hits = [...catalog.values()].filter((t) => matchesFilters(t, params))
    const start = Number(params.get("startPosition") ?? "1")
    const limit = Number(params.get("limit") ?? "100000")
    if (!(limit >= 1 && limit <= 100_000)) return errorAnswer(root, params, 102, messages.invalid("limit"), listTags, nowMs, quirks)
    const page = hits.slice(start - 1, start - 1 + limit)
    const envelope = { RESULT: result(hits.length === 0 ? 1 : 0, hits.length === 0 ? messages.noData : messages.ok, nowMs), PARAMETER: parameterEcho(params, listTags) }
    if (page.length === 0) {
      return ok({ [root]: quirks.emptyListAsNumberZero ? { ...envelope, DATALIST_INF: { NUMBER: 0 } } : envelope })
    }
    const to = start + page.length - 1
    return ok({
      [root]: {
        ...envelope,
        DATALIST_INF: {
          NUMBER: hits.length,
          RESULT_INF: { FROM_NUMBER: start, TO_NUMBER: to, ...(to < hits.length ? { NEXT_KEY: to + 1 } : {}) },
          TABLE_INF: one(page.map((t) => tableInf(t.info, t.cellCount)))
        }
      }
    })
  }

  /** The requested table, or the answer STATUS 101 (no id) or 300 (unknown id). */
  function requestedTable({ root, params, nowMs, quirks }: Request, tags: Record<string, string>): FakeTable | EStatAnswer {
    const id = params.get("statsDataId")
    if (id === null) return errorAnswer(root, params, 101, messages.required("統計表ID（statsDataId）"), tags, nowMs, quirks)
    const table = catalog.get(id)
    if (table !== undefined) return table
    return quirks.unknownIdStatus === 100
      ? errorAnswer(root, params, 100, messages.auth, tags, nowMs, quirks)
      : errorAnswer(root, params, 300, messages.notFound(id), tags, nowMs, quirks)
  }

  function getMetaInfo(request: Request): EStatAnswer {
    const table = requestedTable(request, metaTags)
    if (!("info" in table)) return table
    return ok({
      [request.root]: {
        RESULT: result(0, messages.ok, request.nowMs),
        PARAMETER: parameterEcho(request.params, metaTags),
        METADATA_INF: { TABLE_INF: tableInf(table.info, table.cellCount), CLASS_INF: classInf(table) }
      }
    })
  }

  function getStatsData(request: Request): EStatAnswer {
    const { root, params, nowMs, quirks } = request
    const table = requestedTable(request, dataTags)
    if (!("info" in table)) return table
    const filter = narrowing(params, table.dimensions)
    if (filter._tag === "error") {
      return errorAnswer(root, params, filter.status, filter.status === 105 ? messages.tooManyCodes(filter.param) : messages.invalid(filter.param), dataTags, nowMs, quirks)
    }
    const start = Number(params.get("startPosition") ?? "1")
    const limit = Number(params.get("limit") ?? "100000")
    if (!(limit >= 1 && limit <= 100_000) || !(start >= 1)) {
      return errorAnswer(root, params, 102, messages.invalid(limit >= 1 && limit <= 100_000 ? "startPosition" : "limit"), dataTags, nowMs, quirks)
    }
    const parameter = { ...parameterEcho(params, dataTags), NARROWING_COND: filter.echo, START_POSITION: start, METAGET_FLG: params.get("metaGetFlg") ?? "Y" }
    // A count builds no page.
    const counting = params.get("cntGetFlg") === "Y"
    // VALUE (up to 100,000 cells) is encoded apart, with the same rules, and spliced in. The cells
    // depend on the table, the narrowing, the window and replaceSpChars, not on the other flags.
    const key = [...params].filter(([k]) => !PAGE_NEUTRAL.has(k)).map(([k, v]) => `${k}=${v}`).sort().join("&")
    const kept = options.cacheDataPages && !counting ? pageCache.get(key) : undefined
    const { page, total } = kept === undefined ? selectPage(table, filter, start, counting ? 0 : limit) : { page: null, total: kept.total }
    const cells = page?.length ?? kept?.cells ?? 0
    if (total === 0) return ok({ [root]: { RESULT: result(1, messages.noData, nowMs), PARAMETER: parameter } })
    if (counting) {
      return ok({ [root]: { RESULT: result(0, messages.ok, nowMs), PARAMETER: parameter, STATISTICAL_DATA: { RESULT_INF: { TOTAL_NUMBER: total } } } })
    }
    const meta = params.get("metaGetFlg") !== "N"
    const to = start + cells - 1
    const withAnnotations = params.get("annotationGetFlg") !== "N"
    const envelope = encodeJson({
      [root]: {
        RESULT: result(0, messages.ok, nowMs),
        PARAMETER: parameter,
        STATISTICAL_DATA: {
          RESULT_INF: { TOTAL_NUMBER: total, FROM_NUMBER: cells === 0 ? 0 : start, TO_NUMBER: cells === 0 ? 0 : to, ...(to < total ? { NEXT_KEY: to + 1 } : {}) },
          ...(meta ? { TABLE_INF: tableInf(table.info, table.cellCount), CLASS_INF: classInf(table) } : {}),
          DATA_INF: {
            ...(table.notes.length > 0 ? { NOTE: one(table.notes.map((n) => ({ "@char": n.char, "$": n.text }))) } : {}),
            ...(withAnnotations && table.annotations.length > 0 ? { ANNOTATION: one(table.annotations.map((a) => ({ "@annotation": a.code, "$": a.text }))) } : {}),
            VALUE: VALUES_SLOT
          }
        }
      }
    })
    const [head, tail] = envelope.split(`"${VALUES_SLOT}"`) as [string, string]
    // (`page` is null only for a kept page.)
    const valuesOf = () => encodeValues(table, page ?? [], params.get("replaceSpChars"))
    if (!options.cacheDataPages) return { httpStatus: 200, body: head + valuesOf() + tail }
    const { values } = kept ?? keep(key, { values: textBytes.encode(valuesOf()), cells, total })
    return {
      httpStatus: 200,
      get body() {
        return head + new TextDecoder().decode(values) + tail
      },
      pieces: [head, values, tail]
    }
  }
}

interface Request {
  readonly root: string
  readonly params: URLSearchParams
  readonly nowMs: number
  readonly quirks: Quirks
}

const ok = (body: unknown): EStatAnswer => ({ httpStatus: 200, body: encodeJson(body) })

const errorAnswer = (root: string, params: URLSearchParams, status: number, message: string, tags: Record<string, string>, nowMs: number, quirks: Quirks): EStatAnswer => ({
  httpStatus: quirks.always200 ? 200 : httpStatusOf(status),
  body: encodeJson({ [root]: { RESULT: result(status, message, nowMs), PARAMETER: parameterEcho(params, tags) } })
})
