import { Effect } from "effect"
import { describe, expect, it } from "@effect/vitest"
import { InvalidParams } from "../../src/mcp/rpcErrors.js"
import { storedFiles } from "../../src/resources/storedFiles.js"
import { ObjectStore } from "../../src/services/storage/ObjectStore.js"
import type { ToolRequirements } from "../../src/tools/registry.js"
import { pipelineContext } from "../support/pipeline.js"

describe("stored files as MCP resources", () => {
  it.scopedLive("lists outputs page by page, reads text and Parquet, refuses what is over the cap", () =>
    Effect.gen(function* () {
      const { context } = yield* pipelineContext("local", {}, { resourceMaxBytes: 1000 })
      const store = yield* Effect.provide(ObjectStore, context)
      for (let i = 0; i < 105; i++) yield* store.putBytes(`csv/0000000001/r/${String(i).padStart(3, "0")}.csv`, new TextEncoder().encode("a,b\r\n"), "text/csv")
      yield* store.putBytes("transformed/0000000001/x.parquet", new Uint8Array([80, 65, 82, 49]), "application/vnd.apache.parquet")
      yield* store.putBytes("csv/0000000001/big.csv", new Uint8Array(1001), "text/csv")
      const run = <A, E>(effect: Effect.Effect<A, E, ToolRequirements>) => Effect.provide(effect, context)
      const first = yield* run(storedFiles.list(undefined))
      expect(first.resources.length).toBe(100)
      expect(first.nextCursor).toBe("100")
      const second = yield* run(storedFiles.list(first.nextCursor))
      expect(second.resources.length).toBe(7)
      expect(second.nextCursor).toBeUndefined()
      expect(second.resources.at(-1)).toMatchObject({ uri: store.uri("transformed/0000000001/x.parquet"), mimeType: "application/vnd.apache.parquet", size: 4 })
      expect(yield* run(storedFiles.read(store.uri("transformed/0000000001/x.parquet")))).toEqual([
        { uri: store.uri("transformed/0000000001/x.parquet"), mimeType: "application/vnd.apache.parquet", blob: "UEFSMQ==" }
      ])
      const tooBig = yield* Effect.flip(run(storedFiles.read(store.uri("csv/0000000001/big.csv"))))
      expect(tooBig).toBeInstanceOf(InvalidParams)
      expect({ code: tooBig.code, message: tooBig.message }).toEqual({
        code: -32602,
        message: `${store.uri("csv/0000000001/big.csv")} is 1001 bytes, over the 1000-byte limit of resources/read (MCP_RESOURCE_MAX_BYTES); get a download URL with download_csv_from_s3 instead.`
      })
      expect((yield* Effect.flip(run(storedFiles.read("s3://elsewhere/x.csv")))).code).toBe(-32602)
      expect((yield* Effect.flip(run(storedFiles.read(store.uri("csv/none.csv"))))).code).toBe(-32002)
    }))
})
