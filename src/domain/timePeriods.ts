import type { ClassItem } from "./estat.js"
import { timeParts } from "./timeCode.js"

/**
 * Periods a model names for a time dimension ("2022", "2022-04") against the items of the table:
 * years, quarters and months as spans of months, so they compare whatever the table's grain.
 */

/** Months since year 0, so years, quarters and months compare on one line. */
export interface Span { readonly start: number; readonly end: number }

export const spanOf = (item: ClassItem): Span | null => {
  const parts = timeParts(item.code, item.name)
  if (parts.year === null) return null
  const base = parts.year * 12
  if (parts.month !== null) return { start: base + parts.month, end: base + parts.month }
  if (parts.quarter !== null) return { start: base + parts.quarter * 3 - 2, end: base + parts.quarter * 3 }
  return { start: base + 1, end: base + 12 }
}

/** A year (`2022`, `2022年`) or a month (`2022-04`, `202204`, `2022年4月`), as a span of months with its label. */
export const periodOf = (text: string): (Span & { readonly label: string }) | null => {
  const m = /^(\d{4})(?:年)?(?:[-/.]?(\d{1,2})(?:月)?)?$/.exec(text.normalize("NFKC").trim())
  if (m === null) return null
  const year = Number(m[1])
  const month = m[2] === undefined ? null : Number(m[2])
  if (month !== null && (month < 1 || month > 12)) return null
  return month === null
    ? { start: year * 12 + 1, end: year * 12 + 12, label: `${year}` }
    : { start: year * 12 + month, end: year * 12 + month, label: `${year}-${String(month).padStart(2, "0")}` }
}

/** The earliest and the latest item of a time dimension. */
export const rangeOf = (items: ReadonlyArray<ClassItem>) => {
  const spans = items.flatMap((item) => {
    const span = spanOf(item)
    return span === null ? [] : [{ item, span }]
  })
  if (spans.length === 0) return null
  const first = spans.reduce((a, b) => (b.span.start < a.span.start ? b : a))
  const last = spans.reduce((a, b) => (b.span.end > a.span.end ? b : a))
  return { first: first.item, last: last.item }
}
