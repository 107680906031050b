import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import { Effect, Option, Redacted } from "effect"
import { describe, expect, it } from "@effect/vitest"
import { FAKE_APP_ID, fakeEStat } from "../fakes/estatServer.js"
import { s3rver, TEST_BUCKET } from "../support/s3rver.js"
import { startTestServer } from "../support/testServer.js"

/**
 * Two tasks behind one load balancer share what e-Stat said about a table's shape: the cache is
 * in the bucket. Counted with the fake e-Stat's request log.
 */
describe("the metadata cache across tasks", () => {
  it.scopedLive("a second enhanced search, on another task, asks e-Stat for no metadata; a fetch then asks none either, and its run answers the first task", () =>
    Effect.gen(function* () {
      const fake = yield* fakeEStat()
      const { endpoint } = yield* s3rver
      const settings = {
        backend: "aws" as const,
        s3Bucket: Option.some(TEST_BUCKET),
        s3Endpoint: Option.some(endpoint),
        s3Prefix: "shared",
        estatBaseUrl: fake.baseUrl,
        estatAppId: Option.some(Redacted.make(FAKE_APP_ID))
      }
      const connect = Effect.fn(function* (name: string) {
        const server = yield* Effect.acquireRelease(Effect.promise(() => startTestServer(settings)), (s) => Effect.promise(() => s.close()))
        const client = new Client({ name, version: "1.0.0" })
        yield* Effect.acquireRelease(Effect.promise(() => client.connect(new StreamableHTTPClientTransport(server.mcpUrl))), () => Effect.promise(() => client.close()))
        return (tool: string, args: Record<string, unknown>) =>
          Effect.promise(() => client.callTool({ name: tool, arguments: args })).pipe(
            Effect.tap((result) => expect(result.isError, JSON.stringify(result.content)).not.toBe(true))
          )
      })
      const metadataRequests = () => fake.requests.filter((r) => r.endpoint === "getMetaInfo").map((r) => r.params.get("statsDataId"))

      const task1 = yield* connect("task-1")
      const task2 = yield* connect("task-2")
      yield* task1("search_estat_data", { query: "人口 男女", scoring_method: "enhanced" })
      const asked = metadataRequests()
      expect(asked.length).toBeGreaterThan(0)

      yield* task2("search_estat_data", { query: "人口 男女", scoring_method: "enhanced" })
      yield* task1("search_estat_data", { query: "人口 男女", scoring_method: "enhanced" })
      expect(metadataRequests()).toEqual(asked)

      yield* task2("fetch_dataset_filtered", { dataset_id: asked[0], filters: { area: ["東京都"] } })
      expect(metadataRequests()).toEqual(asked)

      // The other task's run answers the same query: the run index is in the bucket too (issue 16, fetch only what changed).
      const requestsBefore = fake.requests.length
      const again = yield* task1("fetch_dataset_filtered", { dataset_id: asked[0], filters: { area: "13000" } })
      expect(again.structuredContent).toMatchObject({ reused: true })
      expect(fake.requests.length).toBe(requestsBefore)
    }), 120_000)
})
