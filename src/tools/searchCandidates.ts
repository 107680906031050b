import { Effect } from "effect"
import type { SearchTablesPage, TableInfo } from "../domain/estat.js"
import { EStat } from "../services/estat/EStat.js"

/** e-Stat's page size for the candidate pool; ranking reads a few pages at most. */
const PAGE = 100

/** How many candidates ranking looks at for `maxResults` results. */
export const poolSize = (maxResults: number) => Math.min(Math.max(maxResults * 3, 30), 300)

const toEStatDate = (date: string) => date.replaceAll("-", "")

/** Candidates for ranking: e-Stat's hits, page after page, until the pool is full or the hits end. */
export const collectCandidates = (input: {
  readonly query: string
  readonly max_results: number
  readonly stats_field?: string | undefined
  readonly stats_code?: string | undefined
  readonly survey_years?: string | undefined
  readonly open_years?: string | undefined
  readonly updated_since?: string | undefined
}) =>
  Effect.gen(function* () {
    const estat = yield* EStat
    const wanted = poolSize(input.max_results)
    const tables: Array<TableInfo> = []
    let total = 0
    let next: number | null = 1
    while (next !== null && tables.length < wanted) {
      const page: SearchTablesPage = yield* estat.searchTables({
        searchWord: input.query,
        statsField: input.stats_field,
        statsCode: input.stats_code,
        surveyYears: input.survey_years,
        openYears: input.open_years,
        updatedDate: input.updated_since === undefined ? undefined : `${toEStatDate(input.updated_since)}-`,
        startPosition: next,
        limit: Math.min(PAGE, wanted - tables.length)
      })
      total = page.total
      tables.push(...page.tables)
      next = page.nextKey
    }
    return { tables, total }
  })
