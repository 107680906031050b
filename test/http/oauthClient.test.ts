import { createServer } from "node:net"
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { ClientCredentialsProvider } from "@modelcontextprotocol/sdk/client/auth-extensions.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import { Option } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { type RunningServer, startTestServer } from "../support/testServer.js"
import { type LocalIssuer, startIssuer } from "./localIssuer.js"

/**
 * The SDK client's own OAuth support against MCP_AUTH_MODE=oauth, offline: from the 401 it finds the
 * metadata, gets a token from the local issuer (client_credentials, the resource indicator as
 * audience), and steps up to estat:write when a writing tool answers 403 insufficient_scope.
 */

/** A port free now: the metadata must name the address the client really uses. */
const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const probe = createServer()
    probe.once("error", reject)
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      probe.close(() => resolve(port))
    })
  })

let issuer: LocalIssuer
let server: RunningServer

beforeAll(async () => {
  issuer = await startIssuer()
  const port = await freePort()
  const publicUrl = `http://127.0.0.1:${port}`
  server = await startTestServer({ port, oauth: Option.some({ issuer: issuer.issuer, audience: `${publicUrl}/mcp`, publicUrl, scopePrefix: "", clientIds: [] }) })
})

afterAll(async () => {
  await server?.close()
  await issuer?.close()
})

const connect = async (clientId: string, scope: string) => {
  const provider = new ClientCredentialsProvider({ clientId, clientSecret: `${clientId}-secret`, scope, expectedIssuer: issuer.issuer })
  const client = new Client({ name: "oauth-test", version: "1.0.0" })
  await client.connect(new StreamableHTTPClientTransport(server.mcpUrl, { authProvider: provider }))
  return client
}

describe("the SDK client in MCP_AUTH_MODE=oauth", () => {
  it("authorizes itself from the 401 (token for the resource) and lists tools; a writing tool needs estat:write", async () => {
    const reader = await connect("reader", "estat:read")
    const { tools } = await reader.listTools()
    expect(tools.map((t) => t.name)).toContain("load_to_iceberg")
    // SDK 1.32's client_credentials flow asks for its configured scope again, not the challenge's: the 403 stands.
    await expect(reader.callTool({ name: "load_to_iceberg", arguments: {} })).rejects.toThrow(/403/)
    await reader.close()

    const writer = await connect("writer", "estat:read estat:write")
    const result = await writer.callTool({ name: "load_to_iceberg", arguments: {} })
    // Past the scope check: the tool itself answers (its arguments are missing).
    expect(result.isError).toBe(true)
    await writer.close()

    const resource = `${server.url}/mcp`
    expect(issuer.tokenRequests()).toEqual([
      { grantType: "client_credentials", scope: "estat:read", resource, clientId: "reader" },
      { grantType: "client_credentials", scope: "estat:read", resource, clientId: "reader" },
      { grantType: "client_credentials", scope: "estat:read estat:write", resource, clientId: "writer" }
    ])
  })
})
