import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { type RunningServer, startTestServer } from "../support/testServer.js"

const initialize = (server: RunningServer, headers: Record<string, string> = {}) =>
  fetch(server.mcpUrl, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...headers },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "rate", version: "1.0.0" } }
    })
  })

const statuses = async (server: RunningServer, count: number, headers: (i: number) => Record<string, string> = () => ({})) => {
  const answered: Array<number> = []
  for (let i = 0; i < count; i++) answered.push((await initialize(server, headers(i))).status)
  return answered
}

describe("the per-client cap on new sessions (MCP_SESSION_RATE_LIMIT)", () => {
  let direct: RunningServer
  let behindProxy: RunningServer
  beforeAll(async () => {
    direct = await startTestServer({ sessionRateLimit: 5, logLevel: "error" })
    behindProxy = await startTestServer({ sessionRateLimit: 5, trustedProxies: 1, logLevel: "error" })
  })
  afterAll(async () => {
    await direct.close()
    await behindProxy.close()
  })

  it("answers 429 with Retry-After once a client has opened its budget, for /mcp and /sse alike", async () => {
    expect(await statuses(direct, 5)).toEqual([200, 200, 200, 200, 200])
    const refused = await initialize(direct)
    expect(refused.status).toBe(429)
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1)
    expect(Number(refused.headers.get("retry-after"))).toBeLessThanOrEqual(12)
    expect(await refused.json()).toMatchObject({ error: { code: -32000, message: expect.stringMatching(/^Too many new sessions from this client/) } })
    const legacy = await fetch(`${direct.url}/sse`, { headers: { accept: "text/event-stream" } })
    expect(legacy.status).toBe(429)
    // Requests in sessions already open go on.
    expect((await fetch(`${direct.url}/health`)).status).toBe(200)
  })

  // Runs after the budget of 127.0.0.1 is spent above.
  it("does not read X-Forwarded-For unless proxies are trusted: forged entries buy no new budget", async () => {
    const forged = await statuses(direct, 3, (i) => ({ "x-forwarded-for": `203.0.113.${i}` }))
    expect(forged).toEqual([429, 429, 429])
  })

  it("behind one trusted proxy, counts the address that proxy appended, not what the client wrote left of it", async () => {
    const spoofing = await statuses(behindProxy, 7, (i) => ({ "x-forwarded-for": `10.0.0.${i}, 198.51.100.7` }))
    expect(spoofing).toEqual([200, 200, 200, 200, 200, 429, 429])
    expect(await statuses(behindProxy, 1, () => ({ "x-forwarded-for": "198.51.100.8" }))).toEqual([200])
    // IPv6 clients count per /64.
    const v6 = await statuses(behindProxy, 6, (i) => ({ "x-forwarded-for": `2001:db8:1:2::${i + 1}` }))
    expect(v6).toEqual([200, 200, 200, 200, 200, 429])
  })
})
