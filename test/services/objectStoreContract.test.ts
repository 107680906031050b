import { existsSync, readFileSync, writeFileSync } from "node:fs"
import * as nodeFs from "node:fs/promises"
import { tmpdir } from "node:os"
import * as nodePath from "node:path"
import { Effect, Layer, Option } from "effect"
import { describe, expect, layer } from "@effect/vitest"
import { defaultSettings } from "../../src/config.js"
import * as LocalFs from "../../src/services/storage/LocalFs.js"
import { ObjectStore } from "../../src/services/storage/ObjectStore.js"
import * as S3 from "../../src/services/storage/S3.js"
import { ObjectStoreMemory } from "../../src/testing/index.js"
import { s3rver, s3rverCredentials, TEST_BUCKET } from "../support/s3rver.js"

/**
 * One contract, three implementations: ObjectStore in memory, on local files (LocalFs) and on S3
 * (s3rver on 127.0.0.1). A mock that drifts from the live behaviour fails here. Where a file system
 * cannot behave like an object store, the difference is a named property of the implementation.
 */

interface Implementation {
  readonly name: string
  readonly layer: Layer.Layer<ObjectStore>
  /** `a/b` and `a/b/c` can both be objects (object stores); on a file system `a/b` is a file or a folder. */
  readonly flatKeys: boolean
  /** What `downloadUrl` gives: the object's URI that never expires, or a presigned HTTP URL that does. */
  readonly download: "uri" | "presigned"
  /**
   * A ranged read of an empty object can be checked. s3rver answers it with a 206 that promises one
   * byte and sends none (the connection aborts); S3 answers 416 InvalidRange, which S3.getRange reads as no bytes.
   */
  readonly rangesEmptyObjects: boolean
}

const localFs = Layer.scoped(ObjectStore, Effect.gen(function* () {
  const dir = yield* Effect.acquireRelease(
    Effect.promise(() => nodeFs.mkdtemp(nodePath.join(tmpdir(), "estat-contract-"))),
    (dir) => Effect.promise(() => nodeFs.rm(dir, { recursive: true, force: true }))
  )
  return yield* LocalFs.make(nodePath.join(dir, "data"))
})).pipe(Layer.orDie)

/** The live S3 store as the aws backend builds it (bucket + prefix `lake`), against s3rver. */
const s3 = Layer.scoped(ObjectStore, Effect.gen(function* () {
  const { endpoint } = yield* s3rver
  return yield* S3.make({ ...defaultSettings, s3Bucket: Option.some(TEST_BUCKET), s3Prefix: "lake", s3Endpoint: Option.some(endpoint) })
})).pipe(Layer.provide(Layer.succeed(S3.S3ClientOverrides, { credentials: s3rverCredentials })), Layer.orDie)

const implementations: ReadonlyArray<Implementation> = [
  { name: "in memory", layer: ObjectStoreMemory.layer(), flatKeys: true, download: "uri", rangesEmptyObjects: true },
  { name: "LocalFs (temp dir)", layer: localFs, flatKeys: false, download: "uri", rangesEmptyObjects: true },
  { name: "S3 (s3rver)", layer: s3, flatKeys: true, download: "presigned", rangesEmptyObjects: false }
]

const bytes = (text: string) => new TextEncoder().encode(text)
const text = (content: Uint8Array) => new TextDecoder().decode(content)
const put = (key: string, content: string) => Effect.flatMap(ObjectStore, (store) => store.putBytes(key, bytes(content), "text/plain"))
const keysOf = (prefix: string) => Effect.map(Effect.flatMap(ObjectStore, (store) => store.list(prefix)), (found) => found.map((o) => o.key))

const invalidKeys = ["", ".", "..", "../x", "a/../b", "a/./b", "/abs", "/etc/passwd", "a\\b", "..\\x", "a%2Fb", "a%2fb", "a%5Cb", "%2e%2e/x", "a//b", "a/", "a\0b", "x".repeat(1025)]
const invalidPrefixes = ["..", "../", "../x", "/abs", "a//", "a//b", "a\\b", "%2e%2e/", "a/../b/"]

