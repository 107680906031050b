import { Clock, Duration, Effect, Layer, Option, Schema } from "effect"
import { AppConfig } from "../../config.js"
import type { TableMeta } from "../../domain/estat.js"
import { EStat } from "./EStat.js"
import { DimensionSchema } from "./schema.js"
import { ObjectStore } from "../storage/ObjectStore.js"

/**
 * What e-Stat said about a table's shape (getMetaInfo), remembered: in the ObjectStore under
 * `cache/metadata/<statsDataId>.json`, so every task behind the load balancer (and every restart)
 * shares it, with an in-process LRU in front, bounded by entries and bytes. A copy is used while it
 * is younger than ESTAT_METADATA_TTL and not older than the update date a getStatsList answer
 * listed for the table (`listedUpdate`); otherwise e-Stat is asked again and the copy replaced.
 *
 * It decorates the EStat service, so every caller (search, fetch, filters, transform) shares it.
 * The store is a cache: a copy that cannot be read or written is only a warning, never a failure.
 */

const MEMORY_ENTRIES = 256
/** Metadata of a municipality-level table runs to hundreds of kB; 16 MB keeps the 0.5 GB task safe. */
const MEMORY_BYTES = 16 * 1024 * 1024

const TableMetaSchema = Schema.Struct({
  table: Schema.Struct({
    statsDataId: Schema.String,
    title: Schema.String,
    statisticsName: Schema.String,
    statName: Schema.String,
    statCode: Schema.String,
    govOrg: Schema.String,
    govOrgCode: Schema.String,
    cycle: Schema.String,
    surveyDate: Schema.String,
    openDate: Schema.String,
    updatedDate: Schema.String,
    smallArea: Schema.Boolean,
    collectArea: Schema.String,
    mainCategory: Schema.String,
    mainCategoryCode: Schema.String,
    subCategory: Schema.String,
    subCategoryCode: Schema.String,
    totalRecords: Schema.NullOr(Schema.Number),
    tabulationCategory: Schema.String,
    tableName: Schema.String,
    description: Schema.String
  }),
  dimensions: Schema.Array(DimensionSchema)
}) satisfies Schema.Schema<TableMeta, TableMeta> // the domain's shape: a field added to TableMeta must be added here

/** One stored copy: the metadata and when e-Stat gave it (epoch ms). */
const CachedMeta = Schema.parseJson(Schema.Struct({ fetchedAt: Schema.Number, meta: TableMetaSchema }))
type CachedMeta = typeof CachedMeta.Type

/** Held in memory, a copy takes about twice its UTF-8 JSON (V8 keeps Japanese text as UTF-16). */
const sizeOf = (jsonBytes: number) => 2 * jsonBytes

export const metadataKey = (statsDataId: string) => `cache/metadata/${statsDataId}.json`

/**
 * The stored copy of a table's metadata whatever its age, without asking e-Stat (a search of what
 * is stored); none when there is no readable copy.
 */
export const storedMetadata = (statsDataId: string): Effect.Effect<Option.Option<TableMeta>, never, ObjectStore> =>
  Effect.flatMap(ObjectStore, (store) => store.getBytes(metadataKey(statsDataId))).pipe(
    Effect.flatMap((bytes) => Schema.decodeUnknown(CachedMeta)(new TextDecoder().decode(bytes))),
    Effect.map((copy) => Option.some(copy.meta)),
    Effect.orElseSucceed(() => Option.none<TableMeta>())
  )

/** A bounded LRU of copies by table id (Map keeps insertion order: the first key is the least recent). */
const makeMemory = () => {
  const entries = new Map<string, { readonly copy: CachedMeta; readonly bytes: number }>()
  let bytes = 0
  const drop = (id: string) => {
    const entry = entries.get(id)
    if (entry === undefined) return
    entries.delete(id)
    bytes -= entry.bytes
  }
  return {
    get: (id: string): Option.Option<CachedMeta> => {
      const entry = entries.get(id)
      if (entry === undefined) return Option.none()
      entries.delete(id)
      entries.set(id, entry)
      return Option.some(entry.copy)
    },
    set: (id: string, copy: CachedMeta, size: number) => {
      drop(id)
      // A copy larger than a quarter of the budget would push out everything else: the store keeps it.
      if (size > MEMORY_BYTES / 4) return
      entries.set(id, { copy, bytes: size })
      bytes += size
      for (const oldest of entries.keys()) {
        if (entries.size <= MEMORY_ENTRIES && bytes <= MEMORY_BYTES) break
        drop(oldest)
      }
    }
  }
}

/** EStat with getMetaInfo answered from the cache when a copy is fresh. */
export const cachedMetadata = Layer.effect(
  EStat,
  Effect.gen(function* () {
    const estat = yield* EStat
    const store = yield* ObjectStore
    const ttl = Duration.toMillis((yield* AppConfig).estatMetadataTtl)
    const memory = makeMemory()
    const encode = Schema.encodeSync(CachedMeta)
    const decode = Schema.decodeUnknown(CachedMeta)

    const fresh = (copy: CachedMeta, now: number, listedUpdate: string | undefined) =>
      now - copy.fetchedAt < ttl && (listedUpdate === undefined || listedUpdate <= copy.meta.table.updatedDate)

    const fromStore = (statsDataId: string) =>
      store.getBytes(metadataKey(statsDataId)).pipe(
        Effect.flatMap((bytes) => Effect.map(decode(new TextDecoder().decode(bytes)), (copy) => Option.some({ copy, size: sizeOf(bytes.length) }))),
        Effect.catchAll((error) =>
          error._tag === "StorageNotFound"
            ? Effect.succeedNone
            : Effect.as(Effect.logWarning(`the cached metadata of ${statsDataId} could not be read; asking e-Stat: ${error.message}`), Option.none<{ readonly copy: CachedMeta; readonly size: number }>()))
      )

    const remember = (statsDataId: string, copy: CachedMeta) => {
      const bytes = new TextEncoder().encode(encode(copy))
      memory.set(statsDataId, copy, sizeOf(bytes.length))
      return store.putBytes(metadataKey(statsDataId), bytes, "application/json").pipe(
        Effect.catchAll((error) => Effect.logWarning(`the metadata of ${statsDataId} could not be cached: ${error.message}`)),
        Effect.asVoid
      )
    }

    const getMetaInfo = (statsDataId: string, options?: { readonly listedUpdate?: string }) =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        const listed = options?.listedUpdate
        const inMemory = memory.get(statsDataId).pipe(Option.filter((copy) => fresh(copy, now, listed)))
        if (Option.isSome(inMemory)) {
          yield* Effect.logDebug("metadata cache: hit (memory)")
          return inMemory.value.meta
        }
        const stored = (yield* fromStore(statsDataId)).pipe(Option.filter(({ copy }) => fresh(copy, now, listed)))
        if (Option.isSome(stored)) {
          memory.set(statsDataId, stored.value.copy, stored.value.size)
          yield* Effect.logDebug("metadata cache: hit (store)")
          return stored.value.copy.meta
        }
        const meta = yield* estat.getMetaInfo(statsDataId)
        yield* Effect.logInfo("metadata cache: miss, asked e-Stat")
        yield* remember(statsDataId, { fetchedAt: yield* Clock.currentTimeMillis, meta })
        return meta
      }).pipe(Effect.annotateLogs({ statsDataId }))

    return EStat.of({ ...estat, getMetaInfo })
  })
)
