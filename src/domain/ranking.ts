import type { TableInfo, TableMeta } from "./estat.js"
import { foldText, searchOperators, splitTerms } from "./text.js"

/**
 * Ranking of search candidates. Weights (sum 1):
 * - relevance 0.70 — share of the query's terms found, per field: title 0.40, statistics /
 *   survey name 0.15, table name / tabulation category 0.10, main / sub category 0.05;
 *   "enhanced" adds dimension names and class labels at 0.15 and rescales by 0.70 / 0.85,
 *   so a table whose dimensions match beats an equal one whose do not (or are unknown).
 * - freshness 0.20 — updated (else opened) date, linear decay to 0 over 10 years.
 * - completeness 0.10 — fields present and a known size.
 */
export type RankingMethod = "basic" | "enhanced"

export interface RankedTable {
  readonly table: TableInfo
  readonly score: number
  readonly rank: number
  /** Query terms found anywhere in the table's description. */
  readonly matched: ReadonlyArray<string>
}

/** The positive terms of a query: operators and NOT-terms left out, folded for matching. */
export const termsOf = (query: string): ReadonlyArray<string> => {
  const terms: Array<string> = []
  let negate = false
  for (const term of splitTerms(query)) {
    if (searchOperators.has(term.toUpperCase()) && term === term.toUpperCase()) {
      negate = term === "NOT"
      continue
    }
    if (!negate) terms.push(foldText(term))
    negate = false
  }
  return [...new Set(terms)]
}

const share = (terms: ReadonlyArray<string>, text: string) => {
  if (terms.length === 0) return 0
  const haystack = foldText(text)
  return terms.filter((t) => haystack.includes(t)).length / terms.length
}

const YEAR_MS = 365.25 * 24 * 3600 * 1000

const freshness = (table: TableInfo, now: Date) => {
  const date = Date.parse(table.updatedDate || table.openDate)
  if (Number.isNaN(date)) return 0.1
  const years = (now.getTime() - date) / YEAR_MS
  return Math.max(0, Math.min(1, 1 - years / 10))
}

const completeness = (table: TableInfo) => {
  const fields = [table.title, table.statisticsName, table.govOrg, table.surveyDate, table.openDate, table.mainCategory]
  const present = fields.filter((f) => f.trim() !== "").length / fields.length
  return 0.7 * present + (table.totalRecords !== null && table.totalRecords > 0 ? 0.3 : 0)
}

const dimensionText = (meta: TableMeta) =>
  meta.dimensions.map((d) => `${d.name} ${d.items.map((i) => i.name).join(" ")}`).join(" ")

const relevance = (terms: ReadonlyArray<string>, table: TableInfo, meta: TableMeta | undefined, method: RankingMethod) => {
  const basic = 0.40 * share(terms, table.title) +
    0.15 * share(terms, `${table.statisticsName} ${table.statName}`) +
    0.10 * share(terms, `${table.tableName} ${table.tabulationCategory}`) +
    0.05 * share(terms, `${table.mainCategory} ${table.subCategory}`)
  if (method === "basic") return basic
  const dimensions = meta === undefined ? 0 : 0.15 * share(terms, dimensionText(meta))
  return (basic + dimensions) * (0.70 / 0.85)
}

const round3 = (n: number) => Math.round(n * 1000) / 1000

export const rankTables = (input: {
  readonly query: string
  readonly tables: ReadonlyArray<TableInfo>
  readonly metas?: ReadonlyMap<string, TableMeta> | undefined
  readonly method: RankingMethod
  readonly now: Date
}): ReadonlyArray<RankedTable> => {
  const terms = termsOf(input.query)
  const scored = input.tables.map((table, order) => {
    const meta = input.metas?.get(table.statsDataId)
    const raw = relevance(terms, table, meta, input.method) +
      0.20 * freshness(table, input.now) +
      0.10 * completeness(table)
    const everything = foldText(searchableText(table, meta))
    return { table, order, score: round3(Math.max(0, Math.min(1, raw))), matched: terms.filter((t) => everything.includes(t)) }
  })
  return scored
    .sort((a, b) => b.score - a.score || a.order - b.order)
    .map(({ matched, score, table }, index) => ({ table, score, rank: index + 1, matched }))
}

/**
 * Whether `text` answers a query as e-Stat reads a search word: terms left to right, joined by a
 * space or AND (both), OR (either) or NOT (not the next), each found in the folded text.
 */
export const matchesQuery = (query: string, text: string): boolean => {
  const haystack = foldText(text)
  let result: boolean | undefined
  let operator = "AND"
  for (const term of splitTerms(query)) {
    if (searchOperators.has(term)) {
      operator = term
      continue
    }
    const hit = haystack.includes(foldText(term))
    result = result === undefined
      ? (operator === "NOT" ? !hit : hit)
      : operator === "OR" ? result || hit : operator === "NOT" ? result && !hit : result && hit
    operator = "AND"
  }
  return result ?? true
}

/** The text a table is searched in: its listing's fields, and its dimensions' names and labels when known. */
export const searchableText = (table: TableInfo, meta: TableMeta | undefined) =>
  `${table.title} ${table.statisticsName} ${table.statName} ${table.tableName} ${table.tabulationCategory} ${table.mainCategory} ${table.subCategory} ` +
  (meta === undefined ? "" : dimensionText(meta))
