import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { PassThrough } from "node:stream"
import { pathToFileURL } from "node:url"
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client"
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio"
import { NodeContext } from "@effect/platform-node"
import { Effect, Layer, Option, Redacted, Schema } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { configLayer, defaultSettings } from "../../src/config.js"
import { mcpLayerFor } from "../../src/layers.js"
import { serveStdio } from "../../src/mcp/stdio.js"
import * as Tool from "../../src/mcp/tool.js"
import { ToolContext } from "../../src/mcp/tool.js"
import { tools, type ToolRequirements } from "../../src/tools/registry.js"
import { FAKE_APP_ID, type FakeEStatHandle, startFakeEStat } from "../fakes/estatServer.js"
import { initializeBody, openSession, post, readSse } from "../support/rawMcp.js"
import { type RunningServer, startTestServer } from "../support/testServer.js"

/** MCP 2026-07-28 on /mcp and stdio: stateless requests, with SDK v2's client and raw, beside 2025 sessions. */

const VERSION = "2026-07-28"
const TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
const TRACEPARENT = `00-${TRACE_ID}-00f067aa0ba902b7-01`

/** Resolved when the `wait` tool is interrupted (the client closed its stream). */
let waitInterrupted: Promise<void> = Promise.resolve()
let interruptWait = () => {}
const armWait = () => {
  waitInterrupted = new Promise((resolve) => {
    interruptWait = resolve
  })
}

const readOnly = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false }

/** Test tools: progress and logs, the span it runs in, and one that waits until cancelled. */
const testTools: ReadonlyArray<Tool.Tool<ToolRequirements>> = [
  Tool.make({
    name: "count",
    title: "Count",
    description: "Counts to n, reporting progress and a log message",
    input: Schema.Struct({ n: Schema.Int }),
    output: Schema.Struct({ counted: Schema.Int, traceId: Schema.String }),
    annotations: readOnly,
    summarize: (o) => `counted ${o.counted}`,
    run: (input) =>
      Effect.gen(function* () {
        const context = yield* ToolContext
        for (let i = 1; i <= input.n; i++) yield* context.progress({ progress: i, total: input.n })
        yield* context.log("info", "counted")
        const span = yield* Effect.currentSpan.pipe(Effect.orDie)
        return { counted: input.n, traceId: span.traceId }
      })
  }),
  Tool.make({
    name: "wait",
    title: "Wait",
    description: "Waits until the call is cancelled",
    input: Schema.Struct({}),
    output: Schema.Struct({}),
    annotations: readOnly,
    summarize: () => "",
    run: () =>
      Effect.gen(function* () {
        const context = yield* ToolContext
        yield* context.progress({ progress: 1 })
        return yield* Effect.never
      }).pipe(Effect.onInterrupt(() => Effect.sync(() => interruptWait())))
  }),
  Tool.make({
    name: "summarize_with_model",
    title: "Summarize with the client's model",
    description: "Needs the client's sampling capability",
    input: Schema.Struct({}),
    output: Schema.Struct({ ran: Schema.Boolean }),
    annotations: readOnly,
    requiredClientCapabilities: { sampling: {} },
    summarize: () => "ran",
    run: () => Effect.succeed({ ran: true })
  }),
  Tool.make({
    name: "route",
    title: "Route",
    description: "Mirrors its region argument into the Mcp-Param-Region header",
    input: Schema.Struct({ region: Schema.String.annotations({ jsonSchema: { type: "string", "x-mcp-header": "Region" } }) }),
    output: Schema.Struct({ region: Schema.String }),
    annotations: readOnly,
    summarize: (o) => o.region,
    run: (input) => Effect.succeed(input)
  })
]

const envelope = (extra: Record<string, unknown> = {}) => ({
  "io.modelcontextprotocol/protocolVersion": VERSION,
  "io.modelcontextprotocol/clientInfo": { name: "raw-2026", version: "1.0.0" },
  "io.modelcontextprotocol/clientCapabilities": {},
  ...extra
})