for (const implementation of implementations) {
  describe(`ObjectStore contract: ${implementation.name}`, () => {
    layer(implementation.layer)((it) => {
      it.effect("putBytes then getBytes, head and list give back the content, its size and a time; an empty object too", () =>
        Effect.gen(function* () {
          const store = yield* ObjectStore
          const stored = yield* put("round/人口 2020.csv", "a,b\n1,2\n")
          expect(stored).toMatchObject({ key: "round/人口 2020.csv", size: 8 })
          expect(Option.isSome(stored.lastModified)).toBe(true)
          expect(text(yield* store.getBytes("round/人口 2020.csv"))).toBe("a,b\n1,2\n")
          const head = yield* store.head("round/人口 2020.csv")
          expect(Option.map(head, (o) => [o.key, o.size, Option.isSome(o.lastModified)])).toEqual(Option.some(["round/人口 2020.csv", 8, true]))
          yield* store.putBytes("round/empty", new Uint8Array(0), "application/octet-stream")
          expect((yield* store.getBytes("round/empty")).byteLength).toBe(0)
          const listed = yield* store.list("round/")
          expect(listed.map((o) => [o.key, o.size])).toEqual([["round/empty", 0], ["round/人口 2020.csv", 8]])
        }))

      it.effect("a second put replaces the object, and the store keeps no view of the caller's buffer", () =>
        Effect.gen(function* () {
          const store = yield* ObjectStore
          const buffer = bytes("first version")
          yield* store.putBytes("over/x.json", buffer, "application/json")
          buffer[0] = 0x46
          const read = yield* store.getBytes("over/x.json")
          expect(text(read)).toBe("first version")
          read[0] = 0x58
          expect(text(yield* store.getBytes("over/x.json"))).toBe("first version")
          yield* put("over/x.json", "v2")
          expect(text(yield* store.getBytes("over/x.json"))).toBe("v2")
          expect(Option.map(yield* store.head("over/x.json"), (o) => o.size)).toEqual(Option.some(2))
          expect((yield* store.list("over/")).map((o) => [o.key, o.size])).toEqual([["over/x.json", 2]])
        }))

      it.effect("list: sorted by key, by plain prefix (a partial segment too), a trailing slash names a folder", () =>
        Effect.gen(function* () {
          for (const key of ["ls/b/2.csv", "ls/a.txt", "ls/ab/1.csv", "ls/a/x.csv", "ls/b/1.csv", "ls/Z.csv", "lsx/other"]) {
            yield* put(key, key)
          }
          expect(yield* keysOf("ls/")).toEqual(["ls/Z.csv", "ls/a.txt", "ls/a/x.csv", "ls/ab/1.csv", "ls/b/1.csv", "ls/b/2.csv"])
          expect(yield* keysOf("ls/a")).toEqual(["ls/a.txt", "ls/a/x.csv", "ls/ab/1.csv"])
          expect(yield* keysOf("ls/a/")).toEqual(["ls/a/x.csv"])
          expect(yield* keysOf("ls")).toEqual(["ls/Z.csv", "ls/a.txt", "ls/a/x.csv", "ls/ab/1.csv", "ls/b/1.csv", "ls/b/2.csv", "lsx/other"])
          expect(yield* keysOf("ls/b/1")).toEqual(["ls/b/1.csv"])
          expect(yield* keysOf("ls/b/1.csv")).toEqual(["ls/b/1.csv"])
          expect(yield* keysOf("ls/nothing/")).toEqual([])
          expect(yield* keysOf("nowhere")).toEqual([])
          const sizes = (yield* Effect.flatMap(ObjectStore, (store) => store.list("ls/b"))).map((o) => o.size)
          expect(sizes).toEqual([10, 10])
          expect(yield* keysOf("")).toEqual(expect.arrayContaining(["ls/a.txt", "lsx/other"]))
        }))

      it.effect("a missing key: StorageNotFound at its URI from getBytes, getRange and localFile; head is none; remove succeeds", () =>
        Effect.gen(function* () {
          const store = yield* ObjectStore
          const missing = "missing/nothing.csv"
          const notFound = { _tag: "StorageNotFound", location: store.uri(missing) }
          expect(yield* Effect.flip(store.getBytes(missing))).toMatchObject(notFound)
          expect(yield* Effect.flip(store.getRange(missing, 10))).toMatchObject(notFound)
          expect(yield* Effect.flip(store.getRange(missing, 0))).toMatchObject(notFound)
          expect(yield* Effect.flip(Effect.scoped(store.localFile(missing)))).toMatchObject(notFound)
          expect(yield* store.head(missing)).toEqual(Option.none())
          yield* store.remove(missing)
          yield* store.remove("missing/folder/too/deep.csv")
          // A key under which only deeper objects exist is not an object either.
          yield* put("missing/dir/inside.csv", "x")
          expect(yield* Effect.flip(store.getBytes("missing/dir"))).toMatchObject({ _tag: "StorageNotFound", location: store.uri("missing/dir") })
          expect(yield* store.head("missing/dir")).toEqual(Option.none())
        }))

      it.effect("invalid keys (.., absolute, backslash, encoded separators, empty, too long) are refused by every operation", () =>
        Effect.gen(function* () {
          const store = yield* ObjectStore
          const scratch = yield* Effect.scoped(store.scratchFile(".txt"))
          const operations = (key: string) => [
            store.putBytes(key, bytes("x"), "text/plain"),
            store.putFile(key, scratch, "text/plain"),
            store.getBytes(key),
            store.getRange(key, 10),
            Effect.scoped(store.localFile(key)),
            store.head(key),
            store.remove(key),
            store.downloadUrl(key, { expiresInSeconds: 60, fileName: "x" })
          ]
          for (const key of invalidKeys) {
            for (const operation of operations(key)) {
              expect(yield* Effect.flip(operation)).toMatchObject({ _tag: "InvalidStorageKey", key })
            }
            // keyOf reads `a/` as the folder `a` (see below); every other invalid key it refuses too.
            if (key !== "a/") expect(yield* Effect.flip(store.keyOf(key))).toMatchObject({ _tag: "InvalidStorageKey", key })
          }
          for (const prefix of invalidPrefixes) {
            expect(yield* Effect.flip(store.list(prefix))).toMatchObject({ _tag: "InvalidStorageKey", key: prefix })
          }
        }))

      it.effect("keyOf: bare keys, the store's own URIs (folders with a trailing slash); other roots refused naming this one", () =>
        Effect.gen(function* () {
          const store = yield* ObjectStore
          for (const key of ["datasets/0003410379/run-1/part-00001.parquet", "csv/人口 2020.csv", "notes/a#b?c.txt", "notes/100%25.txt"]) {
            expect(yield* store.keyOf(key)).toBe(key)
            expect(yield* store.keyOf(store.uri(key))).toBe(key)
          }
          expect(yield* store.keyOf("datasets/x/")).toBe("datasets/x")
          expect(yield* store.keyOf(store.uri("datasets/x") + "/")).toBe("datasets/x")
          const rootWithSlash = store.root.endsWith("/") ? store.root : store.root + "/"
          const foreign = [
            store.root,
            rootWithSlash,
            store.root.replace(/\/$/, "") + "-sibling/x.csv",
            "s3://estat-test/other/x.csv",
            "s3://another-bucket/lake/x.csv",
            "file:///etc/passwd",
            "memory://elsewhere/x.csv",
            "https://example.com/x.csv",
            rootWithSlash + "a/../../x",
            rootWithSlash + "a%2Fb"
          ]
          for (const location of foreign) {
            expect(yield* Effect.flip(store.keyOf(location))).toMatchObject({ _tag: "InvalidStorageKey", key: location, root: rootWithSlash })
          }
        }))

      it.effect("getRange: the first bytes, all of a shorter object, nothing for 0 bytes or an empty object", () =>
        Effect.gen(function* () {
          const store = yield* ObjectStore
          yield* put("range/digits.txt", "0123456789")
          yield* store.putBytes("range/empty.txt", new Uint8Array(0), "text/plain")
          expect(text(yield* store.getRange("range/digits.txt", 4))).toBe("0123")
          expect(text(yield* store.getRange("range/digits.txt", 10))).toBe("0123456789")
          expect(text(yield* store.getRange("range/digits.txt", 1000))).toBe("0123456789")
          expect((yield* store.getRange("range/digits.txt", 0)).byteLength).toBe(0)
          expect((yield* store.getRange("range/empty.txt", 0)).byteLength).toBe(0)
          if (implementation.rangesEmptyObjects) expect((yield* store.getRange("range/empty.txt", 10)).byteLength).toBe(0)
        }))

      it.effect("remove deletes the object and only it: neighbours, longer keys and a key's folder stay", () =>
        Effect.gen(function* () {
          const store = yield* ObjectStore
          for (const key of ["rm/a.csv", "rm/a.csv.bak", "rm/ab.csv", "rm/dir/inside.csv"]) yield* put(key, key)
          yield* store.remove("rm/a.csv")
          expect(yield* store.head("rm/a.csv")).toEqual(Option.none())
          yield* store.remove("rm/a.csv")
          // `rm/dir` is not an object: removing it removes nothing.
          yield* store.remove("rm/dir")
          expect(yield* keysOf("rm/")).toEqual(["rm/a.csv.bak", "rm/ab.csv", "rm/dir/inside.csv"])
        }))

      it.scoped("scratchFile is a fresh local path, gone with its scope; putFile stores it and consumes it", () =>
        Effect.gen(function* () {
          const store = yield* ObjectStore
          const [first, second] = yield* Effect.scoped(Effect.gen(function* () {
            const first = yield* store.scratchFile(".csv")
            const second = yield* store.scratchFile(".csv")
            expect(first).not.toBe(second)
            expect(first.endsWith(".csv")).toBe(true)
            writeFileSync(first, "left behind")
            return [first, second] as const
          }))
          expect([existsSync(first), existsSync(second)]).toEqual([false, false])

          const file = yield* store.scratchFile(".csv")
          writeFileSync(file, "x,y\n3,4\n")
          expect(yield* store.putFile("files/upload.csv", file, "text/csv")).toMatchObject({ key: "files/upload.csv", size: 8 })
          expect(existsSync(file)).toBe(false)
          expect(text(yield* store.getBytes("files/upload.csv"))).toBe("x,y\n3,4\n")
          const again = yield* store.scratchFile(".csv")
          writeFileSync(again, "replaced")
          yield* store.putFile("files/upload.csv", again, "text/csv")
          expect(text(yield* store.getBytes("files/upload.csv"))).toBe("replaced")
          // A local file that is not there: a failure to store, not "nothing stored at the key".
          const gone = nodePath.join(nodePath.dirname(again), "never-written.csv")
          expect(yield* Effect.flip(store.putFile("files/other.csv", gone, "text/csv"))).toMatchObject({ _tag: "StorageFailure", location: store.uri("files/other.csv") })
          expect(yield* store.head("files/other.csv")).toEqual(Option.none())
        }))

      it.scoped("localFile is a local file with the object's content", () =>
        Effect.gen(function* () {
          const store = yield* ObjectStore
          yield* put("local/part.csv", "a\n1\n")
          const path = yield* store.localFile("local/part.csv")
          expect(readFileSync(path, "utf8")).toBe("a\n1\n")
        }))

      it.effect(`downloadUrl: ${implementation.download === "uri" ? "the object's URI, never expiring" : "a presigned GET URL that expires"}; nothing is looked up`, () =>
        Effect.gen(function* () {
          const store = yield* ObjectStore
          const link = yield* store.downloadUrl("dl/not-stored.csv", { expiresInSeconds: 600, fileName: "人口.csv" })
          if (implementation.download === "uri") {
            expect(link).toEqual({ url: store.uri("dl/not-stored.csv"), expiresAt: null })
          } else {
            expect(link.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/estat-test\/lake\/dl\/not-stored\.csv\?/)
            expect(link.url).toContain("X-Amz-Expires=600")
            expect(link.expiresAt).not.toBeNull()
          }
        }))

      it.effect(implementation.flatKeys
        ? "flat keys: `a/b` and `a/b/c` are both objects"
        : "a file system: `a/b` is a file or a folder, so `a/b/c` under a file (or a file over a folder) is refused", () =>
        Effect.gen(function* () {
          const store = yield* ObjectStore
          yield* put("flat/a", "file")
          const under = yield* Effect.either(put("flat/a/b", "under"))
          yield* put("flat/c/d", "deeper")
          const over = yield* Effect.either(put("flat/c", "over"))
          if (implementation.flatKeys) {
            expect([under._tag, over._tag]).toEqual(["Right", "Right"])
            expect(yield* keysOf("flat/")).toEqual(["flat/a", "flat/a/b", "flat/c", "flat/c/d"])
          } else {
            expect(under).toMatchObject({ _tag: "Left", left: { _tag: "StorageFailure", location: store.uri("flat/a/b") } })
            expect(over).toMatchObject({ _tag: "Left", left: { _tag: "StorageFailure", location: store.uri("flat/c") } })
            expect(yield* keysOf("flat/")).toEqual(["flat/a", "flat/c/d"])
          }
        }))
    })
  })
}

describe("ObjectStore in memory: its own bound", () => {
  layer(ObjectStoreMemory.layer({ name: "small", maxBytes: 10 }))((it) => {
    it.effect("holds at most maxBytes: a write past it fails and stores nothing; a replacement counts its new size; a removal frees room", () =>
      Effect.gen(function* () {
        const store = yield* ObjectStore
        expect(store.root).toBe("memory://small/")
        yield* put("a", "123456")
        expect(yield* Effect.flip(put("b", "12345"))).toMatchObject({ _tag: "StorageFailure", operation: "store", location: "memory://small/b" })
        expect(yield* store.head("b")).toEqual(Option.none())
        yield* put("a", "1234567890")
        yield* store.remove("a")
        yield* put("b", "12345")
        expect(yield* keysOf("")).toEqual(["b"])
      }))
  })
})
