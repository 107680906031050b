import { Effect, Option } from "effect"
import type { TableInfo, TableMeta } from "../domain/estat.js"
import { matchesQuery, searchableText } from "../domain/ranking.js"
import { storedMetadata } from "../services/estat/metadataCache.js"
import { isCurrent } from "./reuse.js"
import { indexedDatasets, indexedRuns, type IndexedRun } from "./runIndex.js"

/** What search knows of what is stored (issue 16): each hit's complete run, and a search of stored tables only. */

/** How many stored datasets are read at once: each holds its metadata (up to hundreds of kB) only while it is matched. */
const CONCURRENCY = 8

/** A hit's stored run: the newest complete one, a whole-table run before a filtered one. */
export interface StoredRun {
  readonly run_id: string
  readonly fetched_at: string
  readonly rows: number
  /** Unchanged on e-Stat since (same update date and, whole, total) as far as `table` tells; null when the run did not record its update date. */
  readonly current: boolean | null
}

const isWholeTable = (run: IndexedRun) => Object.keys(run.narrowing).length === 0 && run.max_records === null

// The index is read, never made again: a search must not list the folder of every hit without one.
const storedRunOf = (table: TableInfo) =>
  indexedRuns(table.statsDataId).pipe(
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
  Effect.forEach(tables, (table) => Effect.map(storedRunOf(table), (run) => [table.statsDataId, run] as const), { concurrency: CONCURRENCY }).pipe(
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

/** A stored dataset's listing when it answers the query and filters; its metadata is read for matching and let go. */
const storedMatch = (statsDataId: string, query: string, filters: StoredSearchFilters) =>
  Effect.gen(function* () {
    const meta = Option.getOrUndefined(yield* storedMetadata(statsDataId))
    const table = meta?.table ??
      listingOf(statsDataId, (yield* indexedRuns(statsDataId).pipe(Effect.orElseSucceed((): ReadonlyArray<IndexedRun> => [])))[0]?.title ?? "")
    return matchesQuery(query, searchableText(table, meta)) && passes(table, filters) ? Option.some(table) : Option.none<TableInfo>()
  })

/**
 * The stored tables (those with a complete run) matching a query, described by their cached
 * metadata whatever its age, with no e-Stat request; in run-index order. Only their listings are
 * kept: the metadata of those ranked is read again with `storedMetadataOf`.
 */
export const storedCandidates = (query: string, filters: StoredSearchFilters) =>
  Effect.flatMap(indexedDatasets, (ids) => Effect.forEach(ids, (id) => storedMatch(id, query, filters), { concurrency: CONCURRENCY })).pipe(
    Effect.map((matches) => matches.flatMap((match) => (Option.isSome(match) ? [match.value] : [])))
  )

/** The cached metadata, whatever its age, of the tables that have a copy, by statsDataId (no e-Stat request). */
export const storedMetadataOf = (tables: ReadonlyArray<TableInfo>) =>
  Effect.forEach(tables, (table) => Effect.map(storedMetadata(table.statsDataId), (meta) => [table.statsDataId, meta] as const), { concurrency: CONCURRENCY }).pipe(
    Effect.map((entries) => new Map(entries.flatMap(([id, meta]): ReadonlyArray<readonly [string, TableMeta]> => (Option.isSome(meta) ? [[id, meta.value]] : []))))
  )
