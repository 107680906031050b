import { Either, Schema } from "effect"
import type { ClassItem, DataCells, DataPage, Dimension, PageHead, TableInfo } from "../../domain/estat.js"

/**
 * e-Stat's JSON as it really arrives (ESTAT-API.md §6–§9): repeated elements that occur once
 * are objects, integer-looking text is a number, text with attributes is `{ "@…", "$" }`,
 * empty elements are "", and blocks go missing. These schemas accept all of it; the
 * functions below turn it into the domain shapes.
 */

const Scalar = Schema.Union(Schema.String, Schema.Number)
type Scalar = typeof Scalar.Type

/** `x | x[]` → `x[]`. */
const oneOrMany = <A, I>(item: Schema.Schema<A, I>) =>
  Schema.transform(Schema.Union(Schema.Array(item), item), Schema.Array(Schema.typeSchema(item)), {
    strict: true,
    decode: (value) => (Array.isArray(value) ? (value as ReadonlyArray<A>) : [value as A]),
    encode: (values) => values
  })

const Node = Schema.Struct({
  "@code": Schema.optional(Scalar),
  "@no": Schema.optional(Scalar),
  "$": Schema.optional(Scalar)
})
/** A text node: a plain scalar, `""`, or `{ "@code", "$" }`. */
const TextNode = Schema.Union(Scalar, Node)
type TextNode = typeof TextNode.Type

const text = (value: Scalar | undefined): string => (value === undefined ? "" : String(value))
const nodeText = (node: TextNode | undefined): string =>
  node === undefined ? "" : typeof node === "object" ? text(node.$) : text(node)
const nodeCode = (node: TextNode | undefined): string =>
  node === undefined || typeof node !== "object" ? "" : text(node["@code"])

const Result = Schema.Struct({
  STATUS: Scalar,
  ERROR_MSG: Schema.optional(Scalar),
  DATE: Schema.optional(Scalar)
})

/** Just enough to read RESULT before anything else, whatever the root is called. */
export const Envelope = Schema.Record({ key: Schema.String, value: Schema.Struct({ RESULT: Result }) })

const ResultInf = Schema.Union(
  Schema.Literal(""),
  Schema.Struct({
    TOTAL_NUMBER: Schema.optional(Scalar),
    FROM_NUMBER: Schema.optional(Scalar),
    TO_NUMBER: Schema.optional(Scalar),
    NEXT_KEY: Schema.optional(Scalar)
  })
)

const TableInf = Schema.Struct({
  "@id": Scalar,
  STAT_NAME: Schema.optional(TextNode),
  GOV_ORG: Schema.optional(TextNode),
  STATISTICS_NAME: Schema.optional(Scalar),
  TITLE: Schema.optional(TextNode),
  CYCLE: Schema.optional(Scalar),
  SURVEY_DATE: Schema.optional(Scalar),
  OPEN_DATE: Schema.optional(Scalar),
  SMALL_AREA: Schema.optional(Scalar),
  COLLECT_AREA: Schema.optional(Scalar),
  MAIN_CATEGORY: Schema.optional(TextNode),
  SUB_CATEGORY: Schema.optional(TextNode),
  OVERALL_TOTAL_NUMBER: Schema.optional(Scalar),
  UPDATED_DATE: Schema.optional(Scalar),
  STATISTICS_NAME_SPEC: Schema.optional(Schema.Union(Schema.Literal(""), Schema.Struct({ TABULATION_CATEGORY: Schema.optional(Scalar) }))),
  DESCRIPTION: Schema.optional(Schema.Union(Scalar, Schema.Struct({ TABULATION_CATEGORY_EXPLANATION: Schema.optional(Scalar) }))),
  TITLE_SPEC: Schema.optional(Schema.Union(Schema.Literal(""), Schema.Struct({ TABLE_NAME: Schema.optional(Scalar) })))
})
type TableInf = typeof TableInf.Type

const ClassEntry = Schema.Struct({
  "@code": Scalar,
  "@name": Scalar,
  "@level": Schema.optional(Scalar),
  "@unit": Schema.optional(Scalar),
  "@parentCode": Schema.optional(Scalar)
})

