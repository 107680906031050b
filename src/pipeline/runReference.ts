import { Effect, Either, Schema } from "effect"
import { datasetPrefix, type Manifest, STATS_DATA_ID } from "../domain/runs.js"
import { ObjectStore } from "../services/storage/ObjectStore.js"
import { RunUnreadable } from "./errors.js"
import { listManifestKeys } from "./runIndex.js"
import { manifestKeyOf, readManifest, requireComplete } from "./runs.js"

/**
 * A run named the ways a model names one: its folder or its manifest.json, as a storage key or
 * a `file://`/`s3://` URI — or near it: a dataset's folder (`datasets/<id>/`) or its bare id,
 * which mean that dataset's latest complete run (and the result says so).
 */

export interface ResolvedRun {
  readonly manifest: Manifest
  readonly manifestKey: string
  /** How a dataset reference became a run, for the result; null when a run was named. */
  readonly note: string | null
}

/** What every result resting on a run adds: the run's manifest URI and how it was chosen. */
export const runReferenceFields = {
  run_manifest: Schema.String,
  run_note: Schema.NullOr(Schema.String)
}

/** The dataset a location names as a whole (`0003445078`, `datasets/0003445078/`), if it does. */
const datasetNamed = (location: string) =>
  Effect.gen(function* () {
    const store = yield* ObjectStore
    const trimmed = location.trim()
    if (STATS_DATA_ID.test(trimmed)) return { statsDataId: trimmed, key: null }
    const key = (yield* store.keyOf(trimmed)).replace(/\/+$/, "")
    const folder = /^datasets\/(\d{10})$/.exec(key)
    return { statsDataId: folder?.[1] ?? null, key }
  })

/** The newest complete run of a dataset (run ids sort by time); older versions' unreadable manifests are passed over. */
const latestCompleteRun = (statsDataId: string, named: string) =>
  Effect.gen(function* () {
    const store = yield* ObjectStore
    const prefix = datasetPrefix(statsDataId)
    const manifests = yield* listManifestKeys(statsDataId)
    for (const key of manifests) {
      const read = yield* Effect.either(readManifest(key))
      if (Either.isRight(read) && read.right.status === "complete") {
        const note = `${named} names dataset ${statsDataId}, not a run: used its latest complete run ${read.right.run_id}` +
          (manifests.length > 1 ? ` (of ${manifests.length} runs stored).` : ".")
        return { manifest: read.right, manifestKey: key, note } satisfies ResolvedRun
      }
    }
    return yield* new RunUnreadable({
      location: store.uri(prefix),
      reason: manifests.length === 0
        ? `no run of dataset ${statsDataId} is stored; fetch it with fetch_dataset_auto first`
        : `none of its ${manifests.length} runs is complete; finish one with fetch_large_dataset_complete (resume_run_id) or fetch it again`
    })
  })

/** The complete run a location names (see above). */
export const resolveRun = (location: string) =>
  Effect.gen(function* () {
    const store = yield* ObjectStore
    const named = yield* datasetNamed(location)
    if (named.statsDataId !== null) return yield* latestCompleteRun(named.statsDataId, JSON.stringify(location.trim()))
    const manifestKey = manifestKeyOf(named.key!)
    const manifest = yield* Effect.flatMap(readManifest(manifestKey), (m) => requireComplete(m, store.uri(manifestKey)))
    return { manifest, manifestKey, note: null } satisfies ResolvedRun
  })

/** The output fields of a resolved run. */
export const runReference = (run: ResolvedRun) =>
  Effect.map(ObjectStore, (store) => ({ run_manifest: store.uri(run.manifestKey), run_note: run.note }))

/** A location as a run's manifest when it names a dataset as a whole; other locations (pages, runs) as given. */
export const datasetToRun = (location: string) =>
  Effect.gen(function* () {
    const store = yield* ObjectStore
    const named = yield* datasetNamed(location)
    if (named.statsDataId === null) return { location, note: null }
    const run = yield* latestCompleteRun(named.statsDataId, JSON.stringify(location.trim()))
    return { location: store.uri(run.manifestKey), note: run.note }
  })
