/**
 * What the explorer shows, read from a tool's structuredContent: the queries of
 * analyze_with_athena or the sample rows of a fetch, each a table of rows. Pure (no DOM), so the
 * server's tests check it too.
 */

export type Cell = string | number | boolean | null
export type Row = Readonly<Record<string, Cell>>

export interface ResultTable {
  readonly title: string
  readonly columns: ReadonlyArray<string>
  readonly rows: ReadonlyArray<Row>
  readonly truncated: boolean
}

export interface Received {
  readonly heading: string
  /** The Iceberg table the rows come from: drill-down asks analyze_with_athena about it again. */
  readonly tableName: string | null
  readonly tables: ReadonlyArray<ResultTable>
  /** e-Stat's names of the dimensions (`cat01` → 男女別), when the result carries them. */
  readonly dimensionNames: Readonly<Record<string, string>>
}

const isRecord = (value: unknown): value is Readonly<Record<string, unknown>> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

const isCell = (value: unknown): value is Cell =>
  value === null || typeof value === "string" || typeof value === "number" || typeof value === "boolean"

const rowsOf = (value: unknown): ReadonlyArray<Row> =>
  Array.isArray(value)
    ? value.filter(isRecord).map((row) => Object.fromEntries(Object.entries(row).filter(([, cell]) => isCell(cell))) as Row)
    : []

const columnsOf = (value: unknown, rows: ReadonlyArray<Row>): ReadonlyArray<string> => {
  const named = Array.isArray(value) ? value.filter(isRecord).map((c) => c["name"]).filter((n): n is string => typeof n === "string") : []
  return named.length > 0 ? named : [...new Set(rows.flatMap((row) => Object.keys(row)))]
}

const TITLES: Readonly<Record<string, string>> = {
  "rows and value statistics": "行数と値の統計",
  "by year": "年別",
  "trend by year": "年別の推移",
  custom: "クエリ結果"
}

/** Japanese titles for the analyses' English ones (`by area` → 地域別). */
export const titleOf = (title: string, names: Readonly<Record<string, string>> = {}): string => {
  const known = TITLES[title]
  if (known !== undefined) return known
  const by = /^by (.+)$/.exec(title)
  if (by?.[1] === undefined) return title
  const label = dimensionLabel(by[1], names)
  return label.endsWith("別") ? label : `${label}別`
}

/** Reads analyze_with_athena's or a fetch tool's structuredContent; undefined for anything else. */
export const receive = (structured: unknown): Received | undefined => {
  if (!isRecord(structured)) return undefined
  if (Array.isArray(structured["queries"])) {
    const tableName = typeof structured["table_name"] === "string" ? structured["table_name"] : null
    const database = typeof structured["database"] === "string" ? `${structured["database"]}.` : ""
    const engine = typeof structured["engine"] === "string" ? `${structured["engine"]}: ` : ""
    return {
      heading: `${engine}${database}${tableName ?? ""}`,
      tableName,
      dimensionNames: {},
      tables: structured["queries"].filter(isRecord).map((query) => {
        const rows = rowsOf(query["rows"])
        return {
          title: titleOf(typeof query["title"] === "string" ? query["title"] : "custom"),
          columns: columnsOf(query["columns"], rows),
          rows,
          truncated: query["truncated"] === true
        }
      })
    }
  }
  if (Array.isArray(structured["sample_rows"])) {
    const dimensionNames = Object.fromEntries((Array.isArray(structured["dimensions"]) ? structured["dimensions"] : [])
      .filter(isRecord)
      .flatMap((d) => typeof d["id"] === "string" && typeof d["name"] === "string" ? [[d["id"], d["name"]] as const] : []))
    const rows = rowsOf(structured["sample_rows"])
    const fetched = typeof structured["records_fetched"] === "number" ? structured["records_fetched"] : rows.length
    return {
      heading: `${typeof structured["title"] === "string" ? structured["title"] : ""} (${String(structured["dataset_id"] ?? "")})`,
      tableName: null,
      dimensionNames,
      tables: [{ title: `先頭 ${rows.length} 行（全 ${fetched.toLocaleString("ja-JP")} 行）`, columns: columnsOf(structured["columns"], rows), rows, truncated: rows.length < fetched }]
    }
  }
  return undefined
}

