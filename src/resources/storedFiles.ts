import { Effect, Option } from "effect"
import { AppConfig } from "../config.js"
import { isText, mimeTypeOf } from "../domain/fileNames.js"
import { pageOf, type ResourceContents, type ResourceFailure, type ResourceProvider } from "../mcp/resources.js"
import { InternalError, InvalidParams, ResourceNotFound } from "../mcp/rpcErrors.js"
import { ObjectStore, type StorageError } from "../services/storage/ObjectStore.js"
import type { ToolRequirements } from "../tools/registry.js"

/**
 * The files the tools write (CSV under `csv/`, Parquet under `transformed/`, run manifests) as MCP
 * resources, named by their storage URI (`s3://…` or `file://…`): a client without access to the
 * bucket or the disk reads them through `resources/read`, up to MCP_RESOURCE_MAX_BYTES.
 */

const LISTED_PREFIXES = ["csv/", "transformed/"]
const PAGE_SIZE = 100


/** A storage failure as the client sees it; the listing (no `uri`) finds nothing missing, so a not-found there is the server's. */
const fromStorage = (error: StorageError, uri?: string): ResourceFailure =>
  error._tag === "StorageNotFound" && uri !== undefined
    ? new ResourceNotFound({ uri, message: error.message })
    : error._tag === "InvalidStorageKey" || error._tag === "StorageLinkRefused"
    ? new InvalidParams({ message: error.message })
    : new InternalError({ message: error.message })

const isResourceFailure = (e: object): e is ResourceFailure =>
  e instanceof ResourceNotFound || e instanceof InvalidParams || e instanceof InternalError

export const storedFiles: ResourceProvider<ToolRequirements> = {
  templates: [{
    uriTemplate: "{+storage_uri}",
    name: "stored-file",
    description: "A file in the server's storage, by the URI tools return (location, target_path, storage.manifest): s3://… or file://…"
  }],
  list: (cursor) =>
    Effect.gen(function* () {
      const store = yield* ObjectStore
      const all = (yield* Effect.forEach(LISTED_PREFIXES, (prefix) => store.list(prefix))).flat()
      const page = yield* pageOf(all, cursor, PAGE_SIZE)
      return {
        resources: page.items.map((o) => ({ uri: store.uri(o.key), name: o.key.split("/").at(-1) ?? o.key, title: o.key, mimeType: mimeTypeOf(o.key), size: o.size })),
        ...(page.nextCursor === undefined ? {} : { nextCursor: page.nextCursor })
      }
    }).pipe(Effect.mapError((e) => (isResourceFailure(e) ? e : fromStorage(e)))),
  read: (uri) =>
    Effect.gen(function* () {
      const store = yield* ObjectStore
      const config = yield* AppConfig
      const key = yield* store.keyOf(uri)
      const info = yield* Effect.flatMap(store.head(key), Option.match({
        onNone: () => Effect.fail(new ResourceNotFound({ uri, message: `Resource not found: ${uri}` })),
        onSome: Effect.succeed
      }))
      if (info.size > config.resourceMaxBytes) {
        return yield* new InvalidParams({
          message: `${uri} is ${info.size} bytes, over the ${config.resourceMaxBytes}-byte limit of resources/read (MCP_RESOURCE_MAX_BYTES); ` +
            "get a download URL with download_csv_from_s3 instead."
        })
      }
      const bytes = yield* store.getBytes(key)
      const mimeType = mimeTypeOf(key)
      const contents: ResourceContents = isText(mimeType)
        ? { uri, mimeType, text: new TextDecoder().decode(bytes) }
        : { uri, mimeType, blob: Buffer.from(bytes).toString("base64") }
      return [contents]
    }).pipe(Effect.mapError((e) => (isResourceFailure(e) ? e : fromStorage(e, uri))))
}