const ClassObj = Schema.Struct({
  "@id": Scalar,
  "@name": Scalar,
  "@description": Schema.optional(Scalar),
  CLASS: Schema.optional(oneOrMany(ClassEntry))
})

const ClassInf = Schema.Struct({ CLASS_OBJ: oneOrMany(ClassObj) })

const Note = Schema.Struct({ "@char": Scalar, "$": Schema.optional(Scalar) })
const Annotation = Schema.Struct({ "@annotation": Scalar, "$": Schema.optional(Scalar) })

export const GetStatsList = Schema.Struct({
  GET_STATS_LIST: Schema.Struct({
    RESULT: Result,
    DATALIST_INF: Schema.optional(Schema.Struct({
      NUMBER: Schema.optional(Scalar),
      RESULT_INF: Schema.optional(ResultInf),
      TABLE_INF: Schema.optional(oneOrMany(TableInf))
    }))
  })
})

export const GetMetaInfo = Schema.Struct({
  GET_META_INFO: Schema.Struct({
    RESULT: Result,
    // Missing when e-Stat answers STATUS 1 (no data).
    METADATA_INF: Schema.optional(Schema.Struct({
      TABLE_INF: TableInf,
      CLASS_INF: ClassInf
    }))
  })
})

export const GetStatsData = Schema.Struct({
  GET_STATS_DATA: Schema.Struct({
    RESULT: Result,
    PARAMETER: Schema.optional(Schema.Struct({ STATS_DATA_ID: Schema.optional(Scalar) })),
    STATISTICAL_DATA: Schema.optional(Schema.Struct({
      RESULT_INF: Schema.optional(ResultInf),
      // Present when metaGetFlg=Y (the default): saved pages carry their own metadata.
      TABLE_INF: Schema.optional(TableInf),
      CLASS_INF: Schema.optional(ClassInf),
      DATA_INF: Schema.optional(Schema.Union(Schema.Literal(""), Schema.Struct({
        NOTE: Schema.optional(oneOrMany(Note)),
        ANNOTATION: Schema.optional(oneOrMany(Annotation)),
        // Decoded column by column in `toCells`: a Schema pass over 100,000 cells costs more than the download.
        VALUE: Schema.optional(Schema.Unknown)
      })))
    }))
  })
})

export const toNumber = (value: Scalar | undefined): number | null => {
  if (value === undefined || value === "") return null
  const n = typeof value === "number" ? value : Number(value)
  return Number.isFinite(n) ? n : null
}

export const toTableInfo = (inf: TableInf): TableInfo => {
  const total = toNumber(inf.OVERALL_TOTAL_NUMBER)
  const surveyDate = text(inf.SURVEY_DATE)
  const spec = inf.STATISTICS_NAME_SPEC
  const titleSpec = inf.TITLE_SPEC
  const description = inf.DESCRIPTION
  return {
    statsDataId: text(inf["@id"]),
    title: nodeText(inf.TITLE),
    statisticsName: text(inf.STATISTICS_NAME),
    statName: nodeText(inf.STAT_NAME),
    statCode: nodeCode(inf.STAT_NAME),
    govOrg: nodeText(inf.GOV_ORG),
    govOrgCode: nodeCode(inf.GOV_ORG),
    cycle: text(inf.CYCLE),
    surveyDate: surveyDate === "0" ? "" : surveyDate,
    openDate: text(inf.OPEN_DATE),
    updatedDate: text(inf.UPDATED_DATE),
    smallArea: text(inf.SMALL_AREA) === "1",
    collectArea: text(inf.COLLECT_AREA),
    mainCategory: nodeText(inf.MAIN_CATEGORY),
    mainCategoryCode: nodeCode(inf.MAIN_CATEGORY),
    subCategory: nodeText(inf.SUB_CATEGORY),
    subCategoryCode: nodeCode(inf.SUB_CATEGORY),
    totalRecords: total === null || total === 0 ? null : total,
    tabulationCategory: typeof spec === "object" ? text(spec.TABULATION_CATEGORY) : "",
    tableName: typeof titleSpec === "object" ? text(titleSpec.TABLE_NAME) : "",
    description: typeof description === "object" ? text(description.TABULATION_CATEGORY_EXPLANATION) : text(description)
  }
}