const request = (method: string, params: Record<string, unknown> = {}, meta: Record<string, unknown> = {}, id: number | string = 1) => ({
  jsonrpc: "2.0",
  id,
  method,
  params: { ...params, _meta: envelope(meta) }
})

/** The headers a conforming 2026-07-28 client sends. */
const headersFor = (method: string, name?: string): Record<string, string> => ({
  "mcp-protocol-version": VERSION,
  "mcp-method": method,
  ...(name === undefined ? {} : { "mcp-name": name })
})

const errorOf = async (response: Response) => (await response.json() as { error: { code: number; message: string; data?: unknown } }).error

describe("MCP 2026-07-28, stateless", () => {
  let fake: FakeEStatHandle
  let first: RunningServer
  let second: RunningServer
  let tested: RunningServer
  const dataDir = mkdtempSync(join(tmpdir(), "estat-stateless-"))
  beforeAll(async () => {
    fake = await startFakeEStat()
    const settings = { estatBaseUrl: fake.baseUrl, estatAppId: Option.some(Redacted.make(FAKE_APP_ID)) }
    first = await startTestServer(settings)
    second = await startTestServer(settings)
    tested = await startTestServer({ ...settings, dataDir }, [...tools, ...testTools])
  })
  afterAll(async () => {
    await Promise.all([first.close(), second.close(), tested.close()])
    await fake.close()
    rmSync(dataDir, { recursive: true, force: true })
  })

  it("SDK v2's client, alternating between two server processes on every request, with no shared state", async () => {
    const servers = [new URL(first.mcpUrl), new URL(second.mcpUrl)]
    const served: Array<number> = []
    const sessionIds: Array<string> = []
    let next = 0
    // A round-robin load balancer: every request goes to the other server.
    const alternate = async (_input: string | URL | Request, init?: RequestInit) => {
      const target = next++ % 2
      served.push(target)
      const response = await fetch(servers[target]!, init)
      const sessionId = response.headers.get("mcp-session-id")
      if (sessionId !== null) sessionIds.push(sessionId)
      return response
    }
    const client = new Client({ name: "sdk-v2", version: "1.0.0" }, { versionNegotiation: { mode: { pin: VERSION } } })
    await client.connect(new StreamableHTTPClientTransport(servers[0]!, { fetch: alternate }))
    try {
      const listed = await client.listTools()
      const applied = await client.callTool({
        name: "apply_keyword_suggestions",
        arguments: { original_query: "東京　年収", accepted_keywords: { 年収: "年間収入" } }
      })
      const searched = await client.callTool({ name: "search_estat_data", arguments: { query: "国勢調査 男女", max_results: 2 } })
      const resources = await client.listResources()
      expect(client.getNegotiatedProtocolVersion()).toBe(VERSION)
      expect(client.getServerVersion()?.name).toBe("estat-mcp")
      expect(listed.tools.map((t) => t.name)).toContain("search_estat_data")
      expect(listed).toMatchObject({ ttlMs: 300_000, cacheScope: "public" })
      expect(applied.isError).toBe(false)
      expect(applied.structuredContent).toMatchObject({ transformed_query: "東京　年間収入" })
      expect(searched.isError).toBe(false)
      expect(resources).toMatchObject({ resources: [{ uri: "ui://estat-mcp/explorer" }], ttlMs: 0, cacheScope: "private" })
    } finally {
      await client.close()
    }
    expect(sessionIds).toEqual([])
    expect(served.filter((s) => s === 0).length).toBeGreaterThanOrEqual(2)
    expect(served.filter((s) => s === 1).length).toBeGreaterThanOrEqual(2)
  })

  it("server/discover: versions, capabilities, instructions, cache hints, server info; no session id", async () => {
    const response = await post(tested.mcpUrl, request("server/discover"), headersFor("server/discover"))
    expect(response.status).toBe(200)
    expect(response.headers.get("mcp-session-id")).toBeNull()
    const { result } = await response.json() as { result: Record<string, unknown> }
    expect(result).toMatchObject({
      resultType: "complete",
      supportedVersions: [VERSION, "2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"],
      capabilities: { tools: { listChanged: false }, resources: { listChanged: false, subscribe: false }, extensions: {} },
      ttlMs: 300_000,
      cacheScope: "public",
      _meta: { "io.modelcontextprotocol/serverInfo": { name: "estat-mcp" } }
    })
    expect(result["instructions"]).toContain("search_estat_data")
  })

  it("tools/call without progressToken or logLevel is one JSON answer; a session id sent along is ignored", async () => {
    const response = await post(tested.mcpUrl, request("tools/call", { name: "count", arguments: { n: 2 } }), {
      ...headersFor("tools/call", "count"),
      "mcp-session-id": "not-a-session"
    })
    expect(response.status).toBe(200)
    expect(response.headers.get("content-type")).toContain("application/json")
    const { result } = await response.json() as { result: { structuredContent: unknown; resultType: string } }
    expect(result.resultType).toBe("complete")
    expect(result.structuredContent).toMatchObject({ counted: 2 })
  })

  it("tools/call with progressToken and logLevel streams progress and log messages, then the result; traceparent carries into the span", async () => {
    const body = request("tools/call", { name: "count", arguments: { n: 2 } }, {
      progressToken: "p1",
      "io.modelcontextprotocol/logLevel": "info",
      traceparent: TRACEPARENT
    })
    const response = await post(tested.mcpUrl, body, headersFor("tools/call", "count"))
    expect(response.headers.get("content-type")).toContain("text/event-stream")
    const events = (await readSse(response)).map((e) => JSON.parse(e.data) as { method?: string; params?: Record<string, unknown>; result?: Record<string, unknown> })
    expect(events.map((e) => e.method ?? "response")).toEqual(["notifications/progress", "notifications/progress", "notifications/message", "response"])
    expect(events[0]?.params).toEqual({ progressToken: "p1", progress: 1, total: 2 })
    expect(events[2]?.params).toMatchObject({ level: "info", data: "counted" })
    expect(events[3]?.result).toMatchObject({ resultType: "complete", structuredContent: { counted: 2, traceId: TRACE_ID } })
  })

  it("without _meta.traceparent, the HTTP traceparent header is the parent (read by the transport: no platform span per request)", async () => {
    const response = await post(tested.mcpUrl, request("tools/call", { name: "count", arguments: { n: 1 } }), {
      ...headersFor("tools/call", "count"),
      traceparent: TRACEPARENT
    })
    const { result } = await response.json() as { result: { structuredContent: { traceId: string } } }
    expect(result.structuredContent.traceId).toBe(TRACE_ID)
  })

  it("closing the response stream cancels the call", async () => {
    armWait()
    const controller = new AbortController()
    const response = await fetch(tested.mcpUrl, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...headersFor("tools/call", "wait") },
      body: JSON.stringify(request("tools/call", { name: "wait", arguments: {} }, { progressToken: 7 })),
      signal: controller.signal
    })
    await readSse(response, (event) => event.data.includes("notifications/progress"))
    controller.abort()
    await waitInterrupted
  })

  it("Mcp-Name may come Base64-encoded, and is compared decoded", async () => {
    const encoded = `=?base64?${Buffer.from("count").toString("base64")}?=`
    const response = await post(tested.mcpUrl, request("tools/call", { name: "count", arguments: { n: 1 } }), headersFor("tools/call", encoded))
    expect(response.status).toBe(200)
  })

  it("resources/read of a missing file is -32602 in 2026-07-28 (not -32002), in-band", async () => {
    const uri = pathToFileURL(join(dataDir, "runs", "nowhere.csv")).href
    const response = await post(tested.mcpUrl, request("resources/read", { uri }), headersFor("resources/read", uri))
    expect(response.status).toBe(200)
    expect(await errorOf(response)).toMatchObject({ code: -32602, message: `Resource not found: ${uri}`, data: { uri } })
  })

  it("resources/read of a URI outside storage is -32602 naming it in data.uri", async () => {
    const uri = "test://nonexistent"
    const response = await post(tested.mcpUrl, request("resources/read", { uri }), headersFor("resources/read", uri))
    expect(await errorOf(response)).toMatchObject({ code: -32602, data: { uri } })
  })

  it("an unknown tool is an in-band -32602", async () => {
    const response = await post(tested.mcpUrl, request("tools/call", { name: "nope", arguments: {} }), headersFor("tools/call", "nope"))
    expect(response.status).toBe(200)
    expect((await errorOf(response)).code).toBe(-32602)
  })

  /** What the revision refuses, with the status and code it gives each refusal. */
  const refusals: ReadonlyArray<{ name: string; body: unknown; headers: Record<string, string>; status: number; code: number; says: string }> = [
    { name: "header version differs from _meta", body: request("tools/list"), headers: { ...headersFor("tools/list"), "mcp-protocol-version": "2025-11-25" }, status: 400, code: -32020, says: "MCP-Protocol-Version" },
    { name: "MCP-Protocol-Version missing", body: request("tools/list"), headers: { "mcp-method": "tools/list" }, status: 400, code: -32020, says: "MCP-Protocol-Version" },
    { name: "Mcp-Method differs from the body", body: request("tools/list"), headers: headersFor("tools/call"), status: 400, code: -32020, says: "Mcp-Method" },
    { name: "Mcp-Method missing", body: request("tools/list"), headers: { "mcp-protocol-version": VERSION }, status: 400, code: -32020, says: "Mcp-Method" },
    { name: "Mcp-Name missing on tools/call", body: request("tools/call", { name: "count", arguments: { n: 1 } }), headers: headersFor("tools/call"), status: 400, code: -32020, says: "Mcp-Name" },
    { name: "Mcp-Name differs from params.name", body: request("tools/call", { name: "count", arguments: { n: 1 } }), headers: headersFor("tools/call", "wait"), status: 400, code: -32020, says: "Mcp-Name" },
    { name: "Mcp-Name differs from params.uri", body: request("resources/read", { uri: "estat-mcp://files/a.csv" }), headers: headersFor("resources/read", "estat-mcp://files/b.csv"), status: 400, code: -32020, says: "Mcp-Name" },
    { name: "Mcp-Name with broken Base64", body: request("tools/call", { name: "count", arguments: { n: 1 } }), headers: headersFor("tools/call", "=?base64?Y*91bnQ?="), status: 400, code: -32020, says: "Mcp-Name" },
    { name: "Mcp-Param-Region missing beside arguments.region", body: request("tools/call", { name: "route", arguments: { region: "関東" } }), headers: headersFor("tools/call", "route"), status: 400, code: -32020, says: "Mcp-Param-Region" },
    { name: "Mcp-Param-Region differs from arguments.region", body: request("tools/call", { name: "route", arguments: { region: "関東" } }), headers: { ...headersFor("tools/call", "route"), "mcp-param-region": "kanto" }, status: 400, code: -32020, says: "Mcp-Param-Region" },
    { name: "Mcp-Param-Region with broken Base64", body: request("tools/call", { name: "route", arguments: { region: "関東" } }), headers: { ...headersFor("tools/call", "route"), "mcp-param-region": "=?base64?SGVsbG8?=" }, status: 400, code: -32020, says: "Mcp-Param-Region" },
    { name: "initialize with a 2026-07-28 header", body: { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: VERSION, capabilities: {}, clientInfo: { name: "x", version: "1" } } }, headers: headersFor("initialize"), status: 400, code: -32020, says: "handshake" },
    { name: "a revision we do not speak", body: request("tools/list", {}, { "io.modelcontextprotocol/protocolVersion": "2099-01-01" }), headers: { ...headersFor("tools/list"), "mcp-protocol-version": "2099-01-01" }, status: 400, code: -32022, says: "2099-01-01" },
    { name: "clientCapabilities missing", body: { jsonrpc: "2.0", id: 1, method: "tools/list", params: { _meta: { "io.modelcontextprotocol/protocolVersion": VERSION } } }, headers: headersFor("tools/list"), status: 400, code: -32602, says: "clientCapabilities" },
    { name: "a malformed logLevel", body: request("tools/list", {}, { "io.modelcontextprotocol/logLevel": "loud" }), headers: headersFor("tools/list"), status: 400, code: -32602, says: "logLevel" },
    { name: "a 2026-07-28 header on a body without _meta", body: { jsonrpc: "2.0", id: 1, method: "tools/list" }, headers: headersFor("tools/list"), status: 400, code: -32602, says: "protocolVersion" },
    { name: "ping (removed)", body: request("ping"), headers: headersFor("ping"), status: 404, code: -32601, says: "ping" },
    { name: "logging/setLevel (removed)", body: request("logging/setLevel", { level: "debug" }), headers: headersFor("logging/setLevel"), status: 404, code: -32601, says: "logging/setLevel" },
    { name: "a batch with a 2026-07-28 request", body: [request("tools/list")], headers: headersFor("tools/list"), status: 400, code: -32600, says: "batches" }
  ]
  for (const refusal of refusals) {
    it(`refuses ${refusal.name}: ${refusal.status} ${refusal.code}`, async () => {
      const response = await post(tested.mcpUrl, refusal.body, refusal.headers)
      expect(response.status).toBe(refusal.status)
      expect(response.headers.get("mcp-session-id")).toBeNull()
      const error = await errorOf(response)
      expect(error.code).toBe(refusal.code)
      expect(error.message).toContain(refusal.says)
    })
  }

  it("a tool needing a client capability the envelope does not declare is refused before it runs: 400 -32021 naming it", async () => {
    const call = (capabilities: Record<string, unknown>, meta: Record<string, unknown> = {}) =>
      post(
        tested.mcpUrl,
        request("tools/call", { name: "summarize_with_model", arguments: {} }, { "io.modelcontextprotocol/clientCapabilities": capabilities, ...meta }, 41),
        headersFor("tools/call", "summarize_with_model")
      )
    const refused = await call({ elicitation: {} })
    expect(refused.status).toBe(400)
    const body = await refused.json() as { id: unknown; error: { code: number; message: string; data: unknown } }
    expect(body.id).toBe(41)
    expect(body.error).toMatchObject({ code: -32021, data: { requiredCapabilities: { sampling: {} } } })
    expect(body.error.message).toContain("sampling")
    // Refused before any stream opens, even when the call asked for progress.
    expect((await call({}, { progressToken: "p" })).status).toBe(400)
    const served = await call({ sampling: {} })
    expect(served.status).toBe(200)
    expect((await served.json() as { result: { structuredContent: unknown } }).result.structuredContent).toEqual({ ran: true })
  })

  it("a mirrored argument's header, Base64-encoded when it is not ASCII, matching the body: served", async () => {
    const encoded = `=?base64?${Buffer.from("関東").toString("base64")}?=`
    const response = await post(tested.mcpUrl, request("tools/call", { name: "route", arguments: { region: "関東" } }), { ...headersFor("tools/call", "route"), "mcp-param-region": encoded })
    expect(response.status).toBe(200)
    expect((await response.json() as { result: { structuredContent: unknown } }).result.structuredContent).toEqual({ region: "関東" })
  })

  it("-32022 lists the versions we speak and echoes the one asked for", async () => {
    const body = request("tools/list", {}, { "io.modelcontextprotocol/protocolVersion": "2099-01-01" })
    const response = await post(tested.mcpUrl, body, { ...headersFor("tools/list"), "mcp-protocol-version": "2099-01-01" })
    expect((await errorOf(response)).data).toEqual({ supported: [VERSION, "2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"], requested: "2099-01-01" })
  })

  it("GET and DELETE are 405 for a 2026-07-28 client (POST only); a notification is accepted with 202", async () => {
    const get = await fetch(tested.mcpUrl, { headers: { accept: "text/event-stream", "mcp-protocol-version": VERSION } })
    expect(get.status).toBe(405)
    expect(get.headers.get("allow")).toBe("POST")
    const del = await fetch(tested.mcpUrl, { method: "DELETE", headers: { "mcp-protocol-version": VERSION } })
    expect(del.status).toBe(405)
    const notified = await post(tested.mcpUrl, { jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: 1 } }, headersFor("notifications/cancelled"))
    expect(notified.status).toBe(202)
  })

  it("2025 sessions go on beside it: initialize, a session id, tools/list without 2026 fields", async () => {
    const { headers, initialize } = await openSession(tested.mcpUrl)
    expect(initialize.result.protocolVersion).toBe("2025-11-25")
    const listed = await post(tested.mcpUrl, { jsonrpc: "2.0", id: 2, method: "tools/list" }, headers)
    const { result } = await listed.json() as { result: Record<string, unknown> }
    expect(result["tools"]).toBeDefined()
    expect(result["resultType"]).toBeUndefined()
    expect(result["ttlMs"]).toBeUndefined()
    // A 2025 client asking initialize for 2026-07-28 (no envelope, no 2026 header) gets the newest session revision.
    const asked = await post(tested.mcpUrl, initializeBody(VERSION))
    expect(asked.headers.get("mcp-session-id")).not.toBeNull()
    expect((await asked.json() as { result: { protocolVersion: string } }).result.protocolVersion).toBe("2025-11-25")
  })
})

