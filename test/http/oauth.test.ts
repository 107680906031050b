import { Option, Redacted } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { initializeBody, openSession, post } from "../support/rawMcp.js"
import { type RunningServer, startTestServer } from "../support/testServer.js"
import { type LocalIssuer, startIssuer } from "./localIssuer.js"

/** MCP_AUTH_MODE=oauth on the real server: the metadata, the challenges, scopes, and sessions bound to their subject. */

const PUBLIC_URL = "https://mcp.example.test"
const AUDIENCE = `${PUBLIC_URL}/mcp`
const METADATA_URL = `${PUBLIC_URL}/.well-known/oauth-protected-resource`

let issuer: LocalIssuer
let server: RunningServer

beforeAll(async () => {
  issuer = await startIssuer()
  server = await startTestServer({ oauth: Option.some({ issuer: issuer.issuer, audience: AUDIENCE, publicUrl: PUBLIC_URL, scopePrefix: "", clientIds: [] }) })
})

afterAll(async () => {
  await server?.close()
  await issuer?.close()
})

const nowSeconds = () => Math.floor(Date.now() / 1000)

const tokenFor = (sub: string, overrides: Record<string, unknown> = {}) =>
  issuer.sign({ iss: issuer.issuer, aud: AUDIENCE, sub, scope: "estat:read", iat: nowSeconds(), exp: nowSeconds() + 300, ...overrides })

const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

const listTools = { jsonrpc: "2.0", id: 2, method: "tools/list", params: {} }