export const toDimensions = (classInf: typeof ClassInf.Type): ReadonlyArray<Dimension> =>
  classInf.CLASS_OBJ.map((obj) => ({
    id: text(obj["@id"]),
    name: text(obj["@name"]),
    description: obj["@description"] === undefined ? null : text(obj["@description"]),
    items: (obj.CLASS ?? []).map((c): ClassItem => ({
      code: text(c["@code"]),
      name: text(c["@name"]),
      level: text(c["@level"]),
      unit: c["@unit"] === undefined || c["@unit"] === "" ? null : text(c["@unit"]),
      parentCode: c["@parentCode"] === undefined || c["@parentCode"] === "" ? null : text(c["@parentCode"])
    }))
  }))

type StatsData = NonNullable<typeof GetStatsData.Type["GET_STATS_DATA"]["STATISTICAL_DATA"]>

const resultInfOf = (inf: typeof ResultInf.Type | undefined) => (inf === undefined || inf === "" ? {} : inf)

export const toDataPage = (data: StatsData | undefined): Either.Either<DataPage, string> =>
  pageOf(data, toCells(dataInfOf(data).VALUE))

/**
 * The page from an answer whose VALUE was cut out (`splitValues`) and the pieces of its text. null
 * when the cut went wrong: VALUE not left empty where e-Stat puts it, a piece that is not JSON, or
 * not the number of cells RESULT_INF announces. It stops (`yield`s) before each piece, so that
 * the caller can let the event loop run between pieces; `toDataPageOfPieces` runs it through.
 */
export function* dataPageOfPieces(data: StatsData | undefined, pieces: ReadonlyArray<string>): Generator<void, Either.Either<DataPage, string> | null> {
  const cut = headOfCut(data)
  if (cut === null) return null
  const cells = yield* cellsOfPieces(pieces, columnsFor(cut.expected))
  if (cells === null || (Either.isRight(cells) && cut.expected !== null && cells.right.count !== cut.expected)) return null
  return Either.map(cells, (cells) => ({ ...cut.head, cells }))
}

export const toDataPageOfPieces = (data: StatsData | undefined, pieces: ReadonlyArray<string>): Either.Either<DataPage, string> | null => {
  const steps = dataPageOfPieces(data, pieces)
  for (;;) {
    const step = steps.next()
    if (step.done === true) return step.value
  }
}

/**
 * The page without its cells, from an answer whose VALUE was cut out, and the number of cells
 * RESULT_INF announces (null: it does not say). null when VALUE was not left empty where e-Stat puts it.
 */
export const headOfCut = (data: StatsData | undefined): { readonly head: PageHead; readonly expected: number | null } | null => {
  const value = dataInfOf(data).VALUE
  if (!Array.isArray(value) || value.length > 0) return null
  const result = resultInfOf(data?.RESULT_INF)
  const from = toNumber(result.FROM_NUMBER)
  const to = toNumber(result.TO_NUMBER)
  return { head: headOf(data), expected: from === null || to === null ? null : to - from + 1 }
}

/** Columns sized for what RESULT_INF announces, within e-Stat's 100,000 rows a page (they grow if need be). */
const columnsFor = (expected: number | null) => Math.min(Math.max(expected ?? 0, 0), 100_000)

const dataInfOf = (data: StatsData | undefined) => (data?.DATA_INF === undefined || data.DATA_INF === "" ? {} : data.DATA_INF)

const headOf = (data: StatsData | undefined): PageHead => {
  const result = resultInfOf(data?.RESULT_INF)
  const dataInf = dataInfOf(data)
  return {
    totalNumber: toNumber(result.TOTAL_NUMBER) ?? 0,
    fromNumber: toNumber(result.FROM_NUMBER) ?? 0,
    toNumber: toNumber(result.TO_NUMBER) ?? 0,
    nextKey: toNumber(result.NEXT_KEY),
    notes: (dataInf.NOTE ?? []).map((n) => ({ char: text(n["@char"]), text: text(n.$) })),
    annotations: (dataInf.ANNOTATION ?? []).map((a) => ({ code: text(a["@annotation"]), text: text(a.$) }))
  }
}

