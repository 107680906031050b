import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { makeCatalog } from "./catalog.js"
import { encodeJson, messages, one, parameterEcho, result, tableInf } from "./encode.js"
import type { FakeCell, FakeTable } from "./model.js"
import { specialValues } from "./model.js"
import { narrowing } from "./narrowing.js"
import { matchesFilters } from "./search.js"

/** Switches that make the fake misbehave like the real service does (ESTAT-API.md §13, §19). */
export interface Faults {
  /** Delay before answering, in ms. */
  readonly latencyMs?: number
  /** The next `count` requests (to `endpoint`, when given) get this HTTP status (5xx, 429) with a gateway's plain-text body. */
  readonly failNext?: { readonly status: number; readonly count: number; readonly endpoint?: string }
  /** The next `count` requests get the WAF's HTML 403 page. */
  readonly wafNext?: number
  /** The next `count` bodies are cut in half. */
  readonly truncateNext?: number
  /** The next `count` requests answer with this e-Stat STATUS (1 no data, 100 auth, 300 not found, 200 internal …), payload left out. */
  readonly forceStatus?: { readonly status: number; readonly count: number }
  /** The STATUS an unknown statsDataId gets (the spec's 300 by default; 100, as e-Stat has answered, comes with its auth message). */
  readonly unknownIdStatus?: 100 | 300
  /** Errors with HTTP 200 instead of the spec's HTTP codes. */
  readonly always200?: boolean
  /** "No data" search results as `DATALIST_INF: { NUMBER: 0 }` instead of omitting the block. */
  readonly emptyListAsNumberZero?: boolean
  /** Data pages starting at `startPosition` get this HTTP status `times` times (Infinity: always). */
  readonly failPage?: { readonly startPosition: number; readonly times: number; readonly status: number }
  /** Data pages starting at `startPosition` are never answered (held until the client goes): a run stands still there. */
  readonly holdPage?: { readonly startPosition: number }
}

export interface FakeEStatOptions {
  /** Keep every data page body once encoded (benchmarks: latency then is only the simulated one). */
  readonly cacheDataPages?: boolean
  readonly appIds?: ReadonlyArray<string>
  readonly tables?: ReadonlyArray<FakeTable>
  readonly faults?: Faults
}

export interface ReceivedRequest {
  readonly endpoint: string
  readonly params: URLSearchParams
}

export interface FakeEStatHandle {
  /** Base URL for ESTAT_API_BASE_URL, ending in /rest/3.0/app. */
  readonly baseUrl: string
  readonly requests: ReadonlyArray<ReceivedRequest>
  readonly setFaults: (faults: Faults) => void
  readonly close: () => Promise<void>
}

export const FAKE_APP_ID = "fake-app-id-0123456789abcdef"

/** A getStatsData request for values, not a count. */
export const isDataRequest = (request: ReceivedRequest) => request.endpoint === "getStatsData" && request.params.get("cntGetFlg") !== "Y"

const VALUES_SLOT = "__FAKE_ESTAT_VALUES__"
const PAGE_NEUTRAL = new Set(["appId", "lang", "metaGetFlg", "cntGetFlg", "explanationGetFlg", "annotationGetFlg", "sectionHeaderFlg"])

const memoized = (f: (value: string) => string) => {
  const cache = new Map<string, string>()
  return (value: string) => {
    let out = cache.get(value)
    if (out === undefined) cache.set(value, out = f(value))
    return out
  }
}

const httpStatusOf = (status: number) =>
  status === 100 ? 403 : status >= 200 && status < 300 ? 500 : status === 303 ? 500 : status >= 100 ? 400 : 200

