import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const address = server.address()
      server.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0))
    })
  })

/** The artifact the Docker image runs: the one-file bundle of src/main.ts, started as a process. */
describe("the production bundle", () => {
  let child: ChildProcess
  let url = ""
  const dir = mkdtempSync(join(tmpdir(), "estat-bundle-"))
  beforeAll(async () => {
    // Inside the repo, so that the bundle finds DuckDB in node_modules.
    const bundle = join(process.cwd(), "node_modules", ".cache", "estat-mcp-test", "server.mjs")
    execFileSync(process.execPath, ["scripts/bundle.mjs", "src/main.ts", bundle])
    const port = await freePort()
    url = `http://127.0.0.1:${port}`
    child = spawn(process.execPath, ["--max-old-space-size=128", bundle], {
      env: { PATH: process.env["PATH"] ?? "", PORT: String(port), DATA_DIR: dir, LOG_FORMAT: "json" },
      stdio: ["ignore", "ignore", "pipe"]
    })
    await new Promise<void>((resolve, reject) => {
      let log = ""
      child.stderr!.on("data", (chunk: Buffer) => {
        log += chunk.toString()
        if (log.includes("Listening on")) resolve()
      })
      child.once("exit", (code) => reject(new Error(`the bundle exited with ${code}: ${log}`)))
    })
  }, 60_000)
  afterAll(() => {
    child.kill()
    rmSync(dir, { recursive: true, force: true })
  })

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