const pageOf = (data: StatsData | undefined, cells: Either.Either<DataCells, string>): Either.Either<DataPage, string> =>
  Either.map(cells, (cells) => ({ ...headOf(data), cells }))

const optionalText = (value: unknown) => (value === undefined || value === "" ? null : String(value))

/**
 * VALUE (`object | object[]`, attributes `@<axis>`, `@unit`, `@annotation`, text `$`) into columns.
 * Every cell must carry the same axes as the first; anything else is a broken answer.
 */
export const toCells = (value: unknown): Either.Either<DataCells, string> => {
  const items: ReadonlyArray<unknown> = value === undefined || value === "" ? [] : Array.isArray(value) ? value : [value]
  const cells = cellColumns(items.length)
  for (const item of items) {
    const refused = cells.add(item)
    if (refused !== null) return Either.left(refused)
  }
  return Either.right(cells.take())
}

/**
 * VALUE given as pieces of its text (see `splitValues`), each parsed and put into columns before
 * the next, stopping before each. null when a piece is not JSON: the text was cut in the wrong place.
 */
function* cellsOfPieces(pieces: ReadonlyArray<string>, expected: number): Generator<void, Either.Either<DataCells, string> | null> {
  const cells = cellColumns(expected)
  for (const piece of pieces) {
    yield
    const added = addPiece(cells, piece)
    if (added === null) return null
    if (Either.isLeft(added)) return Either.left(added.left)
  }
  return Either.right(cells.take())
}

/**
 * Puts the cells of one piece of VALUE's text into `cells`. null when the piece is not JSON (the
 * text was cut in the wrong place); the reason when a cell is not like the page's first.
 */
export const addPiece = (cells: CellColumns, piece: string): Either.Either<void, string> | null => {
  const items = parsedArray(`[${piece}]`)
  if (items === null) return null
  for (const item of items) {
    const refused = cells.add(item)
    if (refused !== null) return Either.left(refused)
  }
  return Either.void
}

const parsedArray = (text: string): ReadonlyArray<unknown> | null =>
  Either.getOrNull(Either.try(() => JSON.parse(text) as ReadonlyArray<unknown>))

export type CellColumns = ReturnType<typeof cellColumns>

/**
 * Columns filled cell by cell, sized for `expected` cells (they grow past it if need be), taken
 * whole at the end or a batch at a time (`take`): the page's axes are set by its first cell.
 */
export const cellColumns = (expected: number) => {
  let axes: ReadonlyArray<string> = []
  let dims: ReadonlyArray<Array<string>> = []
  // Codes repeat across a page: keeping one string per distinct code lets the parsed JSON go at once.
  let interned: ReadonlyArray<Map<string, string>> = []
  let unit = new Array<string | null>(expected)
  let annotation = new Array<string | null>(expected)
  let raw = new Array<string>(expected)
  // Cells since the last `take`, and in all.
  let count = 0
  let total = 0
  return {
    /** Adds one cell; the reason when it is not a cell like the first. */
    add: (cell: unknown): string | null => {
      const i = count
      if (!isRecord(cell)) return `VALUE[${total}] is not an object`
      if (total === 0) {
        axes = Object.keys(cell).filter((k) => k.startsWith("@") && k !== "@unit" && k !== "@annotation")
        dims = axes.map(() => new Array<string>(expected))
        interned = axes.map(() => new Map<string, string>())
      }
      const $ = cell["$"]
      if (typeof $ !== "string" && typeof $ !== "number") return `VALUE[${total}] has no value text`
      for (let a = 0; a < axes.length; a++) {
        const code = cell[axes[a]!]
        if (typeof code !== "string" && typeof code !== "number") return `VALUE[${total}] lacks ${axes[a]}`
        const text = typeof code === "string" ? code : String(code)
        const known = interned[a]!.get(text)
        if (known === undefined) interned[a]!.set(text, text)
        dims[a]![i] = known ?? text
      }
      raw[i] = typeof $ === "string" ? $ : String($)
      unit[i] = optionalText(cell["@unit"])
      annotation[i] = optionalText(cell["@annotation"])
      count++
      total++
      return null
    },
    /** How many cells were added since the last `take`. */
    pending: () => count,
    /** The cells added since the last `take`; the next ones go into new columns sized for `next`. */
    take: (next = 0): DataCells => {
      for (const column of [...dims, unit, annotation, raw]) column.length = count
      const taken = { count, dims: Object.fromEntries(axes.map((axis, a) => [axis.slice(1), dims[a]!])), unit, annotation, raw }
      dims = axes.map(() => new Array<string>(next))
      unit = new Array<string | null>(next)
      annotation = new Array<string | null>(next)
      raw = new Array<string>(next)
      count = 0
      return taken
    }
  }
}

