/**
 * tools/call throughput and latency of `apply_keyword_suggestions` under 50 concurrent clients:
 * this server (Effect, our Streamable HTTP transport) against the SDK's own Streamable HTTP
 * server running the same pure function, in the same process and run.
 *
 *   npm run bench:mcp            (CLIENTS=50 CALLS=100 by default)
 */
import { randomUUID } from "node:crypto"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import { McpServer as SdkMcpServer } from "@modelcontextprotocol/sdk/server/mcp.js"
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js"
import { isInitializeRequest } from "@modelcontextprotocol/sdk/types.js"
import { InMemoryEventStore } from "@modelcontextprotocol/sdk/examples/shared/inMemoryEventStore.js"
import { z } from "zod"
import { applyKeywordSuggestions } from "../src/domain/keywords.js"
import { startTestServer } from "../test/support/testServer.js"

const CLIENTS = Number(process.env["CLIENTS"] ?? 50)
const CALLS = Number(process.env["CALLS"] ?? 100)
const WARMUP = 20

const args = { original_query: "北海道の収入と年収の推移", accepted_keywords: { 収入: "所得", 年収: "年間収入" } }

/**
 * The SDK's reference setup: one transport per session, routed by Mcp-Session-Id. With an
 * event store it also primes and keeps resumable SSE streams, as estat-mcp always does.
 */
const startSdkServer = async (resumable: boolean) => {
  const transports = new Map<string, StreamableHTTPServerTransport>()
  const makeServer = () => {
    const server = new SdkMcpServer({ name: "sdk-reference", version: "1.0.0" })
    server.registerTool("apply_keyword_suggestions", {
      description: "same pure function",
      inputSchema: { original_query: z.string(), accepted_keywords: z.record(z.string(), z.string()) }
    }, (input) => {
      const out = applyKeywordSuggestions(input.original_query, input.accepted_keywords)
      return { content: [{ type: "text", text: out.transformed_query }], structuredContent: { ...out } }
    })
    return server
  }
  const readJson = (req: IncomingMessage) =>
    new Promise<unknown>((resolve, reject) => {
      let body = ""
      req.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")))
      req.on("end", () => resolve(body === "" ? undefined : JSON.parse(body)))
      req.on("error", reject)
    })
  const http = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const body = req.method === "POST" ? await readJson(req) : undefined
    const id = req.headers["mcp-session-id"]
    let transport = typeof id === "string" ? transports.get(id) : undefined
    if (transport === undefined && isInitializeRequest(body)) {
      transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        ...(resumable ? { eventStore: new InMemoryEventStore() } : {}),
        onsessioninitialized: (sid) => void transports.set(sid, transport!)
      })
      await makeServer().connect(transport)
    }
    if (transport === undefined) {
      res.writeHead(400).end()
      return
    }
    await transport.handleRequest(req, res, body)
  })
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve))
  const port = (http.address() as AddressInfo).port
  return { url: new URL(`http://127.0.0.1:${port}/mcp`), close: () => new Promise<void>((r) => http.close(() => r())) }
}

const percentile = (sorted: ReadonlyArray<number>, p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0

const load = async (url: URL) => {
  const clients = await Promise.all(Array.from({ length: CLIENTS }, async () => {
    const client = new Client({ name: "bench", version: "1.0.0" })
    await client.connect(new StreamableHTTPClientTransport(url))
    return client
  }))
  for (const client of clients.slice(0, 5)) {
    for (let i = 0; i < WARMUP; i++) await client.callTool({ name: "apply_keyword_suggestions", arguments: args })
  }
  const latencies: Array<number> = []
  const started = performance.now()
  await Promise.all(clients.map(async (client) => {
    for (let i = 0; i < CALLS; i++) {
      const t0 = performance.now()
      const result = await client.callTool({ name: "apply_keyword_suggestions", arguments: args })
      latencies.push(performance.now() - t0)
      if (result.isError === true) throw new Error("tool call failed")
    }
  }))
  const seconds = (performance.now() - started) / 1000
  await Promise.all(clients.map((c) => c.close()))
  latencies.sort((a, b) => a - b)
  return { calls: latencies.length, perSecond: latencies.length / seconds, p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99) }
}

const row = (name: string, r: Awaited<ReturnType<typeof load>>) =>
  `${name.padEnd(14)} ${String(r.calls).padStart(6)} calls  ${r.perSecond.toFixed(0).padStart(6)} calls/s  p50 ${r.p50.toFixed(2).padStart(7)} ms  p99 ${r.p99.toFixed(2).padStart(7)} ms`

const main = async () => {
  // Every client opens its session from 127.0.0.1: no per-client session budget in a load test.
  const ours = await startTestServer({ logLevel: "warn", sessionRateLimit: 0 })
  const sdk = await startSdkServer(false)
  const sdkResumable = await startSdkServer(true)
  console.log(`tools/call apply_keyword_suggestions, ${CLIENTS} concurrent clients × ${CALLS} calls (node ${process.version})`)
  const results = [
    ["sdk", await load(sdk.url)],
    ["sdk+events", await load(sdkResumable.url)],
    ["estat-mcp", await load(ours.mcpUrl)]
  ] as const
  for (const [name, result] of results) console.log(row(name, result))
  const ourResult = results[2][1]
  for (const [name, reference] of results.slice(0, 2)) {
    console.log(`ratio estat-mcp / ${name}: throughput ${(ourResult.perSecond / reference.perSecond).toFixed(2)}×, ` +
      `p50 ${(ourResult.p50 / reference.p50).toFixed(2)}×, p99 ${(ourResult.p99 / reference.p99).toFixed(2)}×`)
  }
  await Promise.all([ours.close(), sdk.close(), sdkResumable.close()])
}

main().then(() => process.exit(0), (error: unknown) => {
  console.error(error)
  process.exit(1)
})
