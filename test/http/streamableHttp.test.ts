import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { request } from "node:http"
import { Duration, Effect, Option, Redacted } from "effect"
import { tools } from "../../src/tools/registry.js"
import { slowEcho, slowLongEcho, slowQuietEcho } from "../support/slowEcho.js"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { initializeBody, jsonHeaders, openSession, post, readSse } from "../support/rawMcp.js"
import { s3rver, TEST_BUCKET } from "../support/s3rver.js"
import { type RunningServer, startTestServer } from "../support/testServer.js"

const callApply = (id: number) => ({
  jsonrpc: "2.0",
  id,
  method: "tools/call",
  params: { name: "apply_keyword_suggestions", arguments: { original_query: "北海道の収入", accepted_keywords: { 収入: "所得" } } }
})

/** node:http, because fetch does not let a caller set Host. */
const rawPost = (url: URL, body: string, headers: Record<string, string>) =>
  new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(url, { method: "POST", headers: { ...jsonHeaders, ...headers } }, (res) => {
      let text = ""
      res.on("data", (chunk: Buffer) => (text += chunk.toString("utf8")))
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }))
    })
    req.on("error", reject)
    req.end(body)
  })


describe("Streamable HTTP transport", () => {
  let server: RunningServer
  let slow: RunningServer
  beforeAll(async () => {
    slow = await startTestServer({}, [...tools, slowEcho, slowQuietEcho, slowLongEcho])
    server = await startTestServer({
      maxBodyBytes: 64 * 1024,
      dataDir: mkdtempSync(join(tmpdir(), "estat-mcp-http-")),
      allowedOrigins: ["http://localhost", "https://app.example.com"],
      sseKeepAlive: Duration.seconds(30)
    })
  })
  afterAll(async () => {
    await server.close()
    await slow.close()
  })

  it("initialize issues a random session id and negotiates the version", async () => {
    const a = await post(server.mcpUrl, initializeBody("2025-06-18"))
    const b = await post(server.mcpUrl, initializeBody("1999-01-01"))
    expect(a.status).toBe(200)
    expect(a.headers.get("content-type")).toContain("application/json")
    const idA = a.headers.get("mcp-session-id")!
    const idB = b.headers.get("mcp-session-id")!
    expect(idA).toMatch(/^[\x21-\x7e]{40,}$/)
    expect(idA).not.toBe(idB)
    const bodyA = await a.json() as { result: { protocolVersion: string; serverInfo: { name: string }; capabilities: object } }
    expect(bodyA.result.protocolVersion).toBe("2025-06-18")
    expect(bodyA.result.serverInfo.name).toBe("estat-mcp")
    expect(bodyA.result.capabilities).toEqual({
      tools: { listChanged: false },
      resources: { listChanged: false, subscribe: false },
      logging: {},
      // MCP Apps (MCP_APPS, on by default): the chart app the fetch and analysis tools link.
      extensions: { "io.modelcontextprotocol/ui": { mimeTypes: ["text/html;profile=mcp-app"] } }
    })
    const bodyB = await b.json() as { result: { protocolVersion: string } }
    expect(bodyB.result.protocolVersion).toBe("2025-11-25")
    const old = await openSession(server.mcpUrl, "2024-11-05")
    expect(old.initialize.result.protocolVersion).toBe("2024-11-05")
  })

  it("requires the session header (400) and rejects unknown sessions (404)", async () => {
    const missing = await post(server.mcpUrl, { jsonrpc: "2.0", id: 2, method: "ping" })
    expect(missing.status).toBe(400)
    expect(await missing.json()).toMatchObject({ error: { code: -32000, message: "Bad Request: Mcp-Session-Id header is required" } })
    const unknown = await post(server.mcpUrl, { jsonrpc: "2.0", id: 2, method: "ping" }, { "mcp-session-id": "nope" })
    expect(unknown.status).toBe(404)
    expect(await unknown.json()).toMatchObject({ error: { code: -32001 } })
  })

  it("answers ping, unknown methods and unknown tools with the JSON-RPC codes", async () => {
    const { headers } = await openSession(server.mcpUrl)
    const ping = await post(server.mcpUrl, { jsonrpc: "2.0", id: "p", method: "ping" }, headers)
    expect(await ping.json()).toEqual({ jsonrpc: "2.0", id: "p", result: {} })
    const unknownMethod = await post(server.mcpUrl, { jsonrpc: "2.0", id: 3, method: "nope/nothing" }, headers)
    expect(await unknownMethod.json()).toEqual({ jsonrpc: "2.0", id: 3, error: { code: -32601, message: "Method not found: nope/nothing" } })
    const unknownTool = await post(server.mcpUrl, { jsonrpc: "2.0", id: 4, method: "tools/call", params: { name: "drop_everything", arguments: {} } }, headers)
    expect(await unknownTool.json()).toMatchObject({ id: 4, error: { code: -32602, message: expect.stringContaining("Unknown tool: drop_everything") } })
  })

  it("malformed JSON is -32700 and a non-JSON-RPC body -32600, both HTTP 400", async () => {
    const { headers } = await openSession(server.mcpUrl)
    const bad = await post(server.mcpUrl, "{not json", headers)
    expect(bad.status).toBe(400)
    expect(await bad.json()).toEqual({ jsonrpc: "2.0", id: null, error: { code: -32700, message: "Parse error: the body is not valid JSON" } })
    const invalid = await post(server.mcpUrl, { hello: "world" }, headers)
    expect(invalid.status).toBe(400)
    expect(await invalid.json()).toMatchObject({ error: { code: -32600 } })
  })

  it("checks Accept (406), Content-Type (415) and body size (413)", async () => {
    const { headers } = await openSession(server.mcpUrl)
    const notAcceptable = await fetch(server.mcpUrl, { method: "POST", headers: { ...headers, "content-type": "application/json", accept: "application/json" }, body: "{}" })
    expect(notAcceptable.status).toBe(406)
    const wrongType = await fetch(server.mcpUrl, { method: "POST", headers: { ...headers, accept: jsonHeaders.accept, "content-type": "text/plain" }, body: "{}" })
    expect(wrongType.status).toBe(415)
    const huge = await post(server.mcpUrl, { jsonrpc: "2.0", id: 9, method: "ping", params: { pad: "x".repeat(100 * 1024) } }, headers)
    expect(huge.status).toBe(413)
    expect(await huge.json()).toMatchObject({ error: { message: "Payload Too Large: the body exceeds 65536 bytes" } })
  })

  it("validates MCP-Protocol-Version and refuses a second initialize", async () => {
    const { headers, sessionId } = await openSession(server.mcpUrl)
    const bad = await post(server.mcpUrl, { jsonrpc: "2.0", id: 1, method: "ping" }, { ...headers, "mcp-protocol-version": "2099-01-01" })
    expect(bad.status).toBe(400)
    expect(await bad.json()).toMatchObject({ error: { message: expect.stringContaining("unsupported MCP-Protocol-Version 2099-01-01") } })
    const again = await post(server.mcpUrl, initializeBody(), { "mcp-session-id": sessionId })
    expect(again.status).toBe(400)
    expect(await again.json()).toMatchObject({ error: { code: -32600 } })
  })

  it("notifications get 202 with an empty body", async () => {
    const { headers } = await openSession(server.mcpUrl)
    const response = await post(server.mcpUrl, { jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: 77 } }, headers)
    expect(response.status).toBe(202)
    expect(await response.text()).toBe("")
  })

  it("a quick tools/call is answered as JSON; bad arguments are isError results", async () => {
    const { headers } = await openSession(server.mcpUrl)
    const response = await post(server.mcpUrl, callApply(5), headers)
    expect(response.headers.get("content-type")).toContain("application/json")
    expect(await response.json()).toMatchObject({ id: 5, result: { isError: false, structuredContent: { transformed_query: "北海道の所得" } } })
    const invalid = await post(server.mcpUrl, { jsonrpc: "2.0", id: 6, method: "tools/call", params: { name: "apply_keyword_suggestions", arguments: { original_query: "" } } }, headers)
    const result = await invalid.json() as { result: { isError: boolean; content: Array<{ text: string }> } }
    expect(result.result.isError).toBe(true)
    expect(result.result.content[0]!.text).toContain("Invalid arguments for apply_keyword_suggestions")
    expect(result.result.content[0]!.text).toContain("accepted_keywords")
  })

  it("a call that sends a message before its result streams its answer as SSE, primed, with event ids", async () => {
    const { headers } = await openSession(slow.mcpUrl)
    const response = await post(slow.mcpUrl, { jsonrpc: "2.0", id: 7, method: "tools/call", params: { name: "slow_echo", arguments: { text: "やあ" } } }, headers)
    expect(response.headers.get("content-type")).toContain("text/event-stream")
    const events = await readSse(response)
    expect(events[0]).toMatchObject({ data: "", retry: 1000 })
    expect(JSON.parse(events[1]!.data)).toMatchObject({ method: "notifications/message", params: { level: "info", data: "echoing in 150 ms" } })
    const last = events.at(-1)!
    expect(last.id).toMatch(/_\d+$/)
    expect(JSON.parse(last.data)).toMatchObject({ id: 7, result: { isError: false, structuredContent: { text: "やあ" } } })
  })

  it("a slow call that sends nothing before its result is answered as plain JSON (no timer decides)", async () => {
    const { headers } = await openSession(slow.mcpUrl)
    const response = await post(slow.mcpUrl, { jsonrpc: "2.0", id: 8, method: "tools/call", params: { name: "slow_quiet_echo", arguments: { text: "しずか" } } }, headers)
    expect(response.headers.get("content-type")).toContain("application/json")
    expect(await response.json()).toMatchObject({ id: 8, result: { isError: false, structuredContent: { text: "しずか" } } })
  })

  it("a call of a tool that may run for minutes streams at once, though it sends nothing before its result (keep-alives hold it open)", async () => {
    const { headers } = await openSession(slow.mcpUrl)
    const response = await post(slow.mcpUrl, { jsonrpc: "2.0", id: 9, method: "tools/call", params: { name: "slow_long_echo", arguments: { text: "ながい" } } }, headers)
    expect(response.headers.get("content-type")).toContain("text/event-stream")
    const events = await readSse(response)
    expect(events[0]!.data).toBe("")
    expect(JSON.parse(events.at(-1)!.data)).toMatchObject({ id: 9, result: { isError: false, structuredContent: { text: "ながい" } } })
  })

  it("so does a 2026-07-28 call of such a tool without the Tasks extension; declaring it, the call is a task answered as JSON", async () => {
    const meta = (clientCapabilities: Record<string, unknown>) => ({
      "io.modelcontextprotocol/protocolVersion": "2026-07-28",
      "io.modelcontextprotocol/clientInfo": { name: "raw-2026", version: "1.0.0" },
      "io.modelcontextprotocol/clientCapabilities": clientCapabilities
    })
    const headers = { "mcp-protocol-version": "2026-07-28", "mcp-method": "tools/call", "mcp-name": "slow_long_echo" }
    const call = (id: number, clientCapabilities: Record<string, unknown>) =>
      post(slow.mcpUrl, { jsonrpc: "2.0", id, method: "tools/call", params: { name: "slow_long_echo", arguments: { text: "ながい" }, _meta: meta(clientCapabilities) } }, headers)
    const plain = await call(10, {})
    expect(plain.headers.get("content-type")).toContain("text/event-stream")
    const events = await readSse(plain)
    expect(JSON.parse(events.at(-1)!.data)).toMatchObject({ id: 10, result: { isError: false, structuredContent: { text: "ながい" } } })
    const asTask = await call(11, { extensions: { "io.modelcontextprotocol/tasks": {} } })
    expect(asTask.headers.get("content-type")).toContain("application/json")
    expect(await asTask.json()).toMatchObject({ id: 11, result: { resultType: "task" } })
  })

  it("accepts batches only from 2025-03-26 sessions", async () => {
    const v0326 = await openSession(server.mcpUrl, "2025-03-26")
    const batch = [{ jsonrpc: "2.0", id: 1, method: "ping" }, { jsonrpc: "2.0", method: "notifications/initialized" }, { jsonrpc: "2.0", id: 2, method: "ping" }]
    const ok = await post(server.mcpUrl, batch, v0326.headers)
    expect(await ok.json()).toEqual([{ jsonrpc: "2.0", id: 1, result: {} }, { jsonrpc: "2.0", id: 2, result: {} }])
    const v0618 = await openSession(server.mcpUrl, "2025-06-18")
    const refused = await post(server.mcpUrl, batch, v0618.headers)
    expect(refused.status).toBe(400)
    expect(await refused.json()).toMatchObject({ error: { code: -32600, message: "Invalid Request: JSON-RPC batches are not part of MCP 2025-06-18" } })
  })

  it("DELETE ends the session; later requests get 404", async () => {
    const { headers } = await openSession(server.mcpUrl)
    const deleted = await fetch(server.mcpUrl, { method: "DELETE", headers })
    expect(deleted.status).toBe(200)
    const after = await post(server.mcpUrl, { jsonrpc: "2.0", id: 1, method: "ping" }, headers)
    expect(after.status).toBe(404)
  })

  it("allows one standalone GET stream per session (409 for a second)", async () => {
    const { headers } = await openSession(server.mcpUrl)
    const first = await fetch(server.mcpUrl, { headers: { ...headers, accept: "text/event-stream" } })
    expect(first.status).toBe(200)
    expect(first.headers.get("content-type")).toContain("text/event-stream")
    const second = await fetch(server.mcpUrl, { headers: { ...headers, accept: "text/event-stream" } })
    expect(second.status).toBe(409)
    await first.body!.cancel()
  })

  it("rejects foreign Origins (403) and a rebinding Host (403); allowed origins get CORS", async () => {
    const evil = await post(server.mcpUrl, initializeBody(), { origin: "http://evil.example" })
    expect(evil.status).toBe(403)
    expect(await evil.json()).toMatchObject({ error: { message: "Forbidden: Origin http://evil.example is not allowed; add it to MCP_ALLOWED_ORIGINS" } })
    const good = await post(server.mcpUrl, initializeBody(), { origin: "http://localhost:6274" })
    expect(good.status).toBe(200)
    expect(good.headers.get("access-control-allow-origin")).toBe("http://localhost:6274")
    expect(good.headers.get("access-control-expose-headers")).toContain("Mcp-Session-Id")
    const preflight = await fetch(server.mcpUrl, { method: "OPTIONS", headers: { origin: "https://app.example.com", "access-control-request-method": "POST" } })
    expect(preflight.status).toBe(204)
    expect(preflight.headers.get("access-control-allow-headers")).toContain("Mcp-Session-Id")
    const rebinding = await rawPost(server.mcpUrl, JSON.stringify(initializeBody()), { host: "attacker.example:8080" })
    expect(rebinding.status).toBe(403)
    expect(rebinding.body).toContain("DNS rebinding")
  })

  it("GET /health answers fast; /ready checks the data dir", async () => {
    const health = await fetch(`${server.url}/health`)
    expect(health.status).toBe(200)
    const body = await health.json() as { status: string; timestamp: string }
    expect(body.status).toBe("healthy")
    expect(new Date(body.timestamp).toISOString()).toBe(body.timestamp)
    const ready = await fetch(`${server.url}/ready`)
    expect(ready.status).toBe(200)
    expect(await ready.json()).toMatchObject({ status: "ready", backend: "local" })
  })
})

