import { createHash } from "node:crypto"
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { appMimeType, explorerTools, explorerUri, uiExtension } from "../../src/resources/explorerApp.js"
import { statelessVersion } from "../../src/mcp/stateless.js"
import { post } from "../support/rawMcp.js"
import { type RunningServer, startTestServer } from "../support/testServer.js"

/** The explorer's size budget (README): the whole self-contained page, ECharts, ext-apps and zod inside; 831 KB now. */
const EXPLORER_BUDGET_BYTES = 900_000

const connect = async (server: RunningServer) => {
  const client = new Client({ name: "explorer-test", version: "1.0.0" })
  await client.connect(new StreamableHTTPClientTransport(server.mcpUrl))
  return client
}

const discover = async (server: RunningServer) => {
  const response = await post(server.mcpUrl, {
    jsonrpc: "2.0",
    id: 1,
    method: "server/discover",
    params: {
      _meta: {
        "io.modelcontextprotocol/protocolVersion": statelessVersion,
        "io.modelcontextprotocol/clientCapabilities": { extensions: { [uiExtension]: { mimeTypes: [appMimeType] } } }
      }
    }
  }, { "mcp-protocol-version": statelessVersion, "mcp-method": "server/discover" })
  return (await response.json() as { result: { capabilities: Record<string, unknown> } }).result.capabilities
}

describe("the explorer app (MCP_APPS on, the default)", () => {
  let server: RunningServer
  let client: Client
  beforeAll(async () => {
    server = await startTestServer()
    client = await connect(server)
  })
  afterAll(async () => {
    await client.close()
    await server.close()
  })

  it("declares the ui extension in initialize and server/discover", async () => {
    expect(client.getServerCapabilities()?.extensions).toEqual({ [uiExtension]: { mimeTypes: [appMimeType] } })
    // The Tasks extension is the server's too, whatever MCP_APPS says.
    expect((await discover(server))["extensions"]).toEqual({ [uiExtension]: { mimeTypes: [appMimeType] }, "io.modelcontextprotocol/tasks": {} })
  })

  it("links the app from the fetch and analysis tools only", async () => {
    const { tools } = await client.listTools()
    const linked = tools.filter((t) => t._meta?.["ui"] !== undefined)
    expect(linked.map((t) => t.name).sort()).toEqual([...explorerTools].sort())
    for (const tool of linked) expect(tool._meta).toEqual({ ui: { resourceUri: explorerUri } })
  })

  it("lists the app first, and reads it as one self-contained page under a strict CSP, within its budget", async () => {
    const { resources } = await client.listResources()
    expect(resources[0]).toMatchObject({ uri: explorerUri, mimeType: appMimeType, _meta: { ui: { prefersBorder: true } } })
    const { contents } = await client.readResource({ uri: explorerUri })
    expect(contents).toHaveLength(1)
    const page = contents[0]!
    expect(page).toMatchObject({ uri: explorerUri, mimeType: appMimeType, _meta: { ui: { csp: { connectDomains: [], resourceDomains: [] } } } })
    const html = "text" in page ? page.text : ""
    expect(Buffer.byteLength(html)).toBeLessThanOrEqual(EXPLORER_BUDGET_BYTES)
    // One inline script, allowed by its hash and nothing else; no external script, style, font or image.
    const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]!)
    expect(scripts).toHaveLength(1)
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)?.[1] ?? ""
    const hash = createHash("sha256").update(scripts[0]!, "utf8").digest("base64")
    expect(csp.split("; ")).toEqual(expect.arrayContaining(["default-src 'none'", `script-src 'sha256-${hash}'`, "connect-src 'none'"]))
    expect(html).not.toMatch(/<(script|link|img|iframe)[^>]+(src|href)=/i)
    expect(html).toContain('<html lang="ja">')
  })
})

describe("the explorer app with MCP_APPS=false", () => {
  let server: RunningServer
  let client: Client
  beforeAll(async () => {
    server = await startTestServer({ mcpApps: false })
    client = await connect(server)
  })
  afterAll(async () => {
    await client.close()
    await server.close()
  })

  it("is not there: no extension, no _meta on tools, no resource", async () => {
    expect(client.getServerCapabilities()?.extensions).toBeUndefined()
    expect((await discover(server))["extensions"]).toEqual({ "io.modelcontextprotocol/tasks": {} })
    const { tools } = await client.listTools()
    expect(tools.filter((t) => t._meta !== undefined)).toEqual([])
    const { resources } = await client.listResources()
    expect(resources.map((r) => r.uri)).not.toContain(explorerUri)
    await expect(client.readResource({ uri: explorerUri })).rejects.toThrow()
  })
})
