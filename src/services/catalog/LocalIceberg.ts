import { randomBytes, randomUUID } from "node:crypto"
import { Cache, Clock, Data, Duration, Effect, Option, ParseResult, Schema } from "effect"
import {
  currentSnapshot,
  type ManifestEntry,
  manifestEntrySchema,
  type ManifestFile,
  manifestFileSchema,
  newTableMetadata,
  schemaDifferences,
  schemaOf,
  TableMetadata
} from "../../domain/iceberg.js"
import { DataEngine, quoteIdentifier, quoteLiteral } from "../DataEngine.js"
import { CatalogError, CREATE_HINT, type RunToLoad, TableNotFound, withRunId } from "../lakehouse/Lakehouse.js"
import { ObjectStore } from "../storage/ObjectStore.js"
import { decodeAvro, encodeAvro } from "./avro.js"

/**
 * Apache Iceberg v2 tables under `DATA_DIR/warehouse/<database>/<table>/`: Parquet data files
 * with field ids, one Avro manifest and manifest list per snapshot, `metadata/vN.metadata.json`
 * written whole before `version-hint.text` moves to it (both by rename), one snapshot per load.
 * A load records its run id in the snapshot summary: loading a run twice adds nothing.
 */

export interface LoadOutcome {
  readonly recordsLoaded: number
  readonly tableTotalRecords: number
  readonly snapshotId: number
  readonly alreadyLoaded: boolean
  readonly location: string
}

const RUN_ID = "estat.run-id"

/** Snapshot ids are longs; these stay exact as JS numbers. */
const newSnapshotId = () => Number(BigInt(`0x${randomBytes(7).toString("hex")}`) & 0x1f_ffff_ffff_ffffn)

/** How long a database's table list is used before the store is listed again; a commit here lists it again at once. */
const TABLE_LIST_TTL = Duration.seconds(10)
/** Table versions whose data files are remembered (a few paths and the metadata each). */
const VERSIONS_KEPT = 256

const decodeMetadata = Schema.decodeUnknown(Schema.parseJson(TableMetadata))

/** The first thing wrong with the file, and where (the whole ParseError tree would spell out every field's type). */
const firstIssue = (error: ParseResult.ParseError) => {
  const [issue] = ParseResult.ArrayFormatter.formatErrorSync(error)
  return issue === undefined ? error.message : `${issue.path.length === 0 ? "" : `${issue.path.join(".")}: `}${issue.message}`
}

/** The cached value of `key`; a lookup that failed is forgotten, so the next call tries again. */
const cached = <K, A, E>(cache: Cache.Cache<K, A, E>, key: K) => Effect.tapErrorCause(cache.get(key), () => cache.invalidate(key))

