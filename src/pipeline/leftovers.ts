import { tmpdir } from "node:os"
import { FileSystem, Path } from "@effect/platform"
import { Clock, Duration, Effect, Layer, Option } from "effect"
import { AppConfig } from "../config.js"
import { isRunId, runPrefix } from "../domain/runs.js"
import { ObjectStore } from "../services/storage/ObjectStore.js"

/**
 * What killed processes leave behind. A run records its manifest before its first page, so a
 * run folder with a manifest is always resumable; what is left are (1) run folders of older
 * versions, which wrote the manifest last: parts nobody can resume, and (2) scratch files a
 * kill left half-written.
 */

/** Idle for this long, a leftover belongs to no live process (a part takes seconds, a run's pages arrive every few). */
export const LEFTOVER_AGE = Duration.hours(1)

const PART_FILE = /^part-\d{5}\.parquet$/

/**
 * Removes the run folders of a dataset that hold only parts and no manifest, untouched for
 * `LEFTOVER_AGE`: they cannot be resumed (their query is unknown) and would pass for nothing.
 * Only folders named like a run and holding only parts are touched, never other outputs.
 * Answers the keys removed.
 */
export const sweepOrphanRuns = (statsDataId: string) =>
  Effect.gen(function* () {
    const store = yield* ObjectStore
    const now = yield* Clock.currentTimeMillis
    const datasetPrefix = `datasets/${statsDataId}/`
    const folders = new Map<string, Array<{ readonly key: string; readonly lastModified: Option.Option<Date> }>>()
    for (const object of yield* store.list(datasetPrefix)) {
      const [runId, ...rest] = object.key.slice(datasetPrefix.length).split("/")
      if (runId === undefined) continue
      const entries = folders.get(runId) ?? []
      entries.push({ key: rest.join("/"), lastModified: object.lastModified })
      folders.set(runId, entries)
    }
    const cutoff = now - Duration.toMillis(LEFTOVER_AGE)
    const orphans = [...folders].filter(([runId, entries]) =>
      isRunId(runId) &&
      entries.every((e) => PART_FILE.test(e.key)) &&
      entries.every((e) => Option.exists(e.lastModified, (date) => date.getTime() < cutoff))
    )
    const keys = orphans.flatMap(([runId, entries]) => entries.map((e) => `${runPrefix(statsDataId, runId)}${e.key}`))
    yield* Effect.forEach(keys, store.remove, { concurrency: 8, discard: true })
    if (keys.length > 0) {
      yield* Effect.logInfo("removed the parts of runs without a manifest").pipe(
        Effect.annotateLogs({ statsDataId, runs: orphans.map(([runId]) => runId), parts: keys.length })
      )
    }
    return keys
  })

/**
 * The scratch files of the configured backend's storage (`DATA_DIR/.tmp/*` locally, the
 * system temp folder's `estat-mcp-*` for S3 uploads) older than `LEFTOVER_AGE`. The age keeps
 * another live process's files (a shared DATA_DIR) safe. Answers the files removed.
 */
export const sweepScratchFiles = () =>
  Effect.gen(function* () {
    const config = yield* AppConfig
    const now = yield* Clock.currentTimeMillis
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    // Where the storage layers put their scratch files (storage/LocalFs.ts, storage/S3.ts).
    const [dir, prefix] = config.backend === "local" ? [path.join(path.resolve(config.dataDir), ".tmp"), ""] : [tmpdir(), "estat-mcp-"]
    if (!(yield* fs.exists(dir))) return []
    // A scratch folder that is a link (planted in DATA_DIR) would make the sweep delete elsewhere.
    if (config.backend === "local" && (yield* fs.realPath(dir)) !== path.join(yield* fs.realPath(path.dirname(dir)), ".tmp")) {
      yield* Effect.logWarning("DATA_DIR/.tmp is a link: its files are not swept").pipe(Effect.annotateLogs({ dir }))
      return []
    }
    const cutoff = now - Duration.toMillis(LEFTOVER_AGE)
    const names = (yield* fs.readDirectory(dir)).filter((name) => name.startsWith(prefix))
    const stale = yield* Effect.filter(names, (name) =>
      fs.stat(path.join(dir, name)).pipe(
        Effect.map((info) => info.type === "File" && Option.exists(info.mtime, (date) => date.getTime() < cutoff)),
        // Gone meanwhile (another process's file finished): nothing to sweep.
        Effect.catchTag("SystemError", () => Effect.succeed(false))
      ), { concurrency: 16 })
    const files = stale.map((name) => path.join(dir, name))
    yield* Effect.forEach(files, (file) => fs.remove(file, { force: true }), { concurrency: 16, discard: true })
    if (files.length > 0) yield* Effect.logInfo("removed scratch files left by an earlier process").pipe(Effect.annotateLogs({ dir, files: files.length }))
    return files
  })

/** Sweeps stale scratch files once, when the services start; a failed sweep is logged, never fatal. */
export const scratchSweptLayer: Layer.Layer<never, never, AppConfig | FileSystem.FileSystem | Path.Path> = Layer.effectDiscard(
  sweepScratchFiles().pipe(
    Effect.catchAll((error) => Effect.logWarning("could not sweep stale scratch files").pipe(Effect.annotateLogs({ error: error.message })))
  )
)

/**
 * Removes the parts in a run's folder that its manifest does not list (stored after its last
 * checkpoint, before a kill); the resume fetches those pages again. Other files are left alone.
 */
export const removeUnlistedParts = (statsDataId: string, runId: string, listed: ReadonlySet<string>) =>
  Effect.gen(function* () {
    const store = yield* ObjectStore
    const prefix = runPrefix(statsDataId, runId)
    const unlisted = (yield* store.list(prefix))
      .map((object) => object.key)
      .filter((key) => PART_FILE.test(key.slice(prefix.length)) && !listed.has(key))
    yield* Effect.forEach(unlisted, store.remove, { concurrency: 8, discard: true })
    return unlisted
  })
