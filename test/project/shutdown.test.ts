import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import { afterEach, describe, expect, it } from "@effect/vitest"
import { FAKE_APP_ID, type FakeEStatHandle, generatedTable, startFakeEStat } from "../fakes/estatServer.js"
import { type BundleProcess, startBundle } from "../support/bundleProcess.js"

/**
 * SIGTERM (ECS stopping a task) during a long tool call, on the production bundle: the call gets
 * MCP_SHUTDOWN_GRACE to finish and its client its answer; past the grace it is interrupted, its
 * run recorded partial (resumable), and the process exits.
 */

const table = generatedTable({ id: "0009200001", categories: 3, areas: 10, months: 10 }) // 300 rows: 3 pages of 100

const exited = (server: BundleProcess) =>
  new Promise<number | null>((resolve) => {
    if (server.child.exitCode !== null) resolve(server.child.exitCode)
    else server.child.once("exit", (code) => resolve(code))
  })

describe("shutdown on SIGTERM", () => {
  let fake: FakeEStatHandle | undefined
  let server: BundleProcess | undefined
  afterEach(async () => {
    server?.stop()
    await fake?.close()
  })

  const start = async (faults: Parameters<FakeEStatHandle["setFaults"]>[0], grace: string) => {
    fake = await startFakeEStat({ tables: [table], faults })
    server = await startBundle("estat-mcp-shutdown", {
      nodeFlags: [],
      env: { ESTAT_APP_ID: FAKE_APP_ID, ESTAT_API_BASE_URL: fake.baseUrl, ESTAT_PAGE_SIZE: "100", ESTAT_CONCURRENCY: "1", MCP_SHUTDOWN_GRACE: grace }
    })
    const client = new Client({ name: "shutdown", version: "1.0.0" })
    await client.connect(new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`)))
    return { client, server }
  }

  /** Calls fetch_dataset_auto and sends one SIGTERM once the first page is stored (a second one ends the process at once). */
  const fetchThenTerminate = (client: Client, running: BundleProcess) => {
    let sent = false
    return client.callTool({ name: "fetch_dataset_auto", arguments: { dataset_id: table.info.id } }, undefined, {
      onprogress: (p) => {
        if (p.progress >= 1 && !sent) sent = running.child.kill("SIGTERM")
      },
      timeout: 60_000
    })
  }

  it("lets a running call finish within the grace: the client gets the whole result, then the process exits", async () => {
    const { client, server: running } = await start({ latencyMs: 400 }, "60 seconds")
    const result = await fetchThenTerminate(client, running)
    expect(result.isError).not.toBe(true)
    expect(result.structuredContent).toMatchObject({ complete: true, records_fetched: 300, expected_records: 300 })
    expect(await exited(running)).toBe(0)
  }, 90_000)

  it("past the grace, interrupts the call: its run is recorded partial and resumable, and the process exits", async () => {
    // The second page is never answered: the call cannot finish by itself.
    const { client, server: running } = await start({ holdPage: { startPosition: 101 } }, "1 second")
    const call = fetchThenTerminate(client, running).then(
      (result) => ({ isError: result.isError === true }),
      () => ({ isError: true })
    )
    expect(await exited(running)).toBe(0)
    // The call's stream ended with the process; the client would try to resume it elsewhere.
    await client.close()
    expect((await call).isError).toBe(true)
    const runs = join(running.dataDir, "datasets", table.info.id)
    const [runId] = readdirSync(runs)
    const manifest = JSON.parse(readFileSync(join(runs, runId!, "manifest.json"), "utf8")) as { status: string; pages: ReadonlyArray<unknown> }
    expect(manifest.status).toBe("partial")
    expect(manifest.pages.length).toBe(1)
  }, 90_000)
})
