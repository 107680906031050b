import { Context, type Effect, Option, Schema, type Scope } from "effect"

/**
 * Object storage under one root: S3 (bucket + prefix) or `DATA_DIR`. Keys are relative
 * (`datasets/<id>/<runId>/part-00001.parquet`) and the same on both backends. Locally, no key
 * that is or passes through a symbolic link is read, written, listed or deleted (StorageLinkRefused).
 */

export class StorageNotFound extends Schema.TaggedError<StorageNotFound>()("StorageNotFound", {
  location: Schema.String
}) {
  override get message() {
    return `Nothing is stored at ${this.location}. Check the path (runs are under datasets/<dataset_id>/<run_id>/).`
  }
}

export class StorageAccessDenied extends Schema.TaggedError<StorageAccessDenied>()("StorageAccessDenied", {
  location: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `Access to ${this.location} was denied (${this.reason}). Check the server's permissions on its storage.`
  }
}

export class StorageFailure extends Schema.TaggedError<StorageFailure>()("StorageFailure", {
  operation: Schema.String,
  location: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `Storage could not ${this.operation} ${this.location}: ${this.reason}`
  }
}

/** The storage root the configuration names cannot be used at all (DATA_DIR, S3_BUCKET): the server does not start. */
export class StorageUnusable extends Schema.TaggedError<StorageUnusable>()("StorageUnusable", {
  setting: Schema.String,
  value: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return this.value === "" ? `${this.setting} is not set: ${this.reason}` : `${this.setting} ${this.value} cannot be used: ${this.reason}`
  }
}

/** A key that would leave the storage root (`..`, absolute, backslashes, another bucket) or is empty. */
export class InvalidStorageKey extends Schema.TaggedError<InvalidStorageKey>()("InvalidStorageKey", {
  key: Schema.String,
  root: Schema.optionalWith(Schema.String, { default: () => "" })
}) {
  override get message() {
    const inside = this.root === "" ? "the server's storage" : this.root
    return `"${this.key}" is not a valid storage path: use a path inside ${inside} (no "..", no absolute paths, no encoded separators).`
  }
}

/**
 * A local key that is, or passes through, a symbolic link (local backend). Refused wherever the link
 * leads; `link` is the key of the link itself, inside the data dir: where it points is never told.
 */
export class StorageLinkRefused extends Schema.TaggedError<StorageLinkRefused>()("StorageLinkRefused", {
  location: Schema.String,
  link: Schema.String
}) {
  override get message() {
    return `${this.location} is refused: "${this.link}" in the server's data dir is a symbolic link (or was replaced by one while being opened), ` +
      "and the server reads and writes only real files and folders there. Use a path the server's tools returned, " +
      "or ask the server's operator to replace the link with the file or folder itself."
  }
}

export type StorageError = StorageNotFound | StorageAccessDenied | StorageFailure | InvalidStorageKey | StorageLinkRefused

export interface ObjectInfo {
  readonly key: string
  readonly size: number
  readonly lastModified: Option.Option<Date>
}