export const make = Effect.gen(function* () {
  const store = yield* ObjectStore
  const engine = yield* DataEngine
  // One load at a time per table in this process: a lock made on first use and kept.
  const locks = yield* Cache.make({
    capacity: Number.MAX_SAFE_INTEGER,
    timeToLive: Duration.infinity,
    lookup: (_table: string) => Effect.makeSemaphore(1)
  })

  const tableKey = (database: string, table: string) => `warehouse/${database}/${table}`
  const readText = (key: string) => Effect.map(store.getBytes(key), (bytes) => new TextDecoder().decode(bytes))

  /** The table's current metadata and its version, if the table exists. */
  const current = (base: string) =>
    Effect.gen(function* () {
      const hint = yield* readText(`${base}/metadata/version-hint.text`).pipe(
        Effect.map(Option.some),
        Effect.catchTag("StorageNotFound", () => Effect.succeedNone)
      )
      if (Option.isNone(hint)) return Option.none<{ readonly version: number; readonly metadata: TableMetadata }>()
      const version = Number(hint.value.trim())
      return Option.some({ version, metadata: yield* metadataAt(base, version) })
    })

  const metadataAt = (base: string, version: number) =>
    Effect.flatMap(readText(`${base}/metadata/v${version}.metadata.json`), (text) =>
      Effect.mapError(decodeMetadata(text), (error) =>
        new CatalogError({ table: base, reason: `metadata/v${version}.metadata.json is not Iceberg v2 metadata as this catalog writes it (${firstIssue(error)})` })))

  const manifestsOf = (metadata: TableMetadata) =>
    Effect.gen(function* () {
      const snapshot = currentSnapshot(metadata)
      if (snapshot === undefined) return []
      return yield* decodeAvro<ManifestFile>(yield* store.getBytes(yield* store.keyOf(snapshot["manifest-list"])))
    })

  /** The data files these manifests (a snapshot's) list as added or existing, not deleted. */
  const liveFiles = (manifests: ReadonlyArray<ManifestFile>) =>
    Effect.gen(function* () {
      const entries = yield* Effect.forEach(manifests, (m) =>
        Effect.flatMap(Effect.flatMap(store.keyOf(m.manifest_path), store.getBytes), (bytes) => decodeAvro<ManifestEntry>(bytes)))
      return entries.flat().filter((e) => e.status !== 2).map((e) => e.data_file)
    })

  /** The tables of a database: those with a committed metadata version. */
  const tableLists = yield* Cache.make({
    capacity: 64,
    timeToLive: TABLE_LIST_TTL,
    lookup: (database: string) =>
      Effect.map(store.list(`warehouse/${database}/`), (objects) =>
        objects.flatMap((o) => {
          const match = new RegExp(`^warehouse/${database}/([a-z_][a-z0-9_]*)/metadata/version-hint\\.text$`).exec(o.key)
          return match === null ? [] : [match[1]!]
        }))
  })

  // Committed versions never change: what a version holds, and its data files checked by the store, are read once.
  const versions = yield* Cache.make({
    capacity: VERSIONS_KEPT,
    timeToLive: Duration.infinity,
    lookup: (key: { readonly base: string; readonly version: number }) =>
      Effect.gen(function* () {
        const metadata = yield* metadataAt(key.base, key.version)
        const files = yield* liveFiles(yield* manifestsOf(metadata))
        const keys = yield* Effect.forEach(files, (f) => store.keyOf(f.file_path))
        // Through the store when a version is first read: a data file that is (or sits behind) a link is refused.
        // A link planted after that is not seen: checked at every query instead, 14 files cost 13–36 ms a query,
        // and DuckDB opens them by path after any check anyway (only a local user able to write in DATA_DIR could).
        const paths = yield* Effect.forEach(keys, (key) => Effect.scoped(store.localFile(key)), { concurrency: 8 })
        return { paths, records: files.reduce((sum, f) => sum + f.record_count, 0), metadata }
      })
  })

  const append = (database: string, table: string, run: RunToLoad, options: { readonly create: boolean; readonly mode: "append" | "replace" }) =>
    Effect.gen(function* () {
      const base = tableKey(database, table)
      const name = `${database}.${table}`
      const existing = yield* current(base)
      if (Option.isNone(existing) && !options.create) {
        return yield* new TableNotFound({ table: name, hint: CREATE_HINT })
      }
      const now = yield* Clock.currentTimeMillis
      const columns = withRunId(run.columns)
      const metadata = Option.match(existing, {
        onNone: () => newTableMetadata({ uuid: randomUUID(), location: store.uri(base), schema: schemaOf(columns), now }),
        onSome: (e) => e.metadata
      })
      const schema = metadata.schemas.find((s) => s["schema-id"] === metadata["current-schema-id"])!
      const differences = schemaDifferences(schema, columns)
      if (differences.length > 0) return yield* new CatalogError({ table: name, reason: `the run's columns differ from the table's: ${differences.join("; ")}` })

      const manifests = yield* manifestsOf(metadata)
      const files = yield* liveFiles(manifests)
      const totalBefore = files.reduce((sum, f) => sum + f.record_count, 0)
      const loadedBefore = metadata.snapshots.find((s) => s.summary[RUN_ID] === run.runId)
      if (loadedBefore !== undefined && options.mode === "append") {
        return { recordsLoaded: 0, tableTotalRecords: totalBefore, snapshotId: loadedBefore["snapshot-id"], alreadyLoaded: true, location: metadata.location } satisfies LoadOutcome
      }

      const snapshotId = newSnapshotId()
      const sequence = metadata["last-sequence-number"] + 1
      const fieldIds = `{${schema.fields.map((f) => `${quoteIdentifier(f.name)}: ${f.id}`).join(", ")}}`
      // Data files: the run's parts rewritten with Iceberg field ids, then renamed into the table.
      const dataFiles = yield* Effect.forEach(run.parts, (part, i) =>
        Effect.scoped(Effect.gen(function* () {
          const scratch = yield* store.scratchFile(".parquet")
          const source = yield* store.localFile(part.key)
          yield* engine.query(
            `COPY (SELECT *, ${quoteLiteral(run.runId)} AS run_id FROM read_parquet(${quoteLiteral(source)})) ` +
              `TO ${quoteLiteral(scratch)} (FORMAT parquet, COMPRESSION zstd, FIELD_IDS ${fieldIds})`
          )
          const key = `${base}/data/${run.runId}-${String(i + 1).padStart(5, "0")}-${randomUUID()}.parquet`
          const stored = yield* store.putFile(key, scratch, "application/vnd.apache.parquet")
          return { content: 0, file_path: store.uri(key), file_format: "PARQUET", partition: {}, record_count: part.rows, file_size_in_bytes: stored.size }
        })))
      const added = dataFiles.reduce((sum, f) => sum + f.record_count, 0)
      const avroMeta = {
        schema: JSON.stringify(schema),
        "schema-id": String(schema["schema-id"]),
        "partition-spec": "[]",
        "partition-spec-id": "0",
        "format-version": "2",
        content: "data"
      }
      const manifestBytes = yield* encodeAvro(manifestEntrySchema, dataFiles.map((data_file) => ({
        status: 1, snapshot_id: snapshotId, sequence_number: sequence, file_sequence_number: sequence, data_file
      })), avroMeta)
      const manifestKey = `${base}/metadata/${randomUUID()}-m0.avro`
      yield* store.putBytes(manifestKey, manifestBytes, "application/avro")
      const previous = options.mode === "append" ? manifests : []
      const manifestList: ReadonlyArray<ManifestFile> = [...previous, {
        manifest_path: store.uri(manifestKey), manifest_length: manifestBytes.byteLength, partition_spec_id: 0, content: 0,
        sequence_number: sequence, min_sequence_number: sequence, added_snapshot_id: snapshotId,
        added_files_count: dataFiles.length, existing_files_count: 0, deleted_files_count: 0,
        added_rows_count: added, existing_rows_count: 0, deleted_rows_count: 0
      }]
      const listKey = `${base}/metadata/snap-${snapshotId}-1-${randomUUID()}.avro`
      const parent = metadata["current-snapshot-id"]
      yield* store.putBytes(listKey, yield* encodeAvro(manifestFileSchema, manifestList, {
        "snapshot-id": String(snapshotId), ...(parent === undefined ? {} : { "parent-snapshot-id": String(parent) }),
        "sequence-number": String(sequence), "format-version": "2"
      }), "application/avro")

      const total = (options.mode === "append" ? totalBefore : 0) + added
      const version = Option.match(existing, { onNone: () => 1, onSome: (e) => e.version + 1 })
      const next: TableMetadata = {
        ...metadata,
        "last-sequence-number": sequence,
        "last-updated-ms": now,
        "current-snapshot-id": snapshotId,
        refs: { main: { "snapshot-id": snapshotId, type: "branch" } },
        snapshots: [...metadata.snapshots, {
          "snapshot-id": snapshotId,
          ...(parent === undefined ? {} : { "parent-snapshot-id": parent }),
          "sequence-number": sequence,
          "timestamp-ms": now,
          "manifest-list": store.uri(listKey),
          summary: {
            operation: options.mode === "append" ? "append" : "overwrite",
            [RUN_ID]: run.runId,
            "added-data-files": String(dataFiles.length),
            "added-records": String(added),
            "total-records": String(total),
            "total-data-files": String((options.mode === "append" ? files.length : 0) + dataFiles.length)
          },
          "schema-id": schema["schema-id"]
        }],
        "snapshot-log": [...metadata["snapshot-log"], { "timestamp-ms": now, "snapshot-id": snapshotId }],
        "metadata-log": Option.match(existing, {
          onNone: () => [],
          onSome: (e) => [...metadata["metadata-log"], { "timestamp-ms": metadata["last-updated-ms"], "metadata-file": store.uri(`${base}/metadata/v${e.version}.metadata.json`) }]
        })
      }
      // Commit: the new metadata file first, then the pointer (each an atomic rename).
      yield* store.putBytes(`${base}/metadata/v${version}.metadata.json`, new TextEncoder().encode(JSON.stringify(next, null, 2)), "application/json")
      yield* store.putBytes(`${base}/metadata/version-hint.text`, new TextEncoder().encode(String(version)), "text/plain")
      return { recordsLoaded: added, tableTotalRecords: total, snapshotId, alreadyLoaded: false, location: next.location } satisfies LoadOutcome
    })

  return {
    append: (database: string, table: string, run: RunToLoad, options: { readonly create: boolean; readonly mode: "append" | "replace" }) =>
      Effect.flatMap(locks.get(`${database}.${table}`), (lock) => lock.withPermits(1)(append(database, table, run, options))).pipe(
        Effect.ensuring(tableLists.invalidate(database))
      ),
    /** The tables of a database; listed again after a commit here, or TABLE_LIST_TTL. */
    tables: (database: string) => cached(tableLists, database),
    /** Local paths of the current snapshot's data files (each checked by the store), and their total rows. */
    currentFiles: (database: string, table: string) =>
      Effect.gen(function* () {
        const base = tableKey(database, table)
        const hint = yield* readText(`${base}/metadata/version-hint.text`).pipe(
          Effect.catchTag("StorageNotFound", () => new TableNotFound({ table: `${database}.${table}` }))
        )
        const snapshot = yield* cached(versions, Data.struct({ base, version: Number(hint.trim()) }))
        return { files: snapshot.paths, records: snapshot.records, metadata: snapshot.metadata }
      })
  }
})
