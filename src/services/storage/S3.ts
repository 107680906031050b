import { createReadStream, createWriteStream } from "node:fs"
import { rm, stat } from "node:fs/promises"
import { tmpdir } from "node:os"
import { extname, join } from "node:path"
import type { Readable } from "node:stream"
import { pipeline } from "node:stream/promises"
import { randomBytes } from "node:crypto"
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  paginateListObjectsV2,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig
} from "@aws-sdk/client-s3"
import { Upload } from "@aws-sdk/lib-storage"
import { getSignedUrl } from "@aws-sdk/s3-request-presigner"
import { Clock, Context, Duration, Effect, Layer, Option } from "effect"
import { AppConfig, type AppSettings } from "../../config.js"
import {
  InvalidStorageKey,
  isValidKey,
  isValidPrefix,
  keyUnder,
  type ObjectInfo,
  ObjectStore,
  StorageAccessDenied,
  type StorageError,
  StorageFailure,
  StorageNotFound,
  StorageUnusable
} from "./ObjectStore.js"

/**
 * ObjectStore on S3 under `s3://S3_BUCKET/S3_PREFIX`. Files go up with lib-storage's multipart
 * upload (an object appears only when the upload completes); `AWS_ENDPOINT_URL_S3` points the
 * client at another S3 implementation (tests: s3rver).
 */

/** Extra S3 client settings (tests: static credentials for the local S3 server). */
export class S3ClientOverrides extends Context.Reference<S3ClientOverrides>()("estat-mcp/S3ClientOverrides", {
  defaultValue: (): Partial<S3ClientConfig> => ({})
}) {}

const PART_SIZE = 8 * 1024 * 1024
/** S3 checks every upload (each part of a multipart one) against this checksum, computed by the SDK. */
const UPLOAD_CHECKSUM = "CRC32"

/** `S3_PREFIX` as the start of keys: no leading slash, one trailing slash (or nothing). */
export const keyPrefixOf = (s3Prefix: string) => (s3Prefix === "" ? "" : s3Prefix.replace(/^\/+|\/+$/g, "") + "/")

/** The aws backend's S3 client (the store's, the load lock's), destroyed with the scope. */
export const s3Client = (settings: Pick<AppSettings, "awsRegion" | "s3Endpoint">) =>
  Effect.flatMap(S3ClientOverrides, (overrides) =>
    Effect.acquireRelease(
      Effect.sync(() => new S3Client({
        region: settings.awsRegion,
        ...Option.match(settings.s3Endpoint, { onNone: () => ({}), onSome: (endpoint) => ({ endpoint, forcePathStyle: true }) }),
        // Checksums only where S3 requires them: S3-compatible servers reject the newer trailer encoding.
        requestChecksumCalculation: "WHEN_REQUIRED",
        responseChecksumValidation: "WHEN_REQUIRED",
        ...overrides
      })),
      (s3) => Effect.sync(() => s3.destroy())
    ))

