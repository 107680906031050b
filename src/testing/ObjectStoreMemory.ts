import * as nodeFs from "node:fs/promises"
import { tmpdir } from "node:os"
import * as nodePath from "node:path"
import { Clock, Effect, Layer, Option, Ref, type Scope } from "effect"
import {
  InvalidStorageKey,
  isValidKey,
  isValidPrefix,
  keyUnder,
  type ObjectInfo,
  ObjectStore,
  StorageFailure,
  StorageNotFound
} from "../services/storage/ObjectStore.js"

/**
 * ObjectStore in memory: objects in a map, keys checked exactly as on S3 and DATA_DIR (same
 * `isValidKey`), and the same outcomes as the S3 store (test/services/objectStoreContract.test.ts
 * runs one suite on all three). Like S3 it is a flat key space: `a/b` and `a/b/c` can both be
 * objects. Local files (`scratchFile`, `localFile`) live in a temp folder removed with the layer.
 */

export interface ObjectStoreMemoryOptions {
  /** The store's name in its URIs: `memory://<name>/<key>` (default `objects`). */
  readonly name?: string
  /** The most bytes held at once; a write past it fails with StorageFailure (default 256 MiB). */
  readonly maxBytes?: number
}

const DEFAULT_MAX_BYTES = 256 * 1024 * 1024

interface StoredObject {
  readonly bytes: Uint8Array
  readonly lastModified: Date
}

const byKey = (a: ObjectInfo, b: ObjectInfo) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)

export const make = (options: ObjectStoreMemoryOptions = {}): Effect.Effect<ObjectStore["Type"], never, Scope.Scope> =>
  Effect.gen(function* () {
    const root = `memory://${options.name ?? "objects"}/`
    const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES
    const uri = (key: string) => root + key
    const objects = yield* Ref.make(new Map<string, StoredObject>())
    const scratchDir = yield* Effect.acquireRelease(
      Effect.promise(() => nodeFs.mkdtemp(nodePath.join(tmpdir(), "estat-mcp-memory-"))),
      (dir) => Effect.promise(() => nodeFs.rm(dir, { recursive: true, force: true }))
    )
    // A counter, not the clock or randomness: names stay unique and tests stay deterministic.
    const scratchCount = yield* Ref.make(0)

    const validKey = (key: string) => (isValidKey(key) ? Effect.succeed(key) : Effect.fail(new InvalidStorageKey({ key })))
    const local = <A>(operation: string, key: string, run: () => Promise<A>) =>
      Effect.tryPromise({
        try: run,
        catch: (error) => new StorageFailure({ operation, location: uri(key), reason: error instanceof Error ? error.message : String(error) })
      })

    const stored = (key: string) =>
      Effect.flatMap(validKey(key), (k) =>
        Effect.flatMap(Ref.get(objects), (map) => {
          const found = map.get(k)
          return found === undefined ? Effect.fail(new StorageNotFound({ location: uri(k) })) : Effect.succeed(found)
        }))

    const put = (key: string, bytes: Uint8Array) =>
      Effect.gen(function* () {
        const k = yield* validKey(key)
        const lastModified = new Date(yield* Clock.currentTimeMillis)
        // A copy: the caller may reuse its buffer, as it may after an upload.
        const object: StoredObject = { bytes: Uint8Array.from(bytes), lastModified }
        const held = yield* Ref.modify(objects, (map) => {
          const total = [...map.values()].reduce((sum, o) => sum + o.bytes.byteLength, 0) - (map.get(k)?.bytes.byteLength ?? 0) + bytes.byteLength
          return total > maxBytes ? [Option.some(total), map] : [Option.none<number>(), new Map(map).set(k, object)]
        })
        if (Option.isSome(held)) {
          return yield* new StorageFailure({
            operation: "store",
            location: uri(k),
            reason: `the in-memory store holds at most ${maxBytes} bytes and this would make ${held.value}. Remove objects or raise maxBytes.`
          })
        }
        return { key: k, size: bytes.byteLength, lastModified: Option.some(lastModified) } satisfies ObjectInfo
      })

    const scratchFile = (suffix: string) =>
      Effect.acquireRelease(
        Effect.map(Ref.getAndUpdate(scratchCount, (n) => n + 1), (n) => nodePath.join(scratchDir, `scratch-${n}${suffix}`)),
        (file) => Effect.promise(() => nodeFs.rm(file, { force: true }))
      )

    return ObjectStore.of({
      root,
      uri,
      scratchFile,
      putFile: (key, path) =>
        Effect.gen(function* () {
          const k = yield* validKey(key)
          const bytes = yield* local("store", k, () => nodeFs.readFile(path))
          const info = yield* put(k, bytes)
          yield* local("store", k, () => nodeFs.rm(path, { force: true }))
          return info
        }),
      putBytes: (key, bytes) => put(key, bytes),
      getBytes: (key) => Effect.map(stored(key), (o) => Uint8Array.from(o.bytes)),
      localFile: (key) =>
        Effect.gen(function* () {
          const object = yield* stored(key)
          const file = yield* scratchFile(nodePath.extname(key))
          yield* local("read", key, () => nodeFs.writeFile(file, object.bytes))
          return file
        }),
      head: (key) =>
        Effect.flatMap(validKey(key), (k) =>
          Effect.map(Ref.get(objects), (map) =>
            Option.map(Option.fromNullable(map.get(k)), (o): ObjectInfo => ({ key: k, size: o.bytes.byteLength, lastModified: Option.some(o.lastModified) })))),
      list: (prefix) =>
        isValidPrefix(prefix)
          ? Effect.map(Ref.get(objects), (map) =>
            [...map.entries()]
              .filter(([key]) => key.startsWith(prefix))
              .map(([key, o]): ObjectInfo => ({ key, size: o.bytes.byteLength, lastModified: Option.some(o.lastModified) }))
              .sort(byKey))
          : Effect.fail(new InvalidStorageKey({ key: prefix })),
      remove: (key) =>
        Effect.flatMap(validKey(key), (k) =>
          Ref.update(objects, (map) => {
            const rest = new Map(map)
            rest.delete(k)
            return rest
          })),
      getRange: (key, maxBytes) => Effect.map(stored(key), (o) => o.bytes.slice(0, Math.max(0, maxBytes))),
      // Nothing outside this process can fetch from memory: the object's URI, which never expires.
      downloadUrl: (key) => Effect.map(validKey(key), (k) => ({ url: uri(k), expiresAt: null })),
      keyOf: (location) => {
        const key = keyUnder(location, root)
        return key === null ? Effect.fail(new InvalidStorageKey({ key: location, root })) : Effect.succeed(key)
      }
    })
  })

/** ObjectStore in memory, emptied (and its local files removed) when the layer is released. */
export const layer = (options: ObjectStoreMemoryOptions = {}): Layer.Layer<ObjectStore> => Layer.scoped(ObjectStore, make(options))
