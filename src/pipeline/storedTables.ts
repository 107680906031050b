import { Effect, Option } from "effect"
import type { TableInfo, TableMeta } from "../domain/estat.js"
import { matchesQuery, searchableText } from "../domain/ranking.js"
import { storedMetadata } from "../services/estat/metadataCache.js"
import { isCurrent } from "./reuse.js"
import { completeRuns, indexedDatasets, type IndexedRun } from "./runIndex.js"

/** What search knows of what is stored (issue 16): each hit's complete run, and a search of stored tables only. */

/** A hit's stored run: the newest complete one, a whole-table run before a filtered one. */
export interface StoredRun {
  readonly run_id: string
  readonly fetched_at: string
  readonly rows: number
  /** Unchanged on e-Stat since (same update date and, whole, total) as far as `table` tells; null when the run did not record its update date. */
  readonly current: boolean | null
}

const isWholeTable = (run: IndexedRun) => Object.keys(run.narrowing).length === 0 && run.max_records === null

const storedRunOf = (table: TableInfo) =>
  completeRuns(table.statsDataId).pipe(
    Effect.map((runs) => Option.fromNullable(runs.find(isWholeTable) ?? runs[0])),
    Effect.map(Option.map((run): StoredRun => ({
      run_id: run.run_id,
      fetched_at: run.fetched_at,
      rows: run.records_fetched,
      current: run.estat_updated_date === null ? null : isCurrent(run, table)
    }))),
    // A search is not refused because storage cannot tell: the hit just says nothing of it.
    Effect.catchAll((error) => Effect.as(Effect.logWarning(`stored runs of ${table.statsDataId} could not be read: ${error.message}`), Option.none<StoredRun>()))
  )

/** The stored run of each table that has one, by statsDataId (storage only, in parallel). */
export const storedRunsOf = (tables: ReadonlyArray<TableInfo>) =>
  Effect.forEach(tables, (table) => Effect.map(storedRunOf(table), (run) => [table.statsDataId, run] as const), { concurrency: 8 }).pipe(
    Effect.map((entries) => new Map(entries.flatMap(([id, run]) => (Option.isSome(run) ? [[id, run.value] as const] : []))))
  )

/** A listing of a table known only from its run (its metadata was never cached): the title is all there is. */
const listingOf = (statsDataId: string, title: string): TableInfo => ({
  statsDataId, title, statisticsName: "", statName: "", statCode: "", govOrg: "", govOrgCode: "", cycle: "", surveyDate: "", openDate: "",
  updatedDate: "", smallArea: false, collectArea: "", mainCategory: "", mainCategoryCode: "", subCategory: "", subCategoryCode: "",
  totalRecords: null, tabulationCategory: "", tableName: "", description: ""
})

export interface StoredSearchFilters {
  readonly statsField?: string | undefined
  readonly statsCode?: string | undefined
  readonly updatedSince?: string | undefined
}

const passes = (table: TableInfo, filters: StoredSearchFilters) =>
  (filters.statsField === undefined || `${table.mainCategoryCode}${table.subCategoryCode}`.startsWith(filters.statsField)) &&
  (filters.statsCode === undefined || (filters.statsCode.length === 5 ? table.govOrgCode : table.statCode) === filters.statsCode) &&
  (filters.updatedSince === undefined || table.updatedDate.replaceAll("-", "") >= filters.updatedSince.replaceAll("-", ""))

/**
 * The stored tables (those with a complete run) matching a query, described by their cached
 * metadata whatever its age, with no e-Stat request; in run-index order.
 */
export const storedCandidates = (query: string, filters: StoredSearchFilters) =>
  Effect.gen(function* () {
    const ids = yield* indexedDatasets
    const described = yield* Effect.forEach(ids, (id) =>
      Effect.all([storedMetadata(id), completeRuns(id).pipe(Effect.orElseSucceed((): ReadonlyArray<IndexedRun> => []))]).pipe(
        Effect.map(([meta, runs]) => ({
          table: Option.match(meta, { onSome: (m) => m.table, onNone: () => listingOf(id, runs[0]?.title ?? "") }),
          meta: Option.getOrUndefined(meta)
        }))
      ), { concurrency: 8 })
    const hits = described.filter(({ meta, table }) => matchesQuery(query, searchableText(table, meta)) && passes(table, filters))
    return {
      tables: hits.map((hit) => hit.table),
      metas: new Map(hits.flatMap((hit): ReadonlyArray<readonly [string, TableMeta]> => (hit.meta === undefined ? [] : [[hit.table.statsDataId, hit.meta]])))
    }
  })
