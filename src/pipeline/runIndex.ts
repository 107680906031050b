import { Effect, Either, Option, Schema } from "effect"
import { datasetPrefix, isRunId, type Manifest, manifestKey } from "../domain/runs.js"
import { ObjectStore } from "../services/storage/ObjectStore.js"
import { RunIndexMemory } from "./runIndexMemory.js"
import { readManifest } from "./runs.js"

/**
 * Which complete runs a dataset has, without listing its folder (every part of every run): one
 * small object per dataset, `cache/runs/<statsDataId>.json`, newest run first, written when a run
 * completes. It is a cache of the manifests: when it is missing or unreadable it is made again
 * from them, and a lost update (two tasks completing runs of one dataset at once) only means a
 * run is not found for reuse.
 */

export const RUN_INDEX_PREFIX = "cache/runs/"
export const runIndexKey = (statsDataId: string) => `${RUN_INDEX_PREFIX}${statsDataId}.json`
/** Older runs stay in storage; only the newest are indexed. */
const KEEP = 20

const IndexedRun = Schema.Struct({
  run_id: Schema.String,
  title: Schema.String,
  fetched_at: Schema.String,
  narrowing: Schema.Record({ key: Schema.String, value: Schema.String }),
  max_records: Schema.NullOr(Schema.Int),
  with_labels: Schema.Boolean,
  total_records: Schema.Int,
  records_fetched: Schema.Int,
  /** null for runs of versions that did not record it: never taken as current. */
  estat_updated_date: Schema.NullOr(Schema.String)
})
export type IndexedRun = typeof IndexedRun.Type

const RunIndexJson = Schema.parseJson(Schema.Struct({ stats_data_id: Schema.String, runs: Schema.Array(IndexedRun) }))

const entryOf = (manifest: Manifest): IndexedRun => ({
  run_id: manifest.run_id,
  title: manifest.title,
  fetched_at: manifest.finished_at,
  narrowing: manifest.query.narrowing,
  max_records: manifest.query.max_records,
  with_labels: manifest.query.with_labels,
  total_records: manifest.total_records,
  records_fetched: manifest.records_fetched,
  estat_updated_date: manifest.estat_updated_date ?? null
})

/** The query a run answers, written one way: keys sorted, the codes of a `cd*` list sorted (e-Stat ANDs dimensions and ORs codes). */
export const queryKey = (query: { readonly narrowing: Readonly<Record<string, string>>; readonly maxRecords: number | null; readonly withLabels: boolean }) =>
  JSON.stringify([
    Object.entries(query.narrowing)
      .map(([name, value]) => [name, /^cd\w+$/.test(name) && !/(From|To)$/.test(name) ? [...new Set(value.split(","))].sort().join(",") : value])
      .sort(([a], [b]) => (a! < b! ? -1 : a! > b! ? 1 : 0)),
    query.maxRecords,
    query.withLabels
  ])

export const queryKeyOf = (run: IndexedRun) => queryKey({ narrowing: run.narrowing, maxRecords: run.max_records, withLabels: run.with_labels })

/** The process's memory of run indexes, where the layers provide one (the server's do). */
const memory = Effect.serviceOption(RunIndexMemory)

const write = (statsDataId: string, runs: ReadonlyArray<IndexedRun>) =>
  Effect.flatMap(ObjectStore, (store) =>
    store.putBytes(
      runIndexKey(statsDataId),
      new TextEncoder().encode(Schema.encodeSync(RunIndexJson)({ stats_data_id: statsDataId, runs: runs.slice(0, KEEP) })),
      "application/json"
    )).pipe(
      Effect.as(Option.some(runs.slice(0, KEEP))),
      Effect.catchAll((error) =>
        Effect.as(Effect.logWarning(`the run index of ${statsDataId} could not be written: ${error.message}`), Option.none<ReadonlyArray<IndexedRun>>())),
      Effect.flatMap((written) => Effect.flatMap(memory, Option.match({ onNone: () => Effect.void, onSome: (known) => known.written(statsDataId, written) })))
    )