export const make = (settings: Pick<AppSettings, "s3Bucket" | "s3Prefix" | "awsRegion" | "s3Endpoint">) =>
  Effect.gen(function* () {
    if (Option.isNone(settings.s3Bucket)) {
      return yield* new StorageUnusable({ setting: "S3_BUCKET", value: "", reason: "the aws backend (ESTAT_MCP_BACKEND=aws) stores everything in a bucket. Set S3_BUCKET." })
    }
    const bucket = settings.s3Bucket.value
    const prefix = keyPrefixOf(settings.s3Prefix)
    const client = yield* s3Client(settings)
    const uri = (key: string) => `s3://${bucket}/${prefix}${key}`
    const objectKey = (key: string) => (isValidKey(key) ? Effect.succeed(prefix + key) : Effect.fail(new InvalidStorageKey({ key })))

    const send = <A>(operation: string, key: string, run: (signal: AbortSignal) => Promise<A>) =>
      Effect.tryPromise({ try: run, catch: (error) => storageError(operation, uri(key), error) })

    yield* usableBucket(bucket, prefix, settings.awsRegion, (abortSignal) =>
      client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, MaxKeys: 1 }), { abortSignal }))

    const head = (key: string): Effect.Effect<Option.Option<ObjectInfo>, StorageError> =>
      Effect.flatMap(objectKey(key), (Key) =>
        send("inspect", key, (abortSignal) => client.send(new HeadObjectCommand({ Bucket: bucket, Key }), { abortSignal })).pipe(
          Effect.map((out): Option.Option<ObjectInfo> => Option.some({ key, size: out.ContentLength ?? 0, lastModified: Option.fromNullable(out.LastModified) })),
          Effect.catchTag("StorageNotFound", () => Effect.succeed(Option.none<ObjectInfo>()))
        ))

    const scratchFile = (suffix: string) =>
      Effect.acquireRelease(
        Effect.map(Clock.currentTimeMillis, (now) => join(tmpdir(), `estat-mcp-${now}-${randomBytes(6).toString("hex")}${suffix}`)),
        (file) => Effect.promise(() => rm(file, { force: true }))
      )

    const putFile = (key: string, path: string, contentType: string) =>
      Effect.gen(function* () {
        const Key = yield* objectKey(key)
        // The size is the local file's: no HEAD after the upload to learn it.
        const { size } = yield* send("upload", key, () => stat(path))
        const upload = new Upload({
          client,
          params: { Bucket: bucket, Key, Body: createReadStream(path), ContentType: contentType, ChecksumAlgorithm: UPLOAD_CHECKSUM },
          partSize: PART_SIZE,
          queueSize: 2,
          leavePartsOnError: false
        })
        yield* send("upload", key, () => upload.done()).pipe(Effect.onInterrupt(() => Effect.promise(() => upload.abort())))
        yield* Effect.promise(() => rm(path, { force: true }))
        return { key, size, lastModified: Option.some(new Date(yield* Clock.currentTimeMillis)) } satisfies ObjectInfo
      })

    const list = (listPrefix: string) =>
      Effect.gen(function* () {
        if (!isValidPrefix(listPrefix)) return yield* new InvalidStorageKey({ key: listPrefix })
        return yield* send("list", listPrefix, async (abortSignal) => {
          const found: Array<ObjectInfo> = []
          for await (const page of paginateListObjectsV2({ client }, { Bucket: bucket, Prefix: prefix + listPrefix }, { abortSignal })) {
            for (const object of page.Contents ?? []) {
              if (object.Key === undefined) continue
              found.push({ key: object.Key.slice(prefix.length), size: object.Size ?? 0, lastModified: Option.fromNullable(object.LastModified) })
            }
          }
          return found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
        })
      })

    return ObjectStore.of({
      root: `s3://${bucket}/${prefix}`,
      uri,
      scratchFile,
      putFile,
      putBytes: (key, bytes, contentType) =>
        Effect.flatMap(objectKey(key), (Key) =>
          send("store", key, (abortSignal) =>
            client.send(new PutObjectCommand({ Bucket: bucket, Key, Body: bytes, ContentType: contentType, ChecksumAlgorithm: UPLOAD_CHECKSUM }), { abortSignal }))).pipe(
          Effect.zipRight(Clock.currentTimeMillis),
          Effect.map((now) => ({ key, size: bytes.byteLength, lastModified: Option.some(new Date(now)) }))
        ),
      getBytes: (key) =>
        Effect.flatMap(objectKey(key), (Key) =>
          send("read", key, async (abortSignal) => {
            const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key }), { abortSignal })
            if (out.Body === undefined) throw new Error("empty response body")
            return out.Body.transformToByteArray()
          })),
      localFile: (key) =>
        Effect.gen(function* () {
          const Key = yield* objectKey(key)
          const file = yield* scratchFile(extname(key))
          yield* send("read", key, async (abortSignal) => {
            const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key }), { abortSignal })
            if (out.Body === undefined) throw new Error("empty response body")
            await pipeline(out.Body as Readable, createWriteStream(file), { signal: abortSignal })
          })
          return file
        }),
      head,
      list,
      remove: (key) =>
        Effect.flatMap(objectKey(key), (Key) =>
          send("delete", key, (abortSignal) => client.send(new DeleteObjectCommand({ Bucket: bucket, Key }), { abortSignal }))).pipe(Effect.asVoid),
      getRange: (key, maxBytes) =>
        Effect.gen(function* () {
          const Key = yield* objectKey(key)
          // No byte asked for: no ranged GET (it would be unsatisfiable), but a missing object is still missing.
          if (maxBytes <= 0) {
            return yield* Effect.flatMap(head(key), Option.match({
              onNone: () => Effect.fail(new StorageNotFound({ location: uri(key) })),
              onSome: () => Effect.succeed(new Uint8Array(0))
            }))
          }
          return yield* send("read", key, async (abortSignal) => {
            const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key, Range: `bytes=0-${maxBytes - 1}` }), { abortSignal })
              .catch((error: { readonly $metadata?: { readonly httpStatusCode?: number } }) => {
                // 416: the object is empty, so no byte is in range.
                if (error.$metadata?.httpStatusCode === 416) return null
                throw error
              })
            if (out === null) return new Uint8Array(0)
            if (out.Body === undefined) throw new Error("empty response body")
            return out.Body.transformToByteArray()
          })
        }),
      downloadUrl: (key, options) =>
        Effect.gen(function* () {
          const Key = yield* objectKey(key)
          // A URL signed with temporary credentials (an ECS task role) dies with them: say so honestly.
          const credentials = yield* send("sign a URL for", key, () => client.config.credentials())
          const now = yield* Clock.currentTimeMillis
          const credentialsLeft = credentials.expiration === undefined ? Infinity : Math.floor((credentials.expiration.getTime() - now) / 1000)
          const expiresIn = Math.max(1, Math.min(options.expiresInSeconds, credentialsLeft))
          const command = new GetObjectCommand({ Bucket: bucket, Key, ResponseContentDisposition: attachment(options.fileName) })
          // Signed at the Clock's time, so the URL expires exactly when expiresAt says.
          const url = yield* send("sign a URL for", key, () => getSignedUrl(client, command, { expiresIn, signingDate: new Date(now) }))
          return { url, expiresAt: new Date(now + expiresIn * 1000) }
        }),
      keyOf: (location) => {
        const key = keyUnder(location, `s3://${bucket}/${prefix}`)
        return key === null ? Effect.fail(new InvalidStorageKey({ key: location, root: `s3://${bucket}/${prefix}` })) : Effect.succeed(key)
      }
    })
  })

