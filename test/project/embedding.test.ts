import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js"
import { Option, Redacted } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { startEmbedded } from "../support/embedded.js"

const TOKEN = "embedding-secret"

/** The README's recipe (test/support/embedded.ts): the MCP routes mounted under a prefix in another service's own router. */
describe("embedding in another Effect service", () => {
  let embedded: { readonly port: number; readonly close: () => Promise<void> }
  let base = ""
  beforeAll(async () => {
    embedded = await startEmbedded("/estat", { authToken: Option.some(Redacted.make(TOKEN)) })
    base = `http://127.0.0.1:${embedded.port}`
  })
  afterAll(() => embedded.close())

  const auth = { headers: { authorization: `Bearer ${TOKEN}` } }
  const listOver = async (transport: Transport) => {
    const client = new Client({ name: "embedded", version: "1.0.0" })
    await client.connect(transport)
    const listed = await client.listTools()
    await client.close()
    return listed.tools.map((tool) => tool.name).sort()
  }

  it("keeps the host's own routes and serves MCP under the prefix over Streamable HTTP and legacy SSE", async () => {
    expect(await (await fetch(`${base}/hello`)).text()).toBe("host service")
    const expected = ["analyze_with_athena", "apply_keyword_suggestions", "download_csv_from_s3", "fetch_dataset_auto", "fetch_dataset_filtered", "fetch_large_dataset_complete", "load_to_iceberg", "save_dataset_as_csv", "search_estat_data", "transform_to_parquet"]
    expect(await listOver(new StreamableHTTPClientTransport(new URL(`${base}/estat/mcp`), { requestInit: auth }))).toEqual(expected)
    // The legacy endpoint event is relative to /estat/sse, so the client posts to /estat/messages.
    const legacy = new SSEClientTransport(new URL(`${base}/estat/sse`), {
      requestInit: auth,
      eventSourceInit: { fetch: (url, init) => fetch(url, { ...init, headers: { ...init?.headers, ...auth.headers } }) }
    })
    expect(await listOver(legacy)).toEqual(expected)
  })

  it("guards the mounted endpoints: bearer token, Origin, and health stays open", async () => {
    const initialize = { jsonrpc: "2.0", id: 1, method: "ping" }
    const noToken = await fetch(`${base}/estat/mcp`, { method: "POST", body: JSON.stringify(initialize) })
    expect(noToken.status).toBe(401)
    expect(noToken.headers.get("www-authenticate")).toContain("Bearer")
    const foreign = await fetch(`${base}/estat/mcp`, { ...auth, method: "POST", headers: { ...auth.headers, origin: "https://evil.example" } })
    expect(foreign.status).toBe(403)
    const health = await fetch(`${base}/estat/health`)
    expect(health.status).toBe(200)
    expect(await health.json()).toMatchObject({ status: "healthy" })
  })
})
