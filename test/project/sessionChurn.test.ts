import { execFileSync } from "node:child_process"
import { Agent, request } from "node:http"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { type BundleProcess, startBundle } from "../support/bundleProcess.js"

/** Resident memory of a process, in MB, read from outside it. */
const rssMb = (pid: number) => Number(execFileSync("ps", ["-o", "rss=", "-p", String(pid)]).toString().trim()) / 1024

const WARM_UP = 2_000
const CHURN = 20_000
const CONNECTIONS = 4

/**
 * Sessions cost nothing once gone: the production bundle with the image's heap flags, capped at
 * 50 sessions, answers 22,000 `initialize` calls from one client (each evicting the least
 * recently used session) and its resident memory after warm-up grows by less than 50 MB. Before
 * the fix each call left ~40 kB behind and this heap died after ~6,000 calls.
 */
describe("session churn on the production bundle", () => {
  let server: BundleProcess
  let port = 0
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS })
  beforeAll(async () => {
    // The Dockerfile's NODE_OPTIONS and MALLOC_ARENA_MAX.
    server = await startBundle("estat-mcp-churn", {
      nodeFlags: ["--max-old-space-size=128", "--max-semi-space-size=8"],
      env: {
        MALLOC_ARENA_MAX: "2",
        MCP_MAX_SESSIONS: "50",
        // One client opens every session here: its per-client budget is lifted for the churn.
        MCP_SESSION_RATE_LIMIT: "0"
      }
    })
    port = server.port
  }, 60_000)
  afterAll(() => {
    agent.destroy()
    server.stop()
  })

  const body = JSON.stringify({
    jsonrpc: "2.0",
    id: 1,
    method: "initialize",
    params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "churn", version: "1.0.0" } }
  })
  const initialize = () =>
    new Promise<number>((resolve, reject) => {
      const req = request({
        host: "127.0.0.1",
        port,
        path: "/mcp",
        method: "POST",
        agent,
        headers: { "content-type": "application/json", accept: "application/json, text/event-stream" }
      }, (response) => {
        response.resume()
        response.on("end", () => resolve(response.statusCode ?? 0))
      })
      req.on("error", reject)
      req.end(body)
    })
  /** `count` calls over CONNECTIONS keep-alive connections; the number answered by status. */
  const churn = async (count: number) => {
    const statuses = new Map<number, number>()
    let started = 0
    const connection = async () => {
      while (started < count) {
        started += 1
        const status = await initialize()
        statuses.set(status, (statuses.get(status) ?? 0) + 1)
      }
    }
    await Promise.all(Array.from({ length: CONNECTIONS }, connection))
    return Object.fromEntries(statuses)
  }

  // RSS is read with ps, which Windows lacks.
  it.skipIf(process.platform === "win32")(`stays up through ${WARM_UP + CHURN} initialize calls at MCP_MAX_SESSIONS=50, RSS growing < 50 MB after warm-up`, async () => {
    expect(await churn(WARM_UP)).toEqual({ 200: WARM_UP })
    const before = rssMb(server.child.pid!)
    expect(await churn(CHURN)).toEqual({ 200: CHURN })
    const after = rssMb(server.child.pid!)
    console.info(`session churn: RSS ${before.toFixed(1)} MB after ${WARM_UP} calls, ${after.toFixed(1)} MB after ${CHURN} more`)
    expect(server.child.exitCode).toBeNull()
    expect(after - before).toBeLessThan(50)
    expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200)
  }, 180_000)
})