const isRecord = (value: unknown): value is Readonly<Record<string, unknown>> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

export const totalOf = (data: StatsData | undefined): number => toNumber(resultInfOf(data?.RESULT_INF).TOTAL_NUMBER) ?? 0

export const listOf = (body: typeof GetStatsList.Type) => {
  const inf = body.GET_STATS_LIST.DATALIST_INF
  const result = resultInfOf(inf?.RESULT_INF)
  return {
    total: toNumber(inf?.NUMBER) ?? 0,
    tables: (inf?.TABLE_INF ?? []).map(toTableInfo),
    nextKey: toNumber(result.NEXT_KEY)
  }
}

/** A page saved by someone: a whole getStatsData answer, `{ "VALUE": [...] }`, or a bare VALUE array. */
export interface SavedPage {
  readonly page: DataPage
  /** From the answer's own TABLE_INF + CLASS_INF, when it has them. */
  readonly meta: { readonly table: TableInfo; readonly dimensions: ReadonlyArray<Dimension> } | null
  readonly statsDataId: string | null
}

const decodeStatsData = Schema.decodeUnknownEither(GetStatsData)

export const decodeSavedPage = (json: unknown): Either.Either<SavedPage, string> => {
  if (isRecord(json) && "GET_STATS_DATA" in json) {
    return Either.flatMap(
      Either.mapLeft(decodeStatsData(json), (e) => `not a getStatsData answer (${e.message.slice(0, 200)})`),
      (body) => {
        const root = body.GET_STATS_DATA
        const status = toNumber(root.RESULT.STATUS) ?? -1
        if (status >= 100) return Either.left(`it is an e-Stat error answer (STATUS ${status}: ${String(root.RESULT.ERROR_MSG ?? "")})`)
        const data = root.STATISTICAL_DATA
        const table = data?.TABLE_INF === undefined ? null : toTableInfo(data.TABLE_INF)
        const meta = table !== null && data?.CLASS_INF !== undefined ? { table, dimensions: toDimensions(data.CLASS_INF) } : null
        const id = table?.statsDataId ?? (root.PARAMETER?.STATS_DATA_ID === undefined ? null : String(root.PARAMETER.STATS_DATA_ID))
        return Either.map(toDataPage(data), (page) => ({ page, meta, statsDataId: id }))
      }
    )
  }
  const values = isRecord(json) && "VALUE" in json ? json["VALUE"] : Array.isArray(json) ? json : undefined
  if (values === undefined) return Either.left("expected a getStatsData answer, an object with VALUE, or an array of VALUE cells")
  return Either.map(toCells(values), (cells) => ({
    page: { totalNumber: cells.count, fromNumber: 1, toNumber: cells.count, nextKey: null, notes: [], annotations: [], cells },
    meta: null,
    statsDataId: null
  }))
}

const ClassItemSchema = Schema.Struct({
  code: Schema.String,
  name: Schema.String,
  level: Schema.String,
  unit: Schema.NullOr(Schema.String),
  parentCode: Schema.NullOr(Schema.String)
})

/** A table's dimension in the domain's shape (also what the page worker thread is sent). */
export const DimensionSchema = Schema.Struct({
  id: Schema.String,
  name: Schema.String,
  description: Schema.NullOr(Schema.String),
  items: Schema.Array(ClassItemSchema)
})
