import { existsSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, parse, resolve } from "node:path"
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js"
import { Option, Redacted } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { userDataDir } from "../../src/config.js"
import { FAKE_APP_ID, type FakeEStatHandle, startFakeEStat } from "../fakes/estatServer.js"
import { type RunningServer, startTestServer } from "../support/testServer.js"

const toolNames = ["search_estat_data", "apply_keyword_suggestions", "fetch_dataset_auto", "fetch_large_dataset_complete", "fetch_dataset_filtered", "transform_to_parquet", "load_to_iceberg", "analyze_with_athena", "save_dataset_as_csv", "download_csv_from_s3"]

/** The same conversation over every transport: initialize, list, call, close. */
const converse = async (transport: Transport) => {
  const client = new Client({ name: "e2e", version: "1.0.0" })
  await client.connect(transport)
  try {
    const listed = await client.listTools()
    const applied = await client.callTool({
      name: "apply_keyword_suggestions",
      arguments: { original_query: "東京　年収 推移", accepted_keywords: { 年収: "年間収入", 推移: "時系列" } }
    })
    const searched = await client.callTool({ name: "search_estat_data", arguments: { query: "国勢調査 男女", max_results: 2 } })
    const pong = await client.ping()
    return { listed, applied, searched, pong, version: client.getServerVersion(), capabilities: client.getServerCapabilities() }
  } finally {
    await client.close()
  }
}

const expectConversation = (out: Awaited<ReturnType<typeof converse>>) => {
  expect(out.version?.name).toBe("estat-mcp")
  expect(out.capabilities?.tools).toBeDefined()
  expect(out.listed.tools.map((t) => t.name).sort()).toEqual([...toolNames].sort())
  for (const tool of out.listed.tools) {
    expect(tool.inputSchema.type).toBe("object")
    expect(tool.outputSchema?.type).toBe("object")
    expect(tool.description!.length).toBeGreaterThan(40)
  }
  const search = out.listed.tools.find((t) => t.name === "search_estat_data")!
  expect(search.inputSchema.properties).toMatchObject({
    max_results: { type: "integer", default: 5, minimum: 1, maximum: 100 },
    scoring_method: { type: "string", enum: ["enhanced", "basic"], default: "enhanced" }
  })
  expect(search.annotations).toEqual({ readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true })
  expect(out.applied.isError).toBe(false)
  expect(out.applied.structuredContent).toEqual({
    original_query: "東京　年収 推移",
    transformed_query: "東京　年間収入 時系列",
    applied: [{ term: "年収", replacement: "年間収入", occurrences: 1 }, { term: "推移", replacement: "時系列", occurrences: 1 }],
    unmatched: []
  })
  expect(out.searched.isError).toBe(false)
  const found = out.searched.structuredContent as { results: Array<{ dataset_id: string; dimensions?: Array<{ id: string }> }> }
  expect(found.results[0]).toMatchObject({ dataset_id: "0003445078", dimensions: [{ id: "tab" }, { id: "cat01" }, { id: "area" }, { id: "time" }] })
  expect(out.pong).toEqual({})
}

describe("real SDK clients over each transport", () => {
  let server: RunningServer
  let fake: FakeEStatHandle
  beforeAll(async () => {
    fake = await startFakeEStat()
    server = await startTestServer({ estatBaseUrl: fake.baseUrl, estatAppId: Option.some(Redacted.make(FAKE_APP_ID)) })
  })
  afterAll(async () => {
    await server.close()
    await fake.close()
  })

  it("Streamable HTTP", async () => {
    expectConversation(await converse(new StreamableHTTPClientTransport(server.mcpUrl)))
  })

  it("Streamable HTTP: the client ends its session with DELETE; the session is gone", async () => {
    const transport = new StreamableHTTPClientTransport(server.mcpUrl)
    const client = new Client({ name: "e2e-delete", version: "1.0.0" })
    await client.connect(transport)
    const sessionId = transport.sessionId!
    await transport.terminateSession()
    const after = await fetch(server.mcpUrl, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream", "mcp-session-id": sessionId },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" })
    })
    expect(after.status).toBe(404)
    await client.close()
  })

  it("legacy HTTP+SSE (2024-11-05)", async () => {
    expectConversation(await converse(new SSEClientTransport(new URL(`${server.url}/sse`))))
  })

  it("stdio, started in / as desktop clients do, with no DATA_DIR: data goes to the user's data folder", async () => {
    const home = mkdtempSync(join(tmpdir(), "estat-stdio-home-"))
    try {
      const transport = new StdioClientTransport({
        command: process.execPath,
        args: [resolve("node_modules/tsx/dist/cli.mjs"), resolve("src/main.ts"), "--stdio"],
        cwd: parse(process.cwd()).root,
        // Debug logs on: they must go to stderr, never into the protocol on stdout.
        env: { PATH: process.env["PATH"] ?? "", HOME: home, USERPROFILE: home, LOG_LEVEL: "debug", ESTAT_API_BASE_URL: fake.baseUrl, ESTAT_APP_ID: FAKE_APP_ID },
        stderr: "pipe"
      })
      expectConversation(await converse(transport))
      expect(existsSync(userDataDir({}, process.platform, home))).toBe(true)
    } finally {
      rmSync(home, { recursive: true, force: true })
    }
  }, 60_000)
})