describe("bearer authentication", () => {
  let server: RunningServer
  beforeAll(async () => {
    server = await startTestServer({ authToken: Option.some(Redacted.make("s3cret-token")) })
  })
  afterAll(() => server.close())

  it("401 with WWW-Authenticate when missing or wrong; accepted when right; /health open", async () => {
    const missing = await post(server.mcpUrl, initializeBody())
    expect(missing.status).toBe(401)
    expect(missing.headers.get("www-authenticate")).toBe('Bearer realm="estat-mcp"')
    const wrong = await post(server.mcpUrl, initializeBody(), { authorization: "Bearer s3cret-tokem" })
    expect(wrong.status).toBe(401)
    expect(await wrong.text()).not.toContain("s3cret")
    const right = await post(server.mcpUrl, initializeBody(), { authorization: "Bearer s3cret-token" })
    expect(right.status).toBe(200)
    expect((await fetch(`${server.url}/health`)).status).toBe(200)
  })
})

describe("SSE keep-alive", () => {
  let server: RunningServer
  beforeAll(async () => {
    server = await startTestServer({ sseKeepAlive: Duration.millis(50) })
  })
  afterAll(() => server.close())

  it("an idle GET stream carries `: ping` comments", async () => {
    const { headers } = await openSession(server.mcpUrl)
    const response = await fetch(server.mcpUrl, { headers: { ...headers, accept: "text/event-stream" } })
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader()
    let text = ""
    while (!text.includes(": ping\n\n")) {
      const { done, value } = await reader.read()
      if (done) break
      text += value
    }
    await reader.cancel()
    expect(text.startsWith(": stream open\n\n")).toBe(true)
    expect(text).toContain(": ping\n\n")
  })
})