/**
 * `attachment` with the name in both forms browsers read (RFC 6266): an ASCII fallback and the
 * UTF-8 name in RFC 8187's `filename*`, whose attr-chars leave out `'()*` that encodeURIComponent keeps.
 */
export const attachment = (fileName: string) =>
  `attachment; filename="${fileName.replace(/[^\x20-\x7e]|["\\]/g, "_")}"; ` +
  `filename*=UTF-8''${encodeURIComponent(fileName).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`

const storageError = (operation: string, location: string, error: unknown) => {
  const details = error as { readonly name?: string; readonly message?: string; readonly $metadata?: { readonly httpStatusCode?: number } }
  const status = details.$metadata?.httpStatusCode
  const reason = `${details.name ?? "Error"}: ${details.message ?? String(error)}`
  if (status === 404 || details.name === "NoSuchKey" || details.name === "NotFound") return new StorageNotFound({ location })
  if (status === 403 || details.name === "AccessDenied") return new StorageAccessDenied({ location, reason })
  return new StorageFailure({ operation, location, reason })
}

/**
 * A bucket that does not exist, or that this role may not list, stops the start with a line naming
 * S3_BUCKET; anything else (the network, a slow endpoint) is only a warning: the first use retries.
 */
const usableBucket = (bucket: string, prefix: string, region: string, list: (signal: AbortSignal) => Promise<unknown>) =>
  Effect.tryPromise({ try: list, catch: (error) => storageError("list", `s3://${bucket}/${prefix}`, error) }).pipe(
    Effect.timeoutFail({ duration: BUCKET_CHECK_TIMEOUT, onTimeout: () => new StorageFailure({ operation: "list", location: `s3://${bucket}/${prefix}`, reason: "no answer within 10 seconds" }) }),
    Effect.catchAll((error) => {
      switch (error._tag) {
        case "StorageNotFound":
          return new StorageUnusable({ setting: "S3_BUCKET", value: bucket, reason: `no such bucket in ${region} (AWS_REGION). Create it or set S3_BUCKET to an existing one.` })
        case "StorageAccessDenied":
          return new StorageUnusable({ setting: "S3_BUCKET", value: bucket, reason: `this server's credentials may not list it (${error.reason}). Grant s3:ListBucket on it.` })
        default:
          return Effect.logWarning(`S3_BUCKET ${bucket} could not be checked at start: ${error.message}`)
      }
    })
  )

const BUCKET_CHECK_TIMEOUT = Duration.seconds(10)

export const layer: Layer.Layer<ObjectStore, StorageFailure | StorageUnusable, AppConfig> = Layer.scoped(
  ObjectStore,
  Effect.flatMap(AppConfig, (settings) => make(settings))
)
