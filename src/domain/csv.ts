import type { CellValue, RowBatch } from "./rows.js"

/**
 * RFC 4180 CSV of row batches. `\N` stands for null (DuckDB's `nullstr`); a real `\N` text is
 * quoted, and DuckDB reads it with `allow_quoted_nulls = false`, so null and text never mix.
 */
export const NULL_TEXT = "\\N"

const needsQuotes = /[",\r\n]/

export const csvField = (value: CellValue): string => {
  if (value === null) return NULL_TEXT
  if (typeof value === "number") return String(value)
  if (value === NULL_TEXT || value === "" || needsQuotes.test(value) || value.startsWith(" ") || value.endsWith(" ")) {
    return `"${value.replaceAll('"', '""')}"`
  }
  return value
}

/** Rows `from` to `to` (exclusive) of a batch as CSV lines, each ending in `\n`. */
export const csvLines = (batch: RowBatch, from: number, to: number): string => {
  const columns = batch.values
  let text = ""
  for (let row = from; row < to; row++) {
    let line = csvField(columns[0]![row] ?? null)
    for (let c = 1; c < columns.length; c++) line += "," + csvField(columns[c]![row] ?? null)
    text += line + "\n"
  }
  return text
}