// ---------------------------------------------------------------- dimensions, time, measures

const DIMENSION_LABELS: Readonly<Record<string, string>> = { tab: "表章項目", area: "地域", time: "時間軸" }

export const dimensionLabel = (id: string, names: Readonly<Record<string, string>> = {}): string =>
  names[id] ?? DIMENSION_LABELS[id] ?? (/^cat(\d+)$/.exec(id) === null ? id : `分類${id.slice(3)}`)

const COLUMN_LABELS: Readonly<Record<string, string>> = {
  time_year: "年", time_month: "月", time_quarter: "四半期",
  value: "値", value_raw: "表示値", unit: "単位", annotation: "注記", total: "合計", average: "平均",
  row_count: "行数", change: "前年差", numeric_values: "数値の行数", min_value: "最小値", max_value: "最大値",
  avg_value: "平均値", stddev_value: "標準偏差", stats_data_id: "統計表ID", run_id: "取得ID"
}

/** A column's Japanese header: `area_name` → 地域, `cat01_code` → 男女別（コード）. */
export const columnLabel = (column: string, names: Readonly<Record<string, string>> = {}): string => {
  const known = COLUMN_LABELS[column]
  if (known !== undefined) return known
  const dim = /^(.+)_(code|name)$/.exec(column)
  if (dim?.[1] !== undefined) return dim[2] === "code" ? `${dimensionLabel(dim[1], names)}（コード）` : dimensionLabel(dim[1], names)
  return column
}

const TIME_COLUMNS = ["time_year", "time_month", "time_quarter", "time_code", "time_name"]

/** A category dimension of a table: its code and label columns (`area_code`, `area_name`). */
export interface Dimension {
  readonly id: string
  readonly label: string
  readonly codeColumn: string | null
  readonly nameColumn: string | null
}

export const dimensionsOf = (table: ResultTable, names: Readonly<Record<string, string>> = {}): ReadonlyArray<Dimension> => {
  const ids = new Set<string>()
  for (const column of table.columns) {
    const dim = /^(.+)_(code|name)$/.exec(column)
    if (dim?.[1] !== undefined && dim[1] !== "time" && dim[1] !== "stats_data") ids.add(dim[1])
  }
  return [...ids].map((id) => ({
    id,
    label: dimensionLabel(id, names),
    codeColumn: table.columns.includes(`${id}_code`) ? `${id}_code` : null,
    nameColumn: table.columns.includes(`${id}_name`) ? `${id}_name` : null
  }))
}

export const hasTime = (table: ResultTable) => table.columns.some((c) => TIME_COLUMNS.includes(c))

const num = (cell: Cell | undefined): number | null => (typeof cell === "number" && Number.isFinite(cell) ? cell : null)

/** A sortable key for a row's time: e-Stat's time code sorts by time (`2024000303`); else year, quarter, month. */
export const timeKey = (row: Row): string => {
  if (typeof row["time_code"] === "string") return row["time_code"]
  const year = num(row["time_year"]) ?? 0
  const month = num(row["time_month"]) ?? (num(row["time_quarter"]) ?? 0) * 3
  return `${String(year).padStart(4, "0")}${String(month).padStart(2, "0")}`
}

/** A row's time in Japanese: e-Stat's own label when present (`2024年3月`), else from the time parts. */
export const timeLabel = (row: Row): string => {
  if (typeof row["time_name"] === "string") return row["time_name"]
  const year = num(row["time_year"])
  const month = num(row["time_month"])
  const quarter = num(row["time_quarter"])
  if (year === null) return String(row["time_code"] ?? "")
  return `${year}年${month !== null ? `${month}月` : quarter !== null ? `第${quarter}四半期` : ""}`
}

const NOT_MEASURES = new Set([...TIME_COLUMNS, "unit", "value_raw", "annotation", "stats_data_id", "run_id"])

