import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { type BundleProcess, startBundle } from "../support/bundleProcess.js"

/** The artifact the Docker image runs: the one-file bundle of src/main.ts, started as a process. */
describe("the production bundle", () => {
  let server: BundleProcess
  let url = ""
  beforeAll(async () => {
    server = await startBundle("estat-mcp-test", { nodeFlags: ["--max-old-space-size=128"] })
    url = server.url
  }, 60_000)
  afterAll(() => server.stop())

  it("starts, answers /health, and lists the tools over Streamable HTTP", async () => {
    expect(await (await fetch(`${url}/health`)).json()).toMatchObject({ status: "healthy" })
    const ready = await fetch(`${url}/ready`)
    expect(ready.status).toBe(200)
    const client = new Client({ name: "bundle", version: "1.0.0" })
    await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`)))
    const { tools } = await client.listTools()
    expect(tools.map((t) => t.name)).toContain("fetch_dataset_auto")
    await client.close()
  })
})
