import { Effect, Option } from "effect"
import type { TableMeta } from "../domain/estat.js"
import { type Manifest, manifestKey, runPrefix } from "../domain/runs.js"
import { EStat } from "../services/estat/EStat.js"
import { ObjectStore } from "../services/storage/ObjectStore.js"
import { fetchDataset, type FetchOutcome, type FetchRequest } from "./fetchDataset.js"
import { completeRuns, type IndexedRun, queryKey, queryKeyOf } from "./runIndex.js"
import { readManifest } from "./runs.js"

/**
 * Fetch only what changed (issue 16): a fetch whose query matches a complete run of the dataset,
 * fetched when e-Stat's table had the update date (and, unfiltered, the total) it has now, answers
 * with that run. The check is the table's metadata, through the metadata cache: no e-Stat request
 * while the cached copy is fresh (ESTAT_METADATA_TTL), one getMetaInfo otherwise. `force` fetches
 * a new run regardless; a changed table gets a new run that names the run it replaces.
 */

/** Whether a run still holds what e-Stat has for its query. */
export const isCurrent = (run: IndexedRun, table: { readonly updatedDate: string; readonly totalRecords: number | null }) =>
  run.estat_updated_date !== null &&
  run.estat_updated_date === table.updatedDate &&
  // OVERALL_TOTAL_NUMBER counts the whole table (an unfiltered run's TOTAL_NUMBER, max_records or not); 0/absent (null) says nothing.
  (Object.keys(run.narrowing).length > 0 || table.totalRecords === null || table.totalRecords === run.total_records)

/** The newest complete run of exactly this query (none when storage cannot tell: a fetch is never refused for it). */
export const runOfQuery = (request: Pick<FetchRequest, "statsDataId" | "narrowing" | "maxRecords" | "withLabels">) =>
  completeRuns(request.statsDataId).pipe(
    Effect.map((runs) => Option.fromNullable(runs.find((run) => queryKeyOf(run) === queryKey(request)))),
    Effect.catchAll((error) => Effect.as(Effect.logWarning(`stored runs of ${request.statsDataId} could not be read: ${error.message}`), Option.none<IndexedRun>()))
  )

/** The outcome of a fetch answered by a stored run. */
const reusedOutcome = (manifest: Manifest, meta: TableMeta) =>
  Effect.map(ObjectStore, (store): FetchOutcome => ({
    runId: manifest.run_id,
    reused: true,
    fetchedAt: manifest.finished_at,
    replaces: null,
    meta,
    totalRecords: manifest.total_records,
    expectedRecords: manifest.expected_records,
    recordsFetched: manifest.records_fetched,
    pagesTotal: manifest.pages_total,
    pagesFetchedNow: 0,
    columns: manifest.columns,
    sampleRows: manifest.sample_rows ?? [],
    storage: { manifest: store.uri(manifestKey(manifest.stats_data_id, manifest.run_id)), parquetPrefix: store.uri(runPrefix(manifest.stats_data_id, manifest.run_id)) },
    manifest
  }))

/** fetchDataset, unless a stored run of the same query is current (a run that stores nothing or resumes always fetches). */
export const fetchUnlessCurrent = (request: FetchRequest, options: { readonly force: boolean }) =>
  Effect.gen(function* () {
    if (!request.store || request.resumeRunId !== null) return yield* fetchDataset(request)
    const previous = yield* runOfQuery(request)
    if (Option.isNone(previous)) return yield* fetchDataset(request)
    const meta = request.meta ?? (yield* (yield* EStat).getMetaInfo(request.statsDataId))
    const current = isCurrent(previous.value, meta.table)
    if (current && !options.force) {
      // The run's own record, read now: a run removed since it was indexed is fetched again.
      const manifest = yield* readManifest(manifestKey(request.statsDataId, previous.value.run_id)).pipe(
        Effect.map(Option.some),
        Effect.catchAll(() => Effect.succeedNone)
      )
      if (Option.isSome(manifest) && manifest.value.status === "complete") {
        yield* Effect.logInfo("answered with a stored run: the table is unchanged on e-Stat").pipe(
          Effect.annotateLogs({ statsDataId: request.statsDataId, runId: previous.value.run_id })
        )
        return yield* reusedOutcome(manifest.value, meta)
      }
    }
    const outcome = yield* fetchDataset({ ...request, meta })
    return current ? outcome : {
      ...outcome,
      replaces: { runId: previous.value.run_id, updatedDate: previous.value.estat_updated_date, totalRecords: previous.value.total_records }
    }
  })