/** The manifest keys of a dataset's runs, newest first, from a listing of its folder (every part of every run). */
export const listManifestKeys = (statsDataId: string) =>
  Effect.flatMap(ObjectStore, (store) => store.list(datasetPrefix(statsDataId))).pipe(
    Effect.map((objects) =>
      objects
        .map((o) => o.key)
        .filter((key) => {
          const runId = key.slice(datasetPrefix(statsDataId).length).split("/")[0] ?? ""
          return isRunId(runId) && key === manifestKey(statsDataId, runId)
        })
        .sort()
        .reverse())
  )

/** The index made from the dataset's manifests (newest first), and stored. */
const rebuild = (statsDataId: string) =>
  Effect.gen(function* () {
    const keys = yield* listManifestKeys(statsDataId)
    const manifests = yield* Effect.forEach(keys, (key) => Effect.either(readManifest(key)), { concurrency: 8 })
    const runs = manifests.flatMap((read) => (Either.isRight(read) && read.right.status === "complete" ? [entryOf(read.right)] : []))
    if (runs.length > 0) yield* write(statsDataId, runs)
    return runs
  })

/** The dataset's index as stored: none when it is missing or unreadable. */
const readIndex = (statsDataId: string) =>
  Effect.flatMap(ObjectStore, (store) => store.getBytes(runIndexKey(statsDataId))).pipe(
    Effect.map((bytes) => Either.getRight(Schema.decodeUnknownEither(RunIndexJson)(new TextDecoder().decode(bytes)))),
    Effect.map(Option.map((index) => index.runs)),
    Effect.catchTag("StorageNotFound", () => Effect.succeedNone)
  )

/** The dataset's complete runs, newest first (at most the 20 newest); the index is made again from the manifests when missing. */
export const completeRuns = (statsDataId: string) =>
  Effect.flatMap(readIndex(statsDataId), (runs) => (Option.isSome(runs) ? Effect.succeed(runs.value) : rebuild(statsDataId)))

/**
 * The complete runs the dataset's index lists, for search: read, never made again, so a search
 * never lists a dataset's folder (a dataset with no complete run has no index: no run is known);
 * remembered for a while where the process has a RunIndexMemory.
 */
export const indexedRuns = (statsDataId: string) => {
  const read = Effect.map(readIndex(statsDataId), Option.getOrElse((): ReadonlyArray<IndexedRun> => []))
  return Effect.flatMap(memory, Option.match({
    onNone: () => read,
    onSome: (known) =>
      Effect.flatMap(known.recall(statsDataId), Option.match({
        onSome: Effect.succeed,
        onNone: () => Effect.flatMap(known.readStarts, (start) => Effect.tap(read, (runs) => known.rememberRead(statsDataId, runs, start)))
      }))
  }))
}

/** Adds a run that has just completed to its dataset's index (best effort: the index is a cache). */
export const indexRun = (manifest: Manifest) =>
  completeRuns(manifest.stats_data_id).pipe(
    Effect.flatMap((runs) => write(manifest.stats_data_id, [entryOf(manifest), ...runs.filter((r) => r.run_id !== manifest.run_id)])),
    Effect.catchAll((error) => Effect.logWarning(`the run index of ${manifest.stats_data_id} could not be read: ${error.message}`))
  )

/** The datasets that have an index, i.e. complete runs (one object each: cheap to list). */
export const indexedDatasets = Effect.flatMap(ObjectStore, (store) => store.list(RUN_INDEX_PREFIX)).pipe(
  Effect.map((objects) =>
    objects.flatMap((o) => {
      const id = /^cache\/runs\/(\d{10})\.json$/.exec(o.key)?.[1]
      return id === undefined ? [] : [id]
    }))
)
