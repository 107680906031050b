/**
 * One MCP server for bench:mcp, in a process of its own so the clients' CPU is not counted
 * against it and its memory can be read alone. Forked with an IPC channel and `--expose-gc`:
 * it sends `{ url }` once listening, answers "memory" with its usage after a full GC, "cpu" with
 * its CPU time so far (user + system, µs), and exits on "stop".
 *
 *   sdk1         SDK v1 (1.32): one StreamableHTTPServerTransport per session, the SDK's reference setup
 *   sdk1-events  the same with an event store, priming resumable SSE streams as estat-mcp always does
 *   sdk2         SDK v2 (2.4): createMcpHandler behind @modelcontextprotocol/node's toNodeHandler;
 *                2026-07-28 requests stateless, 2025 traffic through its stateless legacy fallback
 *   estat        estat-mcp's HTTP server with its real tool set
 */
import { randomUUID } from "node:crypto"
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { type NodeIncomingMessageLike, toNodeHandler } from "@modelcontextprotocol/node"
import { McpServer as SdkV1Server } from "@modelcontextprotocol/sdk/server/mcp.js"
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js"
import { isInitializeRequest } from "@modelcontextprotocol/sdk/types.js"
import { InMemoryEventStore } from "@modelcontextprotocol/sdk/examples/shared/inMemoryEventStore.js"
import { createMcpHandler, McpServer as SdkV2Server } from "@modelcontextprotocol/server"
import { z } from "zod"
import { applyKeywordSuggestions } from "../src/domain/keywords.js"
import { startTestServer } from "../test/support/testServer.js"

export type ServerKind = "sdk1" | "sdk1-events" | "sdk2" | "estat"

interface Started {
  readonly url: URL
  readonly close: () => Promise<void>
}

const inputShape = { original_query: z.string(), accepted_keywords: z.record(z.string(), z.string()) }

/** The same pure function estat-mcp's `apply_keyword_suggestions` runs, as an SDK tool answer. */
const keywordTool = (input: { original_query: string; accepted_keywords: Record<string, string> }) => {
  const out = applyKeywordSuggestions(input.original_query, input.accepted_keywords)
  return { content: [{ type: "text" as const, text: out.transformed_query }], structuredContent: { ...out } }
}

const listenOn = async (server: Server): Promise<Started> => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const port = (server.address() as AddressInfo).port
  return {
    url: new URL(`http://127.0.0.1:${port}/mcp`),
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    })
  }
}

const readJson = (req: IncomingMessage) =>
  new Promise<unknown>((resolve, reject) => {
    let body = ""
    req.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")))
    req.on("end", () => resolve(body === "" ? undefined : JSON.parse(body)))
    req.on("error", reject)
  })

const startSdkV1 = (resumable: boolean): Promise<Started> => {
  const transports = new Map<string, StreamableHTTPServerTransport>()
  const makeServer = () => {
    const server = new SdkV1Server({ name: "sdk-v1-reference", version: "1.0.0" })
    server.registerTool("apply_keyword_suggestions", { description: "same pure function", inputSchema: inputShape }, keywordTool)
    return server
  }
  return listenOn(createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const body = req.method === "POST" ? await readJson(req) : undefined
    const id = req.headers["mcp-session-id"]
    let transport = typeof id === "string" ? transports.get(id) : undefined
    if (transport === undefined && isInitializeRequest(body)) {
      const made: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        ...(resumable ? { eventStore: new InMemoryEventStore() } : {}),
        onsessioninitialized: (sid) => void transports.set(sid, made)
      })
      await makeServer().connect(made)
      transport = made
    }
    if (transport === undefined) {
      res.writeHead(400).end()
      return
    }
    await transport.handleRequest(req, res, body)
  }))
}

const startSdkV2 = (): Promise<Started> => {
  const handler = createMcpHandler(() => {
    const server = new SdkV2Server({ name: "sdk-v2-reference", version: "1.0.0" })
    server.registerTool("apply_keyword_suggestions", { description: "same pure function", inputSchema: inputShape }, keywordTool)
    return server
  })
  const node = toNodeHandler(handler)
  // A server's request always has a method; Node types it optional, which exactOptionalPropertyTypes keeps apart.
  return listenOn(createServer((req, res) => void node(req as NodeIncomingMessageLike, res)))
}

const startEstat = async (): Promise<Started> => {
  // Every bench client opens its session from 127.0.0.1: no per-client session budget in a load test.
  const server = await startTestServer({ logLevel: "warn", sessionRateLimit: 0 })
  return { url: server.mcpUrl, close: server.close }
}

const start = (kind: ServerKind): Promise<Started> => {
  switch (kind) {
    case "sdk1": return startSdkV1(false)
    case "sdk1-events": return startSdkV1(true)
    case "sdk2": return startSdkV2()
    case "estat": return startEstat()
  }
}

const collectGarbage = (globalThis as { gc?: () => void }).gc ?? (() => undefined)

const main = async () => {
  const kind = process.argv[2] as ServerKind
  const send = (message: unknown) => process.send?.(message)
  const server = await start(kind)
  process.on("message", (message) => {
    if (message === "memory") {
      collectGarbage()
      collectGarbage()
      send({ memory: process.memoryUsage() })
    } else if (message === "cpu") {
      const { user, system } = process.cpuUsage()
      send({ cpu: user + system })
    } else if (message === "stop") {
      void server.close().then(() => process.exit(0))
    }
  })
  // The parent may die without saying stop: never outlive it.
  process.on("disconnect", () => process.exit(0))
  send({ url: server.url.href })
}

main().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
