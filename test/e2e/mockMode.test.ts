import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { sampleTableIds } from "../../src/testing/index.js"
import { freePort } from "../support/bundleProcess.js"
import { firstText } from "../support/toolResult.js"

/**
 * `npm run demo` as a newcomer runs it: the bundle of src/main.ts started with `--mock`, with no
 * ESTAT_APP_ID and nothing but PATH, HOST, PORT and DATA_DIR in its environment; the real MCP SDK client drives it.
 */
describe("estat-mcp --mock (npm run demo)", () => {
  let child: ChildProcess
  let log = ""
  let base = ""
  const dataDir = mkdtempSync(join(tmpdir(), "estat-mock-e2e-"))
  const client = new Client({ name: "mock-e2e", version: "1.0.0" })

  beforeAll(async () => {
    const port = await freePort()
    base = `http://127.0.0.1:${port}`
    // Inside the repo, so that the bundle finds DuckDB in node_modules.
    const bundle = join(process.cwd(), "node_modules", ".cache", "e2e-mock", "server.mjs")
    execFileSync(process.execPath, ["scripts/bundle.mjs", "src/main.ts", bundle])
    child = spawn(process.execPath, [bundle, "--mock"], {
      env: { PATH: process.env["PATH"] ?? "", HOST: "127.0.0.1", PORT: String(port), DATA_DIR: dataDir, LOG_FORMAT: "json" },
      stdio: ["ignore", "ignore", "pipe"]
    })
    await new Promise<void>((resolve, reject) => {
      child.stderr!.on("data", (chunk: Buffer) => {
        log += chunk.toString()
        if (log.includes("Listening on")) resolve()
      })
      child.once("exit", (code) => reject(new Error(`the server exited with ${code}: ${log}`)))
    })
    await client.connect(new StreamableHTTPClientTransport(new URL(`${base}/mcp`)))
  }, 60_000)

  afterAll(async () => {
    await client.close()
    child.kill()
    rmSync(dataDir, { recursive: true, force: true })
  })

  const call = async (name: string, args: Record<string, unknown>) => {
    const result = await client.callTool({ name, arguments: args })
    if (result.isError) throw new Error(`${name}: ${firstText(result)}`)
    return result.structuredContent as Record<string, unknown>
  }

  it("says at start and on /ready that its layers are mocked", async () => {
    const start = log.split("\n").filter((line) => line.includes("mock mode")).map((line) => JSON.parse(line) as Record<string, unknown>)
    expect(start).toHaveLength(1)
    expect(start[0]).toMatchObject({ message: "mock mode: the layers are mocked", annotations: { storage: `local files under ${dataDir}` } })
    expect(String((start[0]!["annotations"] as Record<string, unknown>)["estat"])).toMatch(/^in memory: \d+ sample tables, no appId, no network$/)
    const ready = await fetch(`${base}/ready`)
    expect(ready.status).toBe(200)
    const body = await ready.json() as { status: string; backend: string; mocked: boolean; checks: Array<{ name: string; ok: boolean; detail: string }> }
    expect(body).toMatchObject({ status: "ready", backend: "local", mocked: true })
    expect(body.checks.find((c) => c.name === "estat")!.detail).toMatch(/^mocked: in memory: /)
  })

  it("search → fetch → save CSV → load → analyze, with no appId", async () => {
    const found = await call("search_estat_data", { query: "消費者物価指数 サンプル" })
    const hit = (found["results"] as Array<{ dataset_id: string; total_records: number }>).find((r) => r.dataset_id === sampleTableIds.consumerPricesMonthly)
    expect(hit).toMatchObject({ total_records: 2 * 10 * 9 * 81 })

    const fetched = await call("fetch_dataset_auto", { dataset_id: sampleTableIds.consumerPricesMonthly }) as { records_fetched: number; complete: boolean; storage: { parquet_prefix: string } }
    expect(fetched).toMatchObject({ records_fetched: 14_580, complete: true })
    expect(fetched.storage.parquet_prefix.startsWith(`file://${dataDir}/`)).toBe(true)
    const csv = await call("save_dataset_as_csv", { dataset_id: sampleTableIds.consumerPricesMonthly })
    expect(csv).toMatchObject({ records_count: 14_580 })
    expect(String(csv["location"])).toContain(dataDir)

    const loaded = await call("load_to_iceberg", { table_name: "cpi", s3_parquet_path: fetched.storage.parquet_prefix })
    expect(loaded).toMatchObject({ records_loaded: 14_580, engine: "duckdb" })
    const analysis = await call("analyze_with_athena", {
      table_name: "cpi",
      analysis_type: "custom",
      custom_query: "SELECT count(*) AS months, count(value) AS numeric FROM cpi WHERE tab_code = '3' AND cat01_code = '0001' AND area_code = '00000'"
    }) as { queries: Array<{ rows: Array<{ months: number; numeric: number }> }> }
    // Year-on-year change has no value for 2020's twelve months: "…" in e-Stat's own notation.
    expect(analysis.queries[0]!.rows[0]).toEqual({ months: 81, numeric: 69 })
  })
})