/** Columns holding numbers to chart: `value` first, then `total`, then the others in order. */
export const measuresOf = (table: ResultTable): ReadonlyArray<string> => {
  const numeric = table.columns.filter((c) => !NOT_MEASURES.has(c) && !/_(code|name)$/.test(c) &&
    table.rows.some((row) => typeof row[c] === "number"))
  const rank = (c: string) => (c === "value" ? 0 : c === "total" ? 1 : 2)
  return [...numeric].sort((a, b) => rank(a) - rank(b))
}

/** A cell e-Stat withheld or left empty (`-`, `***`, `X`, `…`): no value, but the mark it printed. */
export const suppressedMark = (row: Row, measure: string): string | null => {
  if (measure !== "value" || row["value"] !== null) return null
  const raw = row["value_raw"]
  return typeof raw === "string" && raw.trim() !== "" ? raw : "…"
}

// ---------------------------------------------------------------- what to draw

export interface View {
  /** "time", or the id of the dimension along the x axis. */
  readonly axis: string
  /** The dimension whose values become separate series; null for one series. */
  readonly series: string | null
  readonly measure: string
  /** The value kept for each other dimension that varies (dimension id → code or label). */
  readonly fixed: Readonly<Record<string, string>>
}

const keyOf = (dim: Dimension, row: Row): string => String(row[dim.codeColumn ?? dim.nameColumn ?? ""] ?? "")
const labelOf = (dim: Dimension, row: Row): string => String(row[dim.nameColumn ?? dim.codeColumn ?? ""] ?? "")

/** The distinct values of a dimension in the rows, in order of first appearance. */
export const valuesOf = (dim: Dimension, rows: ReadonlyArray<Row>): ReadonlyArray<{ readonly key: string; readonly label: string }> => {
  const seen = new Map<string, string>()
  for (const row of rows) if (!seen.has(keyOf(dim, row))) seen.set(keyOf(dim, row), labelOf(dim, row))
  return [...seen].map(([key, label]) => ({ key, label }))
}

/** The view a table opens with: over time when it has time, split by its smallest varying dimension; else bars. */
export const defaultView = (table: ResultTable, names: Readonly<Record<string, string>> = {}): View | undefined => {
  const measure = measuresOf(table)[0]
  if (measure === undefined) return undefined
  const varying = dimensionsOf(table, names)
    .map((dim) => ({ dim, count: valuesOf(dim, table.rows).length }))
    .filter((d) => d.count > 1)
  const times = new Set(table.rows.map(timeKey))
  const axis = hasTime(table) && times.size > 1 ? "time" : varying[0]?.dim.id
  if (axis === undefined) return undefined
  const series = axis === "time" ? [...varying].sort((a, b) => a.count - b.count).find((d) => d.count <= 12)?.dim.id ?? null : null
  return { axis, series, measure, fixed: {} }
}

/** The table to open with: the first one that makes a chart (an analysis begins with a one-row statistics table). */
export const firstDrawable = (received: Received): number =>
  Math.max(0, received.tables.findIndex((table) => defaultView(table, received.dimensionNames) !== undefined))

export interface Series {
  readonly name: string
  readonly values: ReadonlyArray<number | null>
}

export interface Suppressed {
  readonly index: number
  readonly series: string
  readonly mark: string
}

export interface ChartData {
  readonly kind: "line" | "bar"
  readonly axisLabel: string
  readonly categories: ReadonlyArray<string>
  /** Per category, the dimension code a drill-down narrows to (bars by a dimension with codes). */
  readonly codes: ReadonlyArray<string | null>
  readonly series: ReadonlyArray<Series>
  readonly suppressed: ReadonlyArray<Suppressed>
  readonly measureLabel: string
  /** The rows' unit(s), e.g. 千人; null when the rows carry none. */
  readonly unit: string | null
  /** What the other varying dimensions are held at, e.g. 男女別: 男女計. */
  readonly heldAt: ReadonlyArray<string>
}

