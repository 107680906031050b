import * as nodePath from "node:path"
import { pathToFileURL } from "node:url"
import { Effect, Either, Layer, Option } from "effect"
import { AppConfig } from "../../config.js"
import * as LocalPaths from "./LocalPaths.js"
import { InvalidStorageKey, isValidKey, isValidPrefix, keyUnder, type ObjectInfo, ObjectStore, StorageFailure, type StorageUnusable } from "./ObjectStore.js"

/**
 * ObjectStore on the local file system under `DATA_DIR`. Writes go to `DATA_DIR/.tmp` first
 * and are renamed into place (same file system, so a reader never sees half a file). Every path
 * goes through LocalPaths: no key is, or passes through, a link (see there).
 */
export const make = (dataDir: string, options: { readonly fdPaths?: boolean } = {}) =>
  Effect.gen(function* () {
    const root = nodePath.resolve(dataDir)
    const uri = (key: string) => pathToFileURL(nodePath.join(root, key)).href
    const paths = yield* LocalPaths.make(root, uri, options)

    const validKey = (key: string) => (isValidKey(key) ? Effect.succeed(key) : Effect.fail(new InvalidStorageKey({ key })))
    const withKey = <A, E, R>(key: string, use: (key: string) => Effect.Effect<A, E, R>) => Effect.flatMap(validKey(key), use)
    const infoOf = (key: string, file: { readonly size: number; readonly lastModified: Date }): ObjectInfo => ({
      key,
      size: file.size,
      lastModified: Option.some(file.lastModified)
    })

    return ObjectStore.of({
      root: pathToFileURL(root).href,
      uri,
      scratchFile: (suffix) =>
        Effect.acquireRelease(paths.scratchPath(suffix), paths.removeScratch).pipe(
          Effect.mapError((e) => new StorageFailure({ operation: "create", location: uri(".tmp"), reason: e.message }))
        ),
      putFile: (key, from) => withKey(key, (k) => Effect.map(paths.moveInto(k, from), (file) => infoOf(k, file))),
      putBytes: (key, bytes) =>
        withKey(key, (k) =>
          Effect.flatMap(paths.writeScratch(k, bytes), (temp) =>
            paths.moveInto(k, temp).pipe(Effect.map((file) => infoOf(k, file)), Effect.tapError(() => paths.removeScratch(temp))))),
      getBytes: (key) => withKey(key, (k) => paths.readBytes(k)),
      localFile: (key) => withKey(key, (k) => Effect.map(paths.inspect(k), (file) => file.path)),
      head: (key) =>
        withKey(key, (k) =>
          paths.inspect(k).pipe(
            Effect.map((file) => Option.some(infoOf(k, file))),
            Effect.catchTag("StorageNotFound", () => Effect.succeedNone)
          )),
      list: (prefix) => (isValidPrefix(prefix) ? paths.list(prefix) : Effect.fail(new InvalidStorageKey({ key: prefix }))),
      remove: (key) => withKey(key, paths.remove),
      getRange: (key, maxBytes) => withKey(key, (k) => paths.readBytes(k, maxBytes)),
      downloadUrl: (key) => Effect.map(validKey(key), () => ({ url: uri(key), expiresAt: null })),
      keyOf: (location) => {
        const rootUri = pathToFileURL(root).href + "/"
        // Encoded separators stay refused; the rest of a file URL is percent-decoded.
        const key = keyUnder(location, rootUri, (rest) => (/%2f|%5c/i.test(rest) ? null : decodeOr(rest)))
        return key === null ? Effect.fail(new InvalidStorageKey({ key: location, root: rootUri })) : Effect.succeed(key)
      }
    })
  })

const decodeOr = (text: string) => Either.getOrNull(Either.try(() => decodeURIComponent(text)))

export const layer: Layer.Layer<ObjectStore, StorageUnusable, AppConfig> = Layer.effect(
  ObjectStore,
  Effect.flatMap(AppConfig, (settings) => make(settings.dataDir))
)
