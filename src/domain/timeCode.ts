/**
 * Calendar facts in e-Stat time codes (ESTAT-API.md §11): 10 digits, `YYYY` + a 2-digit kind
 * + 4 digits — `2020000000` a year, `2025100000` a fiscal year, `2025000909` a month (written
 * twice), `1994000103` a quarter (first and last month). Labels (`2025年9月`) are the fallback
 * for codes of other shapes.
 */
export interface TimeParts {
  readonly year: number | null
  readonly month: number | null
  readonly quarter: number | null
}

const none: TimeParts = { year: null, month: null, quarter: null }
const quarterOfSpan: Readonly<Record<string, number>> = { "0103": 1, "0406": 2, "0709": 3, "1012": 4 }

export const timeParts = (code: string, label: string | null): TimeParts => {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})$/.exec(code)
  if (m !== null) {
    const [, year, kind, first, last] = m as unknown as [string, string, string, string, string]
    const y = Number(year)
    if (kind === "00" && first === last && Number(first) >= 1 && Number(first) <= 12) {
      return { year: y, month: Number(first), quarter: Math.ceil(Number(first) / 3) }
    }
    const quarter = kind === "00" ? quarterOfSpan[first + last] : undefined
    if (quarter !== undefined) return { year: y, month: null, quarter }
    if (first === "00" && last === "00") return { year: y, month: null, quarter: null }
  }
  return label === null ? none : fromLabel(label)
}

const fromLabel = (label: string): TimeParts => {
  const year = /(\d{4})年/.exec(label)
  if (year === null) return none
  const month = /年(\d{1,2})月(?!期)/.exec(label)
  const quarter = /([1-4１-４])四半期|(\d{1,2})[～~-](\d{1,2})月期/.exec(label)
  const m = month === null ? null : Number(month[1])
  const q = quarter === null
    ? m === null ? null : Math.ceil(m / 3)
    : quarter[1] !== undefined ? Number(quarter[1].normalize("NFKC")) : Math.ceil(Number(quarter[3]) / 3)
  return { year: Number(year[1]), month: m !== null && m >= 1 && m <= 12 ? m : null, quarter: q }
}