/** The numbers of a view: one point per axis value and series, the other varying dimensions held at one value. */
export const chartData = (table: ResultTable, view: View, names: Readonly<Record<string, string>> = {}): ChartData => {
  const dims = dimensionsOf(table, names)
  const axisDim = dims.find((d) => d.id === view.axis)
  const seriesDim = dims.find((d) => d.id === view.series)
  const held: Array<string> = []
  let rows = table.rows
  for (const dim of dims) {
    if (dim === axisDim || dim === seriesDim) continue
    const values = valuesOf(dim, rows)
    if (values.length <= 1) continue
    const keep = values.find((v) => v.key === view.fixed[dim.id]) ?? values[0]!
    rows = rows.filter((row) => keyOf(dim, row) === keep.key)
    held.push(`${dim.label}: ${keep.label}`)
  }
  if (axisDim === undefined) rows = [...rows].sort((a, b) => timeKey(a).localeCompare(timeKey(b)))
  const axis = new Map<string, { label: string; code: string | null }>()
  for (const row of rows) {
    const key = axisDim === undefined ? timeKey(row) : keyOf(axisDim, row)
    if (!axis.has(key)) {
      axis.set(key, axisDim === undefined
        ? { label: timeLabel(row), code: null }
        : { label: labelOf(axisDim, row), code: axisDim.codeColumn === null ? null : String(row[axisDim.codeColumn] ?? "") })
    }
  }
  const keys = [...axis.keys()]
  const seriesKeys = seriesDim === undefined ? [{ key: "", label: columnLabel(view.measure) }] : valuesOf(seriesDim, rows)
  const suppressed: Array<Suppressed> = []
  const series = seriesKeys.map(({ key, label }) => {
    const values: Array<number | null> = keys.map(() => null)
    for (const row of rows) {
      if (seriesDim !== undefined && keyOf(seriesDim, row) !== key) continue
      const index = keys.indexOf(axisDim === undefined ? timeKey(row) : keyOf(axisDim, row))
      const value = num(row[view.measure])
      if (value !== null) values[index] = (values[index] ?? 0) + value
      const mark = suppressedMark(row, view.measure)
      if (mark !== null) suppressed.push({ index, series: label, mark })
    }
    return { name: label, values }
  })
  const units = [...new Set(rows.map((row) => row["unit"]).filter((u): u is string => typeof u === "string" && u !== ""))]
  return {
    kind: axisDim === undefined ? "line" : "bar",
    axisLabel: axisDim === undefined ? dimensionLabel("time", names) : axisDim.label,
    categories: keys.map((k) => axis.get(k)!.label),
    codes: keys.map((k) => axis.get(k)!.code),
    series,
    suppressed,
    measureLabel: columnLabel(view.measure),
    unit: units.length === 0 ? null : units.join("・"),
    heldAt: held
  }
}

// ---------------------------------------------------------------- table sorting and drill-down

export type Direction = "asc" | "desc"

/** Rows sorted by a column: numbers by value, text in Japanese order, empty cells last either way. */
export const sortRows = (rows: ReadonlyArray<Row>, column: string, direction: Direction): ReadonlyArray<Row> => {
  const sign = direction === "asc" ? 1 : -1
  return [...rows].sort((a, b) => {
    const x = a[column] ?? null
    const y = b[column] ?? null
    if (x === null || y === null) return x === y ? 0 : x === null ? 1 : -1
    if (typeof x === "number" && typeof y === "number") return sign * (x - y)
    return sign * String(x).localeCompare(String(y), "ja")
  })
}

const quoteIdentifier = (name: string) => `"${name.replaceAll('"', '""')}"`
const quoteText = (text: string) => `'${text.replaceAll("'", "''")}'`

/** The analyze_with_athena arguments that show every row of one dimension value (e.g. 東京都) over time. */
export const drillDownArguments = (tableName: string, codeColumn: string, code: string, maxRows = 1000) => ({
  table_name: tableName,
  analysis_type: "custom" as const,
  custom_query: `SELECT * FROM ${quoteIdentifier(tableName)} WHERE ${quoteIdentifier(codeColumn)} = ${quoteText(code)}`,
  max_rows: maxRows
})