interface Readiness { readonly status: string; readonly backend: string; readonly checks: ReadonlyArray<{ readonly name: string; readonly ok: boolean; readonly detail: string }> }
const readyOf = (url: string) => fetch(`${url}/ready`).then(async (r) => ({ status: r.status, body: (await r.json()) as Readiness }))

describe("/ready on the aws backend", () => {
  it.scopedLive("is ready when the bucket takes a write; a bucket that does not exist stops the start, naming S3_BUCKET", () =>
    Effect.gen(function* () {
      const { endpoint } = yield* s3rver
      const aws = { backend: "aws" as const, s3Endpoint: Option.some(endpoint), s3Prefix: "lake" }
      const good = yield* Effect.acquireRelease(Effect.promise(() => startTestServer({ ...aws, s3Bucket: Option.some(TEST_BUCKET) })), (s) => Effect.promise(() => s.close()))
      const ready = yield* Effect.promise(() => readyOf(good.url))
      expect(ready).toMatchObject({ status: 200, body: { status: "ready", backend: "aws" } })
      expect(ready.body.checks[0]).toEqual({ name: "storage", ok: true, detail: "s3://estat-test/lake/ is writable" })
      const refused = yield* Effect.flip(Effect.tryPromise(() => startTestServer({ ...aws, s3Bucket: Option.some("no-such-bucket") })))
      expect(String(refused.cause)).toContain("S3_BUCKET no-such-bucket cannot be used: no such bucket")
    }))
})