type Line = { id?: unknown; method?: string; params?: Record<string, unknown>; result?: Record<string, unknown>; error?: { code: number; message: string; data?: unknown } }

/** serveStdio in this process on a pipe: lines in, parsed lines out, awaited by what they say. */
const startStdio = (dataDir: string) => {
  const input = new PassThrough()
  const lines: Array<Line> = []
  let waiting: Array<() => void> = []
  const write = (line: string) => {
    lines.push(JSON.parse(line) as Line)
    const woken = waiting
    waiting = []
    for (const wake of woken) wake()
  }
  const layer = mcpLayerFor([...tools, ...testTools]).pipe(
    Layer.provideMerge(configLayer({ ...defaultSettings, dataDir, logLevel: "error" })),
    Layer.provideMerge(NodeContext.layer)
  )
  const served = Effect.runPromise(serveStdio({ input, write }).pipe(Effect.provide(layer)))
  const until = (found: (line: Line) => boolean) =>
    new Promise<Line>((resolve) => {
      const check = () => {
        const line = lines.find(found)
        if (line === undefined) waiting.push(check)
        else resolve(line)
      }
      check()
    })
  return {
    send: (message: unknown) => input.write(`${JSON.stringify(message)}\n`),
    answerTo: (id: number | string) => until((line) => line.id === id && line.method === undefined),
    until,
    lines,
    close: () => {
      input.end()
      return served
    }
  }
}

