import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import { Duration, Option, Redacted } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { openSession, post } from "../support/rawMcp.js"
import { type RunningServer, startTestServer } from "../support/testServer.js"

const secret = Option.some(Redacted.make("a-shared-session-secret-of-at-least-32-chars"))

/** Two tasks behind a load balancer without stickiness: requests of one session land on either. */
describe("sessions across tasks (MCP_SESSION_SECRET)", () => {
  let a: RunningServer
  let b: RunningServer
  let otherSecret: RunningServer
  beforeAll(async () => {
    a = await startTestServer({ sessionSecret: secret })
    b = await startTestServer({ sessionSecret: secret })
    otherSecret = await startTestServer({ sessionSecret: Option.some(Redacted.make("another-secret-that-is-32-chars-long!")) })
  })
  afterAll(async () => {
    await Promise.all([a.close(), b.close(), otherSecret.close()])
  })

  it("a session begun on one task goes on on another, with its protocol version", async () => {
    const { headers, sessionId } = await openSession(a.mcpUrl, "2025-06-18")
    expect(sessionId.split(".")).toHaveLength(4)
    const onB = await post(b.mcpUrl, { jsonrpc: "2.0", id: 2, method: "tools/list" }, headers)
    expect(onB.status).toBe(200)
    expect(((await onB.json()) as { result: { tools: Array<unknown> } }).result.tools.length).toBeGreaterThan(0)
    // A task with another secret, or a tampered id, still says 404 so the client re-initialises.
    expect((await post(otherSecret.mcpUrl, { jsonrpc: "2.0", id: 3, method: "ping" }, headers)).status).toBe(404)
    const tampered = { ...headers, "mcp-session-id": sessionId.replace(".2025-06-18.", ".2025-11-25.") }
    expect((await post(b.mcpUrl, { jsonrpc: "2.0", id: 4, method: "ping" }, tampered)).status).toBe(404)
  })

  it("an ended session is not adopted back on the task that ended it, nor anywhere after its maximum age", async () => {
    const { headers } = await openSession(a.mcpUrl, "2025-06-18")
    expect((await post(b.mcpUrl, { jsonrpc: "2.0", id: 5, method: "ping" }, headers)).status).toBe(200)
    const ended = await fetch(b.mcpUrl, { method: "DELETE", headers })
    expect(ended.status).toBe(200)
    expect((await post(b.mcpUrl, { jsonrpc: "2.0", id: 6, method: "ping" }, headers)).status).toBe(404)
    const strict = await startTestServer({ sessionSecret: secret, sessionMaxAge: Duration.millis(1) })
    try {
      await new Promise((resolve) => setTimeout(resolve, 5))
      expect((await post(strict.mcpUrl, { jsonrpc: "2.0", id: 7, method: "ping" }, headers)).status).toBe(404)
    } finally {
      await strict.close()
    }
  })

  it("the SDK client works against tasks taking turns", async () => {
    let turn = 0
    const alternating: typeof fetch = (input, init) => {
      const target = new URL(String(input instanceof Request ? input.url : input))
      const server = turn++ % 2 === 0 ? a : b
      return fetch(new URL(target.pathname, server.url), init)
    }
    const client = new Client({ name: "behind-alb", version: "1.0.0" })
    await client.connect(new StreamableHTTPClientTransport(a.mcpUrl, { fetch: alternating }))
    const results = await Promise.all([client.listTools(), client.ping(), client.listTools()])
    expect(results[0].tools.length).toBeGreaterThan(0)
    await client.callTool({ name: "apply_keyword_suggestions", arguments: { original_query: "年収", accepted_keywords: { 年収: "年間収入" } } })
    await client.close()
    expect(turn).toBeGreaterThan(4)
  })
})