export const startFakeEStat = async (options: FakeEStatOptions = {}): Promise<FakeEStatHandle> => {
  const catalog = makeCatalog(options.tables ?? [])
  const appIds = new Set(options.appIds ?? [FAKE_APP_ID])
  let faults: Faults = options.faults ?? {}
  let failLeft = faults.failNext?.count ?? 0
  let wafLeft = faults.wafNext ?? 0
  let truncateLeft = faults.truncateNext ?? 0
  let forceLeft = faults.forceStatus?.count ?? 0
  let failPageLeft = faults.failPage?.times ?? 0
  const requests: Array<ReceivedRequest> = []

  const pageCache = new Map<string, string>()
  const send = (res: ServerResponse, httpStatus: number, body: unknown, values?: () => string) => {
    // VALUE (up to 100,000 cells) is encoded apart, with the same rules, and spliced in.
    const json = values === undefined ? encodeJson(body) : encodeJson(body).replace(`"${VALUES_SLOT}"`, values)
    if (truncateLeft > 0) {
      truncateLeft--
      res.writeHead(httpStatus, { "content-type": "application/json;charset=utf-8" })
      res.end(json.slice(0, Math.floor(json.length / 2)))
      return
    }
    res.writeHead(httpStatus, { "content-type": "application/json;charset=utf-8", "content-length": Buffer.byteLength(json) })
    res.end(json)
  }

  const error = (res: ServerResponse, root: string, params: URLSearchParams, status: number, message: string, tags: Record<string, string>) =>
    send(res, faults.always200 ? 200 : httpStatusOf(status), { [root]: { RESULT: result(status, message), PARAMETER: parameterEcho(params, tags) } })

  const listTags = { surveyYears: "SURVEY_YEARS", openYears: "OPEN_YEARS", statsField: "STATS_FIELD", statsCode: "STATS_CODE", searchWord: "SEARCH_WORD", explanationGetFlg: "EXPLANATION_GET_FLG", startPosition: "START_POSITION", limit: "LIMIT", updatedDate: "UPDATED_DATE" }
  const metaTags = { statsDataId: "STATS_DATA_ID", explanationGetFlg: "EXPLANATION_GET_FLG" }
  const dataTags = { statsDataId: "STATS_DATA_ID", startPosition: "START_POSITION", limit: "LIMIT", metaGetFlg: "METAGET_FLG", cntGetFlg: "CNT_GET_FLG", explanationGetFlg: "EXPLANATION_GET_FLG", annotationGetFlg: "ANNOTATION_GET_FLG", replaceSpChars: "REPLACE_SP_CHARS" }

  const getStatsList = (res: ServerResponse, params: URLSearchParams) => {
    const root = "GET_STATS_LIST"
    const hits = [...catalog.values()].filter((t) => matchesFilters(t, params))
    const start = Number(params.get("startPosition") ?? "1")
    const limit = Number(params.get("limit") ?? "100000")
    if (!(limit >= 1 && limit <= 100_000)) return error(res, root, params, 102, messages.invalid("limit"), listTags)
    const page = hits.slice(start - 1, start - 1 + limit)
    const envelope = { RESULT: result(hits.length === 0 ? 1 : 0, hits.length === 0 ? messages.noData : messages.ok), PARAMETER: parameterEcho(params, listTags) }
    if (page.length === 0) {
      return send(res, 200, { [root]: faults.emptyListAsNumberZero ? { ...envelope, DATALIST_INF: { NUMBER: 0 } } : envelope })
    }
    const to = start + page.length - 1
    send(res, 200, {
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

  /** The requested table, or undefined after answering STATUS 101 (no id) or 300 (unknown id). */
  const requestedTable = (res: ServerResponse, root: string, params: URLSearchParams, tags: Record<string, string>) => {
    const id = params.get("statsDataId")
    if (id === null) return void error(res, root, params, 101, messages.required("統計表ID（statsDataId）"), tags)
    const table = catalog.get(id)
    if (table === undefined) {
      return void (faults.unknownIdStatus === 100 ? error(res, root, params, 100, messages.auth, tags) : error(res, root, params, 300, messages.notFound(id), tags))
    }
    return table
  }

  const getMetaInfo = (res: ServerResponse, params: URLSearchParams) => {
    const root = "GET_META_INFO"
    const table = requestedTable(res, root, params, metaTags)
    if (table === undefined) return
    send(res, 200, {
      [root]: {
        RESULT: result(0, messages.ok),
        PARAMETER: parameterEcho(params, metaTags),
        METADATA_INF: { TABLE_INF: tableInf(table.info, table.cellCount), CLASS_INF: classInf(table) }
      }
    })
  }

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

  const getStatsData = (res: ServerResponse, params: URLSearchParams) => {
    const root = "GET_STATS_DATA"
    const table = requestedTable(res, root, params, dataTags)
    if (table === undefined) return
    const filter = narrowing(params, table.dimensions)
    if (filter._tag === "error") {
      return error(res, root, params, filter.status, filter.status === 105 ? messages.tooManyCodes(filter.param) : messages.invalid(filter.param), dataTags)
    }
    const start = Number(params.get("startPosition") ?? "1")
    const limit = Number(params.get("limit") ?? "100000")
    if (!(limit >= 1 && limit <= 100_000) || !(start >= 1)) return error(res, root, params, 102, messages.invalid(limit >= 1 && limit <= 100_000 ? "startPosition" : "limit"), dataTags)
    const parameter = { ...parameterEcho(params, dataTags), NARROWING_COND: filter.echo, START_POSITION: start, METAGET_FLG: params.get("metaGetFlg") ?? "Y" }
    // A count builds no page.
    const { page, total } = selectPage(table, filter, start, params.get("cntGetFlg") === "Y" ? 0 : limit)
    if (total === 0) return send(res, 200, { [root]: { RESULT: result(1, messages.noData), PARAMETER: parameter } })
    if (params.get("cntGetFlg") === "Y") {
      return send(res, 200, { [root]: { RESULT: result(0, messages.ok), PARAMETER: parameter, STATISTICAL_DATA: { RESULT_INF: { TOTAL_NUMBER: total } } } })
    }
    const meta = params.get("metaGetFlg") !== "N"
    const to = start + page.length - 1
    const withAnnotations = params.get("annotationGetFlg") !== "N"
    send(res, 200, {
      [root]: {
        RESULT: result(0, messages.ok),
        PARAMETER: parameter,
        STATISTICAL_DATA: {
          RESULT_INF: { TOTAL_NUMBER: total, FROM_NUMBER: page.length === 0 ? 0 : start, TO_NUMBER: page.length === 0 ? 0 : to, ...(to < total ? { NEXT_KEY: to + 1 } : {}) },
          ...(meta ? { TABLE_INF: tableInf(table.info, table.cellCount), CLASS_INF: classInf(table) } : {}),
          DATA_INF: {
            ...(table.notes.length > 0 ? { NOTE: one(table.notes.map((n) => ({ "@char": n.char, "$": n.text }))) } : {}),
            ...(withAnnotations && table.annotations.length > 0 ? { ANNOTATION: one(table.annotations.map((a) => ({ "@annotation": a.code, "$": a.text }))) } : {}),
            VALUE: VALUES_SLOT
          }
        }
      }
    }, () => {
      // The cells depend on the table, the narrowing, the window and replaceSpChars, not on the other flags.
      const key = [...params].filter(([k]) => !PAGE_NEUTRAL.has(k)).map(([k, v]) => `${k}=${v}`).sort().join("&")
      const cached = options.cacheDataPages ? pageCache.get(key) : undefined
      const values = cached ?? encodeValues(table, page, params.get("replaceSpChars"))
      if (options.cacheDataPages) pageCache.set(key, values)
      return values
    })
  }

  const routes: Record<string, (res: ServerResponse, params: URLSearchParams) => void> = { getStatsList, getMetaInfo, getStatsData }

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1")
    const match = /^\/rest\/3\.0\/app\/json\/(\w+)$/.exec(url.pathname)
    const route = match ? routes[match[1]!] : undefined
    if (match === null || route === undefined) {
      res.writeHead(404, { "content-type": "text/plain" }).end("Not Found")
      return
    }
    const endpoint = match[1]!
    if (faults.holdPage !== undefined && isDataRequest({ endpoint, params: url.searchParams }) &&
      url.searchParams.get("startPosition") === String(faults.holdPage.startPosition)) return
    if (faults.failPage !== undefined && failPageLeft > 0 && isDataRequest({ endpoint, params: url.searchParams }) &&
      url.searchParams.get("startPosition") === String(faults.failPage.startPosition)) {
      failPageLeft--
      res.writeHead(faults.failPage.status, { "content-type": "text/plain" }).end("Service Unavailable")
      return
    }
    const root = { getStatsList: "GET_STATS_LIST", getMetaInfo: "GET_META_INFO", getStatsData: "GET_STATS_DATA" }[endpoint] ?? endpoint
    if (failLeft > 0 && faults.failNext && (faults.failNext.endpoint ?? endpoint) === endpoint) {
      failLeft--
      res.writeHead(faults.failNext.status, { "content-type": "text/plain" }).end(faults.failNext.status === 429 ? "Too Many Requests" : "Service Unavailable")
      return
    }
    if (wafLeft > 0) {
      wafLeft--
      res.writeHead(403, { "content-type": "text/html", server: "ZENEDGE" }).end("<html><head><title>Access Denied</title></head><body>Request blocked.</body></html>")
      return
    }
    const params = url.searchParams
    const appId = params.get("appId")
    if (appId === null || !appIds.has(appId)) return error(res, root, params, 100, messages.auth, {})
    if (forceLeft > 0 && faults.forceStatus) {
      forceLeft--
      const status = faults.forceStatus.status
      const message = status === 1 ? messages.noData : status === 100 ? messages.auth : status === 300 ? messages.notFound(params.get("statsDataId") ?? "") : messages.internal
      return error(res, root, params, status, message, {})
    }
    route(res, params)
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1")
    requests.push({ endpoint: url.pathname.split("/").at(-1) ?? "", params: url.searchParams })
    const latency = faults.latencyMs ?? 0
    if (latency <= 0) return handle(req, res)
    const timer = setTimeout(() => handle(req, res), latency)
    res.on("close", () => clearTimeout(timer))
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const port = (server.address() as AddressInfo).port
  return {
    baseUrl: `http://127.0.0.1:${port}/rest/3.0/app`,
    requests,
    setFaults: (next) => {
      faults = next
      failLeft = next.failNext?.count ?? 0
      wafLeft = next.wafNext ?? 0
      truncateLeft = next.truncateNext ?? 0
      forceLeft = next.forceStatus?.count ?? 0
      failPageLeft = next.failPage?.times ?? 0
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    })
  }
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