/**
 * SDK v2 probes the version on a second, throwaway process when given its own StdioClientTransport
 * (so a legacy server that exits on the probe costs nothing); a subclass probes in place, which
 * here saves starting the server twice.
 */
class InPlaceStdioTransport extends StdioClientTransport {}

describe("MCP 2026-07-28 over stdio", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "estat-stateless-stdio-"))
  let stdio: ReturnType<typeof startStdio>
  beforeAll(() => {
    stdio = startStdio(dataDir)
  })
  afterAll(async () => {
    await stdio.close()
    rmSync(dataDir, { recursive: true, force: true })
  })

  it("answers a request from its envelope with no handshake, as on HTTP: discover, lists with cache hints, calls", async () => {
    stdio.send(request("server/discover", {}, {}, "d"))
    stdio.send(request("tools/list", {}, {}, "l"))
    const discovered = await stdio.answerTo("d")
    expect(discovered.result).toMatchObject({ resultType: "complete", supportedVersions: expect.arrayContaining([VERSION]), _meta: { "io.modelcontextprotocol/serverInfo": { name: "estat-mcp" } } })
    expect((await stdio.answerTo("l")).result).toMatchObject({ ttlMs: 300_000, cacheScope: "public", resultType: "complete" })
  })

  it("a call with progressToken and logLevel sends its notifications on stdout before the result; none without", async () => {
    stdio.send(request("tools/call", { name: "count", arguments: { n: 2 } }, { progressToken: "sp", "io.modelcontextprotocol/logLevel": "info" }, "c1"))
    const counted = await stdio.answerTo("c1")
    expect(counted.result).toMatchObject({ resultType: "complete", structuredContent: { counted: 2 } })
    const notes = stdio.lines.filter((line) => line.params?.["progressToken"] === "sp" || line.method === "notifications/message")
    expect(notes.map((line) => line.method)).toEqual(["notifications/progress", "notifications/progress", "notifications/message"])
    stdio.send(request("tools/call", { name: "count", arguments: { n: 1 } }, {}, "c2"))
    await stdio.answerTo("c2")
    expect(stdio.lines.filter((line) => line.method === "notifications/message")).toHaveLength(1)
  })

  it("notifications/cancelled interrupts a 2026-07-28 call, which then gets no answer", async () => {
    armWait()
    stdio.send(request("tools/call", { name: "wait", arguments: {} }, { progressToken: "w" }, "w1"))
    await stdio.until((line) => line.params?.["progressToken"] === "w")
    stdio.send({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: "w1", _meta: envelope() } })
    await waitInterrupted
    expect(stdio.lines.filter((line) => line.id === "w1")).toEqual([])
  })

  const refusals: ReadonlyArray<{ name: string; body: Record<string, unknown>; code: number }> = [
    { name: "a revision we do not speak", body: request("tools/list", {}, { "io.modelcontextprotocol/protocolVersion": "2099-01-01" }, "r1"), code: -32022 },
    { name: "clientCapabilities missing", body: { jsonrpc: "2.0", id: "r2", method: "tools/list", params: { _meta: { "io.modelcontextprotocol/protocolVersion": VERSION } } }, code: -32602 },
    { name: "ping (removed)", body: request("ping", {}, {}, "r3"), code: -32601 },
    { name: "a tool's required capability undeclared", body: request("tools/call", { name: "summarize_with_model", arguments: {} }, {}, "r4"), code: -32021 }
  ]
  for (const refusal of refusals) {
    it(`refuses ${refusal.name} with ${refusal.code}`, async () => {
      stdio.send(refusal.body)
      expect((await stdio.answerTo(String(refusal.body["id"]))).error?.code).toBe(refusal.code)
    })
  }

  it("a request without the envelope still belongs to the process's 2025 session", async () => {
    stdio.send({ jsonrpc: "2.0", id: "s1", method: "tools/list" })
    const listed = await stdio.answerTo("s1")
    expect(listed.result?.["tools"]).toBeDefined()
    expect(listed.result?.["ttlMs"]).toBeUndefined()
  })

  it("SDK v2's client pinned to 2026-07-28 over stdio: the server started as a process", async () => {
    const fake = await startFakeEStat()
    const client = new Client({ name: "sdk-v2-stdio", version: "1.0.0" }, { versionNegotiation: { mode: { pin: VERSION } } })
    try {
      await client.connect(new InPlaceStdioTransport({
        command: process.execPath,
        args: [resolve("node_modules/tsx/dist/cli.mjs"), resolve("src/main.ts"), "--stdio"],
        env: { PATH: process.env["PATH"] ?? "", DATA_DIR: dataDir, ESTAT_API_BASE_URL: fake.baseUrl, ESTAT_APP_ID: FAKE_APP_ID },
        stderr: "pipe"
      }))
      const listed = await client.listTools()
      const applied = await client.callTool({
        name: "apply_keyword_suggestions",
        arguments: { original_query: "東京　年収", accepted_keywords: { 年収: "年間収入" } }
      })
      expect(client.getNegotiatedProtocolVersion()).toBe(VERSION)
      expect(listed).toMatchObject({ ttlMs: 300_000, cacheScope: "public" })
      expect(applied.structuredContent).toMatchObject({ transformed_query: "東京　年間収入" })
    } finally {
      await client.close()
      await fake.close()
    }
  }, 60_000)
})
