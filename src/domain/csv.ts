import type { CellValue, ColumnSpec, RowBatch } from "./rowBatch.js"

/** RFC 4180 CSV of row batches, in two dialects: one DuckDB reads back, one Excel opens. */
export interface CsvDialect {
  /** How null is written. */
  readonly nullText: string
  readonly lineEnd: "\n" | "\r\n"
}

/**
 * For DuckDB's `read_csv`: `\N` stands for null (`nullstr`), and a real `\N` text is quoted —
 * read with `allow_quoted_nulls = false`, null and text never mix.
 */
export const duckDbDialect: CsvDialect = { nullText: "\\N", lineEnd: "\n" }

/** For people and spreadsheets: null is an empty field. */
export const excelDialect = (lineEnd: "\n" | "\r\n"): CsvDialect => ({ nullText: "", lineEnd })

/** Excel reads a UTF-8 file as UTF-8 only when it starts with a byte order mark. */
export const UTF8_BOM = "\uFEFF"

const needsQuotes = /[",\r\n]/

export const csvField = (value: CellValue, dialect: CsvDialect = duckDbDialect): string => {
  if (value === null) return dialect.nullText
  if (typeof value === "number") return String(value)
  if (value === "\\N" || value === "" || needsQuotes.test(value) || value.startsWith(" ") || value.endsWith(" ")) {
    return `"${value.replaceAll('"', '""')}"`
  }
  return value
}

/** Rows `from` to `to` (exclusive) of a batch as CSV lines. */
export const csvLines = (batch: RowBatch, from: number, to: number, dialect: CsvDialect = duckDbDialect): string => {
  const columns = batch.values
  let text = ""
  for (let row = from; row < to; row++) {
    let line = csvField(columns[0]![row] ?? null, dialect)
    for (let c = 1; c < columns.length; c++) line += "," + csvField(columns[c]![row] ?? null, dialect)
    text += line + dialect.lineEnd
  }
  return text
}

export const csvHeader = (columns: ReadonlyArray<{ readonly name: string }>, dialect: CsvDialect) =>
  columns.map((c) => csvField(c.name, dialect)).join(",") + dialect.lineEnd

/** Rows as CSV bytes in the DuckDB dialect, made a chunk at a time: what DataEngine turns into Parquet. */
export interface CsvRows {
  readonly columns: ReadonlyArray<ColumnSpec>
  readonly count: number
  /** A chunk may be overwritten by the next one: use it before asking for the next. */
  readonly chunks: () => Iterable<Uint8Array>
}

/** A row batch as CsvRows, 10,000 lines a chunk. */
export const csvRowsOfBatch = (batch: RowBatch): CsvRows => ({
  columns: batch.columns,
  count: batch.count,
  chunks: function*() {
    const encoder = new TextEncoder()
    for (let from = 0; from < batch.count; from += 10_000) yield encoder.encode(csvLines(batch, from, Math.min(batch.count, from + 10_000)))
  }
})
