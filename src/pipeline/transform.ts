import { promisify } from "node:util"
import { gunzip } from "node:zlib"
import { Clock, Effect, Either, Option } from "effect"
import type { ColumnSpec } from "../domain/rowBatch.js"
import { missingDimensions, rowBuilder } from "../domain/rows.js"
import { newRunId } from "../domain/runs.js"
import { DataEngine, quoteLiteral } from "../services/DataEngine.js"
import { EStat } from "../services/estat/EStat.js"
import { decodeSavedPage } from "../services/estat/schema.js"
import { ObjectStore } from "../services/storage/ObjectStore.js"
import { RunUnreadable } from "./errors.js"
import { manifestKeyOf, readManifest, requireComplete } from "./runs.js"

/**
 * `transform_to_parquet`: a saved e-Stat page (a getStatsData answer, `{VALUE}` or a bare VALUE
 * array, optionally `.gz`) into the standard row schema, or a complete run into one Parquet file.
 * The output always goes to a new key: the input is never overwritten.
 */

export interface TransformRequest {
  readonly location: string
  /** Key prefix of the output; default `transformed/<dataset_id>/`. */
  readonly outputPrefix: string | null
}

export interface TransformOutcome {
  readonly source: string
  /** The run the source is, or null for a saved page. */
  readonly runId: string | null
  readonly target: string
  readonly records: number
  readonly columns: ReadonlyArray<ColumnSpec>
  readonly statsDataId: string
  /** Rows the source's query matches on e-Stat, when the source says (a page's TOTAL_NUMBER, a run's total). */
  readonly totalRecords: number | null
}

/** A saved page is one page of one answer: 100,000 rows are ~10 MB of JSON; beyond this it is not a page. */
export const MAX_SAVED_PAGE_BYTES = 64 * 1024 * 1024

const gunzipAsync = promisify(gunzip)

export const transformToParquet = (request: TransformRequest) =>
  Effect.gen(function* () {
    const store = yield* ObjectStore
    const key = yield* store.keyOf(request.location)
    const outputPrefix = request.outputPrefix === null ? null : yield* store.keyOf(request.outputPrefix)
    const manifestKey = manifestKeyOf(key)
    const isRun = key.endsWith("manifest.json") || (!/\.json(\.gz)?$/.test(key) && Option.isSome(yield* store.head(manifestKey)))
    const resolved = { ...request, outputPrefix }
    return yield* (isRun ? runToParquet(manifestKey, resolved) : pageToParquet(key, resolved))
  })

/** A new file under the output prefix, named like a run (sortable, unique). */
const targetKey = (request: TransformRequest, statsDataId: string) =>
  Effect.map(Clock.currentTimeMillis, (now) => `${(request.outputPrefix ?? `transformed/${statsDataId}/`).replace(/\/?$/, "/")}${newRunId(now)}.parquet`)

const pageToParquet = (key: string, request: TransformRequest) =>
  Effect.gen(function* () {
    const store = yield* ObjectStore
    const source = store.uri(key)
    const unreadable = (reason: string) => new RunUnreadable({ location: source, reason })
    const info = yield* store.head(key)
    if (Option.isSome(info) && info.value.size > MAX_SAVED_PAGE_BYTES) {
      return yield* unreadable(`it is ${info.value.size} bytes, more than one e-Stat page (at most ${MAX_SAVED_PAGE_BYTES}); convert runs instead`)
    }
    const stored = yield* store.getBytes(key)
    const bytes = key.endsWith(".gz")
      ? yield* Effect.tryPromise({
        try: () => gunzipAsync(stored, { maxOutputLength: MAX_SAVED_PAGE_BYTES }),
        catch: (e) => unreadable(e instanceof RangeError ? `it unpacks to more than ${MAX_SAVED_PAGE_BYTES} bytes` : "it is not valid gzip")
      })
      : stored
    const json = yield* Either.try(() => JSON.parse(new TextDecoder().decode(bytes)) as unknown).pipe(Either.mapLeft(() => unreadable("it is not JSON")))
    const saved = yield* Either.mapLeft(decodeSavedPage(json), unreadable)
    // Without its own metadata, the page's dataset id comes from the answer or from the path (raw/<id>/…).
    const statsDataId = saved.statsDataId ?? /(?:^|\/)(\d{10})(?:\/|$)/.exec(key)?.[1] ?? null
    if (statsDataId === null) {
      return yield* unreadable("it names no dataset; save bare VALUE arrays under a folder named by the dataset id (raw/<dataset_id>/…)")
    }
    const dimensions = saved.meta?.dimensions ?? (yield* (yield* EStat).getMetaInfo(statsDataId)).dimensions
    const missing = missingDimensions(dimensions, saved.page.cells)
    if (missing.length > 0) return yield* unreadable(`its cells lack ${missing.join(", ")}, which dataset ${statsDataId} has: it is not a page of that table`)
    const rows = rowBuilder({ statsDataId, dimensions, withLabels: true })
    const target = yield* targetKey(request, statsDataId)
    yield* Effect.scoped(Effect.gen(function* () {
      const scratch = yield* store.scratchFile(".parquet")
      yield* (yield* DataEngine).writeParquet(rows.csv(saved.page.cells, saved.page.annotations), scratch)
      yield* store.putFile(target, scratch, "application/vnd.apache.parquet")
    }))
    const answered = saved.statsDataId !== null || saved.meta !== null
    return {
      source,
      runId: null,
      target: store.uri(target),
      records: saved.page.cells.count,
      columns: rows.columns,
      statsDataId,
      totalRecords: answered ? saved.page.totalNumber : null
    } satisfies TransformOutcome
  })

/** A run's parts, already in the row schema, as one file (DuckDB streams them; nothing is held whole). */
const runToParquet = (manifestKey: string, request: TransformRequest) =>
  Effect.scoped(Effect.gen(function* () {
    const store = yield* ObjectStore
    const engine = yield* DataEngine
    const manifest = yield* Effect.flatMap(readManifest(manifestKey), (m) => requireComplete(m, store.uri(manifestKey)))
    const parts = yield* Effect.forEach(manifest.pages, (page) => store.localFile(page.key))
    const out = yield* store.scratchFile(".parquet")
    const source = parts.length === 0 ? "(SELECT 1 WHERE false)" : `read_parquet([${parts.map(quoteLiteral).join(", ")}])`
    yield* engine.query(`COPY (SELECT * FROM ${source}) TO ${quoteLiteral(out)} (FORMAT parquet, COMPRESSION zstd)`)
    const [counted] = (yield* engine.query(`SELECT count(*) AS n FROM read_parquet(${quoteLiteral(out)})`)).rows
    const target = yield* targetKey(request, manifest.stats_data_id)
    yield* store.putFile(target, out, "application/vnd.apache.parquet")
    return {
      source: store.uri(manifestKey),
      runId: manifest.run_id,
      target: store.uri(target),
      records: Number(counted?.["n"] ?? 0),
      columns: manifest.columns,
      statsDataId: manifest.stats_data_id,
      totalRecords: manifest.total_records
    } satisfies TransformOutcome
  }))
