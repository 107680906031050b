import { randomBytes } from "node:crypto"
import { pathToFileURL } from "node:url"
import { FileSystem, Path } from "@effect/platform"
import type { PlatformError } from "@effect/platform/Error"
import { Effect, Either, Layer, Option } from "effect"
import { AppConfig } from "../../config.js"
import {
  InvalidStorageKey,
  isValidKey,
  isValidPrefix,
  keyUnder,
  type ObjectInfo,
  ObjectStore,
  StorageAccessDenied,
  StorageFailure,
  StorageNotFound
} from "./ObjectStore.js"

/**
 * ObjectStore on the local file system under `DATA_DIR`. Writes go to `DATA_DIR/.tmp` first
 * and are renamed into place (same file system, so a reader never sees half a file).
 */
export const make = (dataDir: string) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const root = path.resolve(dataDir)
    const scratchDir = path.join(root, ".tmp")
    yield* fs.makeDirectory(scratchDir, { recursive: true }).pipe(
      Effect.mapError((e) => new StorageFailure({ operation: "create", location: scratchDir, reason: e.message }))
    )
    const uri = (key: string) => pathToFileURL(path.join(root, key)).href

    const pathOf = (key: string) =>
      isValidKey(key) ? Effect.succeed(path.join(root, key)) : Effect.fail(new InvalidStorageKey({ key }))

    const failure = (operation: string, key: string) => (error: PlatformError) => {
      const location = uri(key)
      if (error._tag === "SystemError" && error.reason === "NotFound") return new StorageNotFound({ location })
      if (error._tag === "SystemError" && error.reason === "PermissionDenied") {
        return new StorageAccessDenied({ location, reason: error.message })
      }
      return new StorageFailure({ operation, location, reason: error.message })
    }

    const freshScratch = (suffix: string) => path.join(scratchDir, `${Date.now()}-${randomBytes(6).toString("hex")}${suffix}`)

    const infoOf = (key: string, file: string) =>
      Effect.map(fs.stat(file), (info): ObjectInfo => ({
        key,
        size: Number(info.size),
        lastModified: info.mtime
      }))

    const moveInto = (key: string, from: string) =>
      Effect.gen(function* () {
        const target = yield* pathOf(key)
        yield* fs.makeDirectory(path.dirname(target), { recursive: true }).pipe(Effect.mapError(failure("store", key)))
        yield* fs.rename(from, target).pipe(Effect.mapError(failure("store", key)))
        return yield* infoOf(key, target).pipe(Effect.mapError(failure("store", key)))
      })

    const listFiles = (prefix: string) =>
      Effect.gen(function* () {
        if (!isValidPrefix(prefix)) return yield* new InvalidStorageKey({ key: prefix })
        // List the deepest directory the prefix names, then filter by the whole prefix.
        const dir = prefix.includes("/") ? prefix.slice(0, prefix.lastIndexOf("/")) : ""
        const base = path.join(root, dir)
        const exists = yield* fs.exists(base).pipe(Effect.mapError(failure("list", prefix)))
        if (!exists) return []
        const entries = yield* fs.readDirectory(base, { recursive: true }).pipe(Effect.mapError(failure("list", prefix)))
        const keys = entries
          .map((entry) => (dir === "" ? entry : `${dir}/${entry}`).split(path.sep).join("/"))
          .filter((key) => key.startsWith(prefix) && !key.startsWith(".tmp/"))
          .sort()
        const infos = yield* Effect.forEach(keys, (key) =>
          fs.stat(path.join(root, key)).pipe(
            Effect.map((info) => (info.type === "File" ? [{ key, size: Number(info.size), lastModified: info.mtime }] : [])),
            Effect.mapError(failure("list", key))
          ), { concurrency: 16 })
        return infos.flat()
      })

    return ObjectStore.of({
      root: pathToFileURL(root).href,
      uri,
      scratchFile: (suffix) =>
        Effect.acquireRelease(Effect.succeed(freshScratch(suffix)), (file) => Effect.ignore(fs.remove(file, { force: true }))),
      putFile: (key, from) => moveInto(key, from),
      putBytes: (key, bytes) =>
        Effect.gen(function* () {
          const temp = freshScratch(".part")
          yield* fs.writeFile(temp, bytes).pipe(Effect.mapError(failure("store", key)))
          return yield* moveInto(key, temp).pipe(Effect.tapError(() => Effect.ignore(fs.remove(temp, { force: true }))))
        }),
      getBytes: (key) => Effect.flatMap(pathOf(key), (file) => fs.readFile(file).pipe(Effect.mapError(failure("read", key)))),
      localFile: (key) => Effect.flatMap(pathOf(key), (file) => infoOf(key, file).pipe(Effect.mapError(failure("read", key)), Effect.as(file))),
      head: (key) =>
        Effect.flatMap(pathOf(key), (file) =>
          infoOf(key, file).pipe(
            Effect.map(Option.some),
            Effect.catchIf((e) => e._tag === "SystemError" && e.reason === "NotFound", () => Effect.succeedNone),
            Effect.mapError(failure("inspect", key))
          )),
      list: listFiles,
      remove: (key) =>
        Effect.flatMap(pathOf(key), (file) => fs.remove(file, { force: true }).pipe(Effect.mapError(failure("delete", key)))),
      getRange: (key, maxBytes) =>
        Effect.flatMap(pathOf(key), (file) =>
          Effect.scoped(Effect.gen(function* () {
            const handle = yield* fs.open(file, { flag: "r" })
            const buffer = new Uint8Array(maxBytes)
            const read = yield* handle.read(buffer)
            return buffer.subarray(0, Number(read))
          })).pipe(Effect.mapError(failure("read", key)))),
      downloadUrl: (key) => Effect.map(pathOf(key), () => ({ url: uri(key), expiresAt: null })),
      keyOf: (location) => {
        const rootUri = pathToFileURL(root).href + "/"
        // Encoded separators stay refused; the rest of a file URL is percent-decoded.
        const key = keyUnder(location, rootUri, (rest) => (/%2f|%5c/i.test(rest) ? null : decodeOr(rest)))
        return key === null ? Effect.fail(new InvalidStorageKey({ key: location, root: rootUri })) : Effect.succeed(key)
      }
    })
  })

const decodeOr = (text: string) => Either.getOrNull(Either.try(() => decodeURIComponent(text)))

export const layer: Layer.Layer<ObjectStore, StorageFailure, AppConfig | FileSystem.FileSystem | Path.Path> = Layer.effect(
  ObjectStore,
  Effect.flatMap(AppConfig, (settings) => make(settings.dataDir))
)
