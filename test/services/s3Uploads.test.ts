import { writeFileSync } from "node:fs"
import { Effect, Option } from "effect"
import { describe, expect, it } from "@effect/vitest"
import { ObjectStore } from "../../src/services/storage/ObjectStore.js"
import { conditionalS3 } from "../fakes/conditionalS3.js"
import { pipelineContext } from "../support/pipeline.js"
import { s3rver } from "../support/s3rver.js"

/** What the S3 store sends with an upload, seen on the wire (s3rver behind a recording pass-through). */
describe("S3 uploads", () => {
  it.scopedLive("carry a CRC32 checksum S3 verifies, for bytes and for files", () =>
    Effect.gen(function* () {
      const s3 = yield* s3rver
      const wire = yield* conditionalS3(s3.endpoint)
      const { context } = yield* pipelineContext("aws", {}, { s3Endpoint: Option.some(wire.endpoint) })
      const store = yield* Effect.provide(ObjectStore, context)
      yield* store.putBytes("notes/a.txt", new TextEncoder().encode("hello"), "text/plain")
      const file = yield* store.scratchFile(".csv")
      writeFileSync(file, "a,b\n1,2\n")
      yield* store.putFile("csv/b.csv", file, "text/csv")
      const puts = wire.seen.filter((r) => r.method === "PUT")
      expect(puts.map((r) => r.path.split("?")[0])).toEqual(["/estat-test/lake/notes/a.txt", "/estat-test/lake/csv/b.csv"])
      // In a header, not an aws-chunked trailer: S3-compatible servers take it too.
      expect(puts.map((r) => r.headers["x-amz-checksum-crc32"])).toEqual([
        Buffer.from([0x36, 0x10, 0xa6, 0x86]).toString("base64"), // CRC32("hello")
        expect.any(String)
      ])
      expect(new TextDecoder().decode(yield* store.getBytes("notes/a.txt"))).toBe("hello")
      expect(new TextDecoder().decode(yield* store.getBytes("csv/b.csv"))).toBe("a,b\n1,2\n")
    }))
})
