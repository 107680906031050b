import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import { Option, Redacted } from "effect"
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "@effect/vitest"
import { FAKE_APP_ID, type FakeEStatHandle, startFakeEStat } from "../fakes/estatServer.js"
import { openSession, post, readSse } from "../support/rawMcp.js"
import { type RunningServer, startTestServer } from "../support/testServer.js"
import { firstText } from "../support/toolResult.js"

interface SearchOutput {
  readonly query: string
  readonly total_found: number
  readonly scoring_method: string
  readonly results: ReadonlyArray<{ dataset_id: string; rank: number; score: number; title: string; total_records: number | null; dimensions?: ReadonlyArray<{ id: string; name: string; item_count: number; sample_labels: ReadonlyArray<string> }>; requires_filtering?: boolean }>
  readonly suggestions: ReadonlyArray<{ term: string; suggested: string }>
  readonly warnings: ReadonlyArray<string>
}

describe("search_estat_data against the fake e-Stat", () => {
  let fake: FakeEStatHandle
  let server: RunningServer
  let client: Client

  beforeAll(async () => {
    fake = await startFakeEStat()
    server = await startTestServer({ estatBaseUrl: fake.baseUrl, estatAppId: Option.some(Redacted.make(FAKE_APP_ID)), estatRetries: 1 })
    client = new Client({ name: "e2e-search", version: "1.0.0" })
    await client.connect(new StreamableHTTPClientTransport(server.mcpUrl))
  })
  afterEach(() => fake.setFaults({}))
  afterAll(async () => {
    await client.close()
    await server.close()
    await fake.close()
  })

  const search = async (args: Record<string, unknown>) => {
    const result = await client.callTool({ name: "search_estat_data", arguments: args })
    return { result, out: result.structuredContent as SearchOutput }
  }

  it("enhanced: ranks, describes dimensions and suggests official terms beside the results", async () => {
    const { out, result } = await search({ query: "人口 男女", max_results: 3 })
    expect(result.isError).toBe(false)
    expect(out.scoring_method).toBe("enhanced")
    expect(out.total_found).toBeGreaterThanOrEqual(3)
    expect(out.results.map((r) => r.rank)).toEqual([1, 2, 3])
    const census = out.results.find((r) => r.dataset_id === "0003445078")!
    expect(census.dimensions?.map((d) => d.id)).toEqual(["tab", "cat01", "area", "time"])
    expect(census.dimensions?.[1]).toEqual({ id: "cat01", name: "男女", item_count: 3, sample_labels: ["総数", "男", "女"] })
    expect(census.requires_filtering).toBe(false)
    expect([...out.results].map((r) => r.score)).toEqual([...out.results].map((r) => r.score).sort((a, b) => b - a))
    const text = firstText(result)
    expect(text).toContain("0003445078\t")
    expect(text).toContain("cat01\t男女\t3\t総数, 男, 女")
  })

  it("suggestions come with results, and applying them finds the official tables", async () => {
    const { out } = await search({ query: "年収", scoring_method: "basic" })
    expect(out.suggestions).toEqual([expect.objectContaining({ term: "年収", suggested: "年間収入" })])
    const applied = await client.callTool({ name: "apply_keyword_suggestions", arguments: { original_query: "年収", accepted_keywords: { 年収: "年間収入" } } })
    const query = (applied.structuredContent as { transformed_query: string }).transformed_query
    const again = await search({ query, scoring_method: "basic" })
    expect(again.out.results.map((r) => r.dataset_id)).toContain("0003426933")
    expect(again.out.results[0]!.dimensions).toBeUndefined()
  })

  it("passes narrowing to e-Stat and reads several pages when asked for many results", async () => {
    const before = fake.requests.length
    const { out } = await search({ query: "人口", stats_code: "00200521", scoring_method: "basic", max_results: 50 })
    expect(out.results.every((r) => r.dataset_id.startsWith("000344"))).toBe(true)
    const sent = fake.requests.slice(before)
    expect(sent[0]!.params.get("statsCode")).toBe("00200521")
    expect(sent[0]!.params.get("searchWord")).toBe("人口")
  })

  it("no hits is an empty, successful result", async () => {
    const { out, result } = await search({ query: "存在しない統計表" })
    expect(result.isError).toBe(false)
    expect(out.total_found).toBe(0)
    expect(out.results).toEqual([])
    const several = await search({ query: "存在しない 統計表" })
    expect(firstText(several.result)).toContain("A table must contain every word: search again with fewer words, or join them with OR.")
  })

  it("bad arguments and e-Stat failures are isError results with actionable messages", async () => {
    const bad = await client.callTool({ name: "search_estat_data", arguments: { query: "人口", max_results: 500, stats_code: "12" } })
    expect(bad.isError).toBe(true)
    const text = firstText(bad)
    expect(text).toContain("max_results")
    expect(text).toContain("`stats_code` must be 5 digits (an agency, e.g. \"00200\") or 8 digits")
    fake.setFaults({ forceStatus: { status: 100, count: 1 } })
    const denied = await client.callTool({ name: "search_estat_data", arguments: { query: "人口" } })
    expect(denied.isError).toBe(true)
    expect(firstText(denied)).toBe(
      "e-Stat getStatsList failed with STATUS 100: 認証に失敗しました。アプリケーションIDを確認して下さい。 Check that ESTAT_APP_ID is a valid e-Stat application ID."
    )
    fake.setFaults({ failNext: { status: 503, count: 1 } })
    const retried = await search({ query: "人口", scoring_method: "basic" })
    expect(retried.result.isError).toBe(false)
  })

  it("a failed metadata fetch is reported as a warning, not hidden and not fatal", async () => {
    fake.setFaults({ failNext: { status: 500, count: 100, endpoint: "getMetaInfo" } })
    const { out, result } = await search({ query: "消費者物価指数", max_results: 1 })
    expect(result.isError).toBe(false)
    expect(out.results.map((r) => r.dataset_id)).toEqual(["0004052037"])
    expect(out.results[0]!.dimensions).toBeUndefined()
    expect(out.warnings).toEqual([
      "Metadata of 0004052037 could not be read (e-Stat is unavailable on getMetaInfo: a non-e-Stat body (19 bytes). Try again in a few minutes.); it was ranked without its dimension labels."
    ])
  })

  it("sends progress notifications on a long call", async () => {
    fake.setFaults({ latencyMs: 50 })
    const progress: Array<{ progress: number; total?: number | undefined; message?: string | undefined }> = []
    const result = await client.callTool({ name: "search_estat_data", arguments: { query: "人口", max_results: 5 } }, undefined, {
      onprogress: (p) => void progress.push(p)
    })
    expect(result.isError).toBe(false)
    expect(progress.length).toBeGreaterThanOrEqual(3)
    expect(progress.map((p) => p.progress)).toEqual([...progress.map((p) => p.progress)].sort((a, b) => a - b))
    expect(progress.at(-1)!.message).toMatch(/^metadata \d+\/\d+$/)
  })

  it("cancelling a call interrupts it: its e-Stat requests are dropped, no further ones sent", async () => {
    fake.setFaults({ latencyMs: 300 })
    const before = fake.requests.length
    const controller = new AbortController()
    const call = client.callTool({ name: "search_estat_data", arguments: { query: "人口", max_results: 20 } }, undefined, {
      signal: controller.signal,
      onprogress: () => {
        // From the cancel on, e-Stat answers nothing for a minute: a request still made, or not dropped, never ends.
        fake.setFaults({ latencyMs: 60_000 })
        controller.abort("user cancelled")
      }
    })
    await expect(call).rejects.toThrow()
    const sent = () => fake.requests.slice(before)
    // Every request of the call ends: answered before the cancel, or dropped by the server once cancelled.
    await vi.waitFor(() => expect(sent().every((r) => r.endedAt !== null)).toBe(true), { timeout: 10_000, interval: 10 })
    // A round trip later nothing new has come: the call is over, not between two waves of requests.
    await client.listTools()
    expect(sent().every((r) => r.endedAt !== null)).toBe(true)
    // Uncancelled, 20 metadata requests would run (4 at a time); cancelled at the first progress, only the first wave is ever sent.
    expect(sent().filter((r) => r.endpoint === "getMetaInfo").length).toBeLessThanOrEqual(4)
  })

  it("resumes a POST stream with Last-Event-ID after the connection drops", async () => {
    fake.setFaults({ latencyMs: 100 })
    const { headers } = await openSession(server.mcpUrl)
    const first = await post(server.mcpUrl, {
      jsonrpc: "2.0", id: 41, method: "tools/call",
      params: { name: "search_estat_data", arguments: { query: "人口", max_results: 4 }, _meta: { progressToken: "p41" } }
    }, headers)
    // Read up to the first progress notification, then drop the connection.
    const early = await readSse(first, (e) => e.data.includes("notifications/progress"))
    const lastId = early.at(-1)!.id!
    const resumed = await fetch(server.mcpUrl, { headers: { ...headers, accept: "text/event-stream", "last-event-id": lastId } })
    expect(resumed.status).toBe(200)
    const rest = await readSse(resumed, (e) => e.data.includes('"id":41'))
    const messages = rest.map((e) => JSON.parse(e.data) as { method?: string; id?: number; result?: { isError: boolean } })
    expect(messages.at(-1)).toMatchObject({ id: 41, result: { isError: false } })
    expect(messages.slice(0, -1).every((m) => m.method === "notifications/progress")).toBe(true)
    const ids = [...early, ...rest].map((e) => e.id)
    expect(new Set(ids).size).toBe(ids.length) // nothing replayed twice
  })
})