describe("MCP_AUTH_MODE=oauth", () => {
  it("publishes RFC 9728 metadata at the root and under /mcp, without a token", async () => {
    for (const path of ["/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/mcp"]) {
      const response = await fetch(`${server.url}${path}`)
      expect(response.status).toBe(200)
      expect(await response.json()).toEqual({
        resource: AUDIENCE,
        authorization_servers: [issuer.issuer],
        scopes_supported: ["estat:read", "estat:write"],
        bearer_methods_supported: ["header"],
        resource_name: "estat-mcp"
      })
    }
    expect((await fetch(`${server.url}/health`)).status).toBe(200)
  })

  it("answers a request without a token 401 with the metadata's address, on /mcp and /sse alike", async () => {
    const response = await post(server.mcpUrl, initializeBody())
    expect(response.status).toBe(401)
    expect(response.headers.get("www-authenticate")).toBe(`Bearer resource_metadata="${METADATA_URL}", scope="estat:read"`)
    const fromBrowser = await post(server.mcpUrl, initializeBody(), { origin: "http://localhost:6274" })
    expect(fromBrowser.status).toBe(401)
    expect(fromBrowser.headers.get("access-control-allow-origin")).toBe("http://localhost:6274")
    expect(fromBrowser.headers.get("access-control-expose-headers")).toContain("WWW-Authenticate")
    const sse = await fetch(`${server.url}/sse`, { headers: { accept: "text/event-stream" } })
    expect(sse.status).toBe(401)
    await sse.body?.cancel()
  })

  it("answers an invalid token 401 invalid_token, a token in the query string is not looked at", async () => {
    const expired = await tokenFor("user-1", { iat: nowSeconds() - 600, exp: nowSeconds() - 60 })
    const response = await post(server.mcpUrl, initializeBody(), bearer(expired))
    expect(response.status).toBe(401)
    expect(response.headers.get("www-authenticate")).toBe(
      `Bearer resource_metadata="${METADATA_URL}", scope="estat:read", error="invalid_token", error_description="'exp' claim timestamp check failed"`
    )
    const otherAudience = await tokenFor("user-1", { aud: "https://other.example.test/mcp" })
    expect((await post(server.mcpUrl, initializeBody(), bearer(otherAudience))).status).toBe(401)
    const valid = await tokenFor("user-1")
    expect((await post(`${server.mcpUrl.href}?access_token=${valid}`, initializeBody())).status).toBe(401)
  })

  it("answers a token without estat:read 403 insufficient_scope naming the scope", async () => {
    const writeOnly = await tokenFor("user-1", { scope: "estat:write" })
    const response = await post(server.mcpUrl, initializeBody(), bearer(writeOnly))
    expect(response.status).toBe(403)
    expect(response.headers.get("www-authenticate")).toBe(
      `Bearer resource_metadata="${METADATA_URL}", scope="estat:read", error="insufficient_scope", error_description="needs estat:read"`
    )
  })

  it("serves a valid token, and a session only to the subject that opened it (404 to another)", async () => {
    const alice = bearer(await tokenFor("alice"))
    const bob = bearer(await tokenFor("bob"))
    const response = await post(server.mcpUrl, initializeBody(), alice)
    expect(response.status).toBe(200)
    const sessionId = response.headers.get("mcp-session-id") ?? ""
    await response.text()
    const headers = { "mcp-session-id": sessionId, "mcp-protocol-version": "2025-11-25" }
    const byBob = await post(server.mcpUrl, listTools, { ...headers, ...bob })
    expect(byBob.status).toBe(404)
    const byAlice = await post(server.mcpUrl, listTools, { ...headers, ...alice })
    expect(byAlice.status).toBe(200)
    expect(((await byAlice.json()) as { result: { tools: ReadonlyArray<unknown> } }).result.tools.length).toBeGreaterThan(0)
    const deleteByBob = await fetch(server.mcpUrl, { method: "DELETE", headers: { ...headers, ...bob } })
    expect(deleteByBob.status).toBe(404)
  })

  it("answers a writing tool without estat:write 403 insufficient_scope naming both scopes; reading tools and write tokens pass", async () => {
    const reader = bearer(await tokenFor("carol"))
    const writer = bearer(await tokenFor("carol", { scope: "estat:read estat:write" }))
    const opened = await post(server.mcpUrl, initializeBody(), reader)
    await opened.text()
    const headers = { "mcp-session-id": opened.headers.get("mcp-session-id") ?? "", "mcp-protocol-version": "2025-11-25" }
    const call = (name: string) => ({ jsonrpc: "2.0", id: 3, method: "tools/call", params: { name, arguments: {} } })
    const refused = await post(server.mcpUrl, call("load_to_iceberg"), { ...headers, ...reader })
    expect(refused.status).toBe(403)
    expect(refused.headers.get("www-authenticate")).toBe(
      `Bearer resource_metadata="${METADATA_URL}", scope="estat:read estat:write", error="insufficient_scope", error_description="load_to_iceberg needs estat:write"`
    )
    // 2025-03-26 sessions take batches: one writing call in one refuses it all.
    const older = await post(server.mcpUrl, initializeBody("2025-03-26"), reader)
    await older.text()
    const olderHeaders = { "mcp-session-id": older.headers.get("mcp-session-id") ?? "", "mcp-protocol-version": "2025-03-26" }
    const inBatch = await post(server.mcpUrl, [listTools, call("save_dataset_as_csv")], { ...olderHeaders, ...reader })
    expect(inBatch.status).toBe(403)
    const readingBatch = await post(server.mcpUrl, [listTools], { ...olderHeaders, ...reader })
    expect(readingBatch.status).toBe(200)
    await readingBatch.text()
    const reading = await post(server.mcpUrl, call("search_estat_data"), { ...headers, ...reader })
    expect(reading.status).toBe(200)
    await reading.body?.cancel()
    const writing = await post(server.mcpUrl, call("load_to_iceberg"), { ...headers, ...writer })
    expect(writing.status).toBe(200)
    await writing.body?.cancel()
    // 2026-07-28 requests carry no session: the same refusal.
    const stateless = await post(server.mcpUrl, {
      ...call("transform_to_parquet"),
      params: {
        name: "transform_to_parquet",
        arguments: {},
        _meta: {
          "io.modelcontextprotocol/protocolVersion": "2026-07-28",
          "io.modelcontextprotocol/clientInfo": { name: "raw-2026", version: "1.0.0" },
          "io.modelcontextprotocol/clientCapabilities": {}
        }
      }
    }, { ...reader, "mcp-protocol-version": "2026-07-28", "mcp-method": "tools/call", "mcp-name": "transform_to_parquet" })
    expect(stateless.status).toBe(403)
  })

  it("refuses a writing tool on the legacy SSE transport too (403 on POST /messages), reading calls are accepted", async () => {
    const reader = bearer(await tokenFor("dave"))
    const controller = new AbortController()
    const stream = await fetch(`${server.url}/sse`, { headers: { ...reader, accept: "text/event-stream" }, signal: controller.signal })
    const events = stream.body!.pipeThrough(new TextDecoderStream()).getReader()
    let text = ""
    while (!text.includes("\n\n")) text += (await events.read()).value ?? ""
    const sessionId = decodeURIComponent(/sessionId=([^\s&]+)/.exec(text)?.[1] ?? "")
    const messages = `${server.url}/messages?sessionId=${encodeURIComponent(sessionId)}`
    const call = (name: string) => ({ jsonrpc: "2.0", id: 4, method: "tools/call", params: { name, arguments: {} } })
    const refused = await post(messages, call("load_to_iceberg"), reader)
    expect(refused.status).toBe(403)
    expect(refused.headers.get("www-authenticate")).toContain('error="insufficient_scope"')
    expect((await post(messages, listTools, reader)).status).toBe(202)
    controller.abort()
  })

  it("behind a load balancer (MCP_SESSION_SECRET), another task adopts a session only for its own subject", async () => {
    const shared = {
      oauth: Option.some({ issuer: issuer.issuer, audience: AUDIENCE, publicUrl: PUBLIC_URL, scopePrefix: "", clientIds: [] }),
      sessionSecret: Option.some(Redacted.make("a-secret-shared-by-every-task-0123456789"))
    }
    const taskA = await startTestServer(shared)
    const taskB = await startTestServer(shared)
    try {
      const alice = bearer(await tokenFor("alice"))
      const bob = bearer(await tokenFor("bob"))
      const opened = await post(taskA.mcpUrl, initializeBody(), alice)
      await opened.text()
      const headers = { "mcp-session-id": opened.headers.get("mcp-session-id") ?? "", "mcp-protocol-version": "2025-11-25" }
      expect((await post(taskB.mcpUrl, listTools, { ...headers, ...bob })).status).toBe(404)
      const byAlice = await post(taskB.mcpUrl, listTools, { ...headers, ...alice })
      expect(byAlice.status).toBe(200)
      await byAlice.text()
      // Adopted for Alice: still not Bob's.
      expect((await post(taskB.mcpUrl, listTools, { ...headers, ...bob })).status).toBe(404)
    } finally {
      await taskA.close()
      await taskB.close()
    }
  })

  it("opens no session without a token", async () => {
    await expect(openSession(server.mcpUrl)).rejects.toThrow(/initialize failed: 401/)
  })
})
