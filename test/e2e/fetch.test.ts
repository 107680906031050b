import { existsSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "@effect/vitest"
import { generatedTable } from "../fakes/estatServer.js"
import { useE2E } from "../support/e2eServer.js"
import { firstText } from "../support/toolResult.js"

const table = generatedTable({ id: "0009000002", categories: 5, areas: 4, months: 12, specialEvery: 7 })

interface RunOutput {
  readonly run_id: string
  readonly records_fetched: number
  readonly expected_records: number
  readonly complete: boolean
  readonly pages: number
  readonly storage: { readonly manifest: string; readonly parquet_prefix: string } | null
  readonly sample_rows: ReadonlyArray<Record<string, unknown>>
  readonly chunks_retrieved?: number
  readonly chunks_reused?: number
}

describe("the fetch tools through the MCP SDK client", () => {
  const e2e = useE2E("e2e-fetch", [table], { estatRetries: 1 })

  it("fetch_dataset_auto stores the whole table and reports progress per page", async () => {
    const progress: Array<{ progress: number; total?: number | undefined; message?: string | undefined }> = []
    const result = await e2e().client.callTool({ name: "fetch_dataset_auto", arguments: { dataset_id: table.info.id } }, undefined, {
      onprogress: (p) => void progress.push(p)
    })
    expect(result.isError).toBe(false)
    const out = result.structuredContent as unknown as RunOutput
    expect(out).toMatchObject({ records_fetched: 240, expected_records: 240, complete: true, pages: 3 })
    expect(out.sample_rows[0]).toMatchObject({ cat01_name: "総合", area_name: "全国", time_name: "2026年12月", value_raw: expect.any(String) })
    expect(existsSync(fileURLToPath(out.storage!.manifest))).toBe(true)
    expect(progress.map((p) => p.progress)).toEqual([1, 2, 3])
    expect(progress.at(-1)).toMatchObject({ total: 3, message: "page 3/3: 240 of 240 rows" })
  })

  it("fetch_large_dataset_complete: a failing page is a tool error naming the run; resume_run_id finishes it", async () => {
    e2e().fake.setFaults({ failPage: { startPosition: 201, times: Infinity, status: 503 } })
    // force: the test before stored a complete run of this query, which would answer otherwise.
    const failed = await e2e().client.callTool({
      name: "fetch_large_dataset_complete",
      arguments: { dataset_id: table.info.id, chunk_size: 100, concurrency: 1, force: true }
    })
    expect(failed.isError).toBe(true)
    const message = firstText(failed)
    expect(message).toMatch(/^Dataset 0009000002 is incomplete: 200 of 240 rows \(2 of 3 pages\)\. Page 3 \(rows 201–240\) failed: e-Stat is unavailable/)
    const runId = /resume_run_id "([^"]+)"/.exec(message)![1]!
    e2e().fake.setFaults({})
    const resumed = await e2e().client.callTool({
      name: "fetch_large_dataset_complete",
      arguments: { dataset_id: table.info.id, chunk_size: 100, concurrency: 1, resume_run_id: runId }
    })
    expect(resumed.isError).toBe(false)
    expect(resumed.structuredContent).toMatchObject({ run_id: runId, records_fetched: 240, complete: true, chunks_retrieved: 1, chunks_reused: 2 })
  })

  it("fetch_dataset_filtered fetches the filtered rows with progress and reports both totals", async () => {
    const progress: Array<{ progress: number; total?: number | undefined }> = []
    const result = await e2e().client.callTool({
      name: "fetch_dataset_filtered",
      arguments: { dataset_id: table.info.id, filters: { area: ["全国", "01000"], time: { from: "2026000101", to: "2026年6月" } } }
    }, undefined, { onprogress: (p) => void progress.push(p) })
    expect(result.isError).toBe(false)
    expect(result.structuredContent).toMatchObject({
      records_fetched: 60,
      filtered_records: 60,
      dataset_total_records: 240,
      pages: 1,
      filters_applied: [
        { dimension: "area", name: "地域", codes: [{ code: "00000", label: "全国" }, { code: "01000", label: "地域1" }], from: null, to: null, level: null },
        { dimension: "time", codes: [], from: "2026000101", to: "2026000606", level: null }
      ]
    })
    expect(progress).toEqual([{ progress: 1, total: 1, message: "page 1/1: 60 of 60 rows" }])
    const listed = await e2e().client.listTools()
    const filtered = listed.tools.find((t) => t.name === "fetch_dataset_filtered")!
    expect(filtered.inputSchema.required).toEqual(["dataset_id", "filters"])
  })

  it("fetch → save_dataset_as_csv → download_csv_from_s3", async () => {
    const fetched = await e2e().client.callTool({ name: "fetch_dataset_auto", arguments: { dataset_id: table.info.id } })
    const run = fetched.structuredContent as unknown as RunOutput
    const saved = await e2e().client.callTool({ name: "save_dataset_as_csv", arguments: { dataset_id: table.info.id, s3_json_path: run.storage!.manifest } })
    expect(saved.isError).toBe(false)
    const csv = saved.structuredContent as { location: string; records_count: number; download_url: string }
    expect(csv.records_count).toBe(240)
    const downloaded = await e2e().client.callTool({ name: "download_csv_from_s3", arguments: { s3_path: csv.location, return_content: true } })
    expect(downloaded.isError).toBe(false)
    expect(downloaded.structuredContent).toMatchObject({ download_url: csv.download_url, truncated: false, line_count: 241, expires_at: null })

    // The same file as an MCP resource: linked from the result, listed, readable without disk or bucket access.
    const link = (saved.content as Array<{ type: string; uri?: string; mimeType?: string }>).find((c) => c.type === "resource_link")
    expect(link).toMatchObject({ uri: csv.location, mimeType: "text/csv" })
    const listed = await e2e().client.listResources()
    expect(listed.resources.map((r) => r.uri)).toContain(csv.location)
    const read = await e2e().client.readResource({ uri: csv.location })
    const text = (read.contents[0] as { text: string }).text
    expect(text.split("\r\n").length - 1).toBe(241)
    expect(text).toContain("cat01_name")
    const manifest = await e2e().client.readResource({ uri: run.storage!.manifest })
    expect(JSON.parse((manifest.contents[0] as { text: string }).text)).toMatchObject({ status: "complete", records_fetched: 240 })
    await expect(e2e().client.readResource({ uri: "file:///etc/passwd" })).rejects.toThrow(/is not a valid storage path/)
    await expect(e2e().client.readResource({ uri: csv.location.replace(".csv", "-missing.csv") })).rejects.toThrow(/Resource not found|Nothing is stored/)
  })

  it("rejects bad arguments with a clear message", async () => {
    const result = await e2e().client.callTool({ name: "fetch_large_dataset_complete", arguments: { dataset_id: "123", concurrency: 9 } })
    expect(result.isError).toBe(true)
    const text = firstText(result)
    expect(text).toContain("`dataset_id` must be e-Stat's 10-digit statsDataId (search_estat_data finds one), e.g. \"0003410379\"; given \"123\".")
    expect(text).toContain("`concurrency` must be an integer from 1 to 8, e.g. 4; given 9.")
  })
})