export class ObjectStore extends Context.Tag("estat-mcp/ObjectStore")<ObjectStore, {
  /** Where keys live, for messages and outputs: `s3://bucket/prefix` or `file:///abs/data`. */
  readonly root: string
  /** The URI of a key (`s3://bucket/prefix/key`, `file:///abs/data/key`). */
  readonly uri: (key: string) => string
  /** A fresh local file path to prepare content in before `putFile`; removed with the scope if still there. */
  readonly scratchFile: (suffix: string) => Effect.Effect<string, StorageFailure, Scope.Scope>
  /** Stores a finished local file under `key` atomically (rename or multipart upload); the local file is consumed. */
  readonly putFile: (key: string, path: string, contentType: string) => Effect.Effect<ObjectInfo, StorageError>
  /** Stores small content (manifests) atomically. */
  readonly putBytes: (key: string, bytes: Uint8Array, contentType: string) => Effect.Effect<ObjectInfo, StorageError>
  readonly getBytes: (key: string) => Effect.Effect<Uint8Array, StorageError>
  /**
   * A local file with the object's content, for DuckDB to read: the file itself (local; do not
   * change it) or a download streamed to a scratch file removed with the scope (S3).
   */
  readonly localFile: (key: string) => Effect.Effect<string, StorageError, Scope.Scope>
  readonly head: (key: string) => Effect.Effect<Option.Option<ObjectInfo>, StorageError>
  /** Every object whose key starts with `prefix`, sorted by key. */
  readonly list: (prefix: string) => Effect.Effect<ReadonlyArray<ObjectInfo>, StorageError>
  readonly remove: (key: string) => Effect.Effect<void, StorageError>
  /** The first `maxBytes` bytes of an object (inline previews). */
  readonly getRange: (key: string, maxBytes: number) => Effect.Effect<Uint8Array, StorageError>
  /**
   * Where a client can download an object the caller knows is there: a presigned GET URL (S3;
   * `expiresAt` set, served as an attachment named `fileName`) or the file's `file://` URL (local;
   * `expiresAt` null). Nothing is looked up: signing is local.
   */
  readonly downloadUrl: (
    key: string,
    options: { readonly expiresInSeconds: number; readonly fileName: string }
  ) => Effect.Effect<{ readonly url: string; readonly expiresAt: Date | null }, StorageError>
  /**
   * The key a user-given location names: a key, or a URI of this store (`s3://bucket/prefix/…`,
   * `file:///data/…`). Anything outside the store's root is refused.
   */
  readonly keyOf: (location: string) => Effect.Effect<string, InvalidStorageKey>
}>() {}

/** The first key segment no caller may use: where the local store keeps files being written. */
export const SCRATCH = ".tmp"

/** Whether a segment names `folder` on some file system (see isScratchSegment). */
const namesFolder = (segment: string, folder: string) => segment.toLowerCase().replace(/[. ]+$/, "") === folder

/**
 * A segment that names the scratch folder on some file system: macOS and Windows ignore case
 * (`.TMP`), and Windows drops trailing dots and spaces (`.tmp.`).
 */
export const isScratchSegment = (segment: string) => namesFolder(segment, SCRATCH)

/** Where tasks keep their state and results (src/tasks): the server's own, never a location a user names. */
export const TASKS_FOLDER = "tasks"

/** Keys are `/`-separated relative paths of plain segments, outside the scratch space. */
export const isValidKey = (key: string) =>
  key.length > 0 &&
  // The local store's scratch space (in-flight writes, downloads): no caller may name it, on any store.
  !isScratchSegment(key.split("/")[0]!) &&
  key.length <= 1024 &&
  !key.startsWith("/") &&
  !key.includes("\\") &&
  !key.includes("\0") &&
  !/%2f|%5c|%2e%2e/i.test(key) &&
  key.split("/").every((segment) => segment !== "" && segment !== "." && segment !== "..")

/**
 * A user-given location under `root` (a URI ending in `/`), or a bare key: the key, or null when it
 * is outside. `fromUri` reads the rest of a URI as a key (file URLs are percent-encoded).
 */
export const keyUnder = (location: string, root: string, fromUri: (rest: string) => string | null = (rest) => rest): string | null => {
  const key = location.startsWith(root) ? fromUri(location.slice(root.length)) : /^[a-z][a-z0-9+.-]*:/i.test(location) ? null : location
  if (key === null) return null
  const bare = withoutTrailingSlash(key)
  // Tasks' records are reached only through tasks/* requests, which check whose they are.
  return isValidKey(bare) && !namesFolder(bare.split("/")[0]!, TASKS_FOLDER) ? bare : null
}

/** A folder named with its trailing `/` (`datasets/<id>/<runId>/`) is the same key prefix. */
export const withoutTrailingSlash = (key: string) => key.replace(/\/$/, "")

export const isValidPrefix = (prefix: string) => prefix === "" || isValidKey(withoutTrailingSlash(prefix))
