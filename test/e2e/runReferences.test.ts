import { describe, expect, it } from "@effect/vitest"
import { generatedTable } from "../fakes/estatServer.js"
import { useE2E } from "../support/e2eServer.js"
import { firstText } from "../support/toolResult.js"

const table = generatedTable({ id: "0009000021", categories: 5, areas: 4, months: 12, specialEvery: 7 }) // 240 rows, 3 pages

/** Every tool that takes a run takes it named any of the ways a model names one; a dataset means its latest complete run. */
describe("run references", () => {
  const e2e = useE2E("e2e-runs", [table], { estatRetries: 1 })

  const call = async (name: string, args: Record<string, unknown>) => {
    const result = await e2e().client.callTool({ name, arguments: args })
    if (result.isError === true) throw new Error(`${name}: ${firstText(result)}`)
    return { out: result.structuredContent as Record<string, unknown>, text: firstText(result) }
  }

  it("a run folder, its manifest, as keys or URIs, and a dataset folder or id (its latest complete run) all load, save and transform", async () => {
    const older = (await call("fetch_dataset_auto", { dataset_id: table.info.id })).out as { run_id: string }
    // force: a second fetch of an unchanged table would answer with the first run (issue 16).
    const latest = (await call("fetch_dataset_auto", { dataset_id: table.info.id, force: true })).out as { run_id: string; storage: { manifest: string; parquet_prefix: string } }
    // A newer run that stopped part-way is passed over.
    e2e().fake.setFaults({ failPage: { startPosition: 201, times: Infinity, status: 503 } })
    const failed = await e2e().client.callTool({ name: "fetch_large_dataset_complete", arguments: { dataset_id: table.info.id, chunk_size: 100, concurrency: 1, force: true } })
    e2e().fake.setFaults({})
    expect(failed.isError).toBe(true)

    const dataDir = latest.storage.manifest.slice(0, latest.storage.manifest.indexOf("/datasets/"))
    const runFolder = `datasets/${table.info.id}/${latest.run_id}/`
    const spellings = [
      runFolder, runFolder.slice(0, -1), `${runFolder}manifest.json`, latest.storage.parquet_prefix, latest.storage.manifest,
      `${dataDir}/${runFolder}`
    ]
    for (const [i, spelling] of spellings.entries()) {
      const { out } = await call("load_to_iceberg", { table_name: `named_${i}`, s3_parquet_path: spelling })
      expect(out, spelling).toMatchObject({ run_id: latest.run_id, run_manifest: latest.storage.manifest, run_note: null, records_loaded: 240 })
    }

    const note = (named: string) => `${named} names dataset ${table.info.id}, not a run: used its latest complete run ${latest.run_id} (of 3 runs stored).`
    for (const [i, spelling] of [table.info.id, `datasets/${table.info.id}/`, `datasets/${table.info.id}`, `${dataDir}/datasets/${table.info.id}/`].entries()) {
      const { out, text } = await call("load_to_iceberg", { table_name: `dataset_${i}`, s3_parquet_path: spelling })
      expect(out, spelling).toMatchObject({ run_id: latest.run_id, run_manifest: latest.storage.manifest, run_note: note(JSON.stringify(spelling)), records_loaded: 240 })
      expect(text.startsWith(note(JSON.stringify(spelling))), text).toBe(true)
    }
    expect(older.run_id < latest.run_id).toBe(true)

    const csv = await call("save_dataset_as_csv", { dataset_id: table.info.id, s3_json_path: table.info.id })
    expect(csv.out).toMatchObject({ run_id: latest.run_id, run_manifest: latest.storage.manifest, run_note: note(`"${table.info.id}"`), records_count: 240 })
    const fromRun = await call("save_dataset_as_csv", { dataset_id: table.info.id, s3_json_path: latest.storage.parquet_prefix })
    expect(fromRun.out).toMatchObject({ run_id: latest.run_id, run_manifest: latest.storage.manifest, run_note: null })
    const parquet = await call("transform_to_parquet", { s3_json_path: `datasets/${table.info.id}/` })
    expect(parquet.out).toMatchObject({ source_path: latest.storage.manifest, run_id: latest.run_id, records_processed: 240, run_note: note(`"datasets/${table.info.id}/"`) })

    // Without a source the CSV comes from the table's current run (the latest, reused: issue 16), which the result names.
    const fresh = await call("save_dataset_as_csv", { dataset_id: table.info.id })
    expect(fresh.out["run_id"]).toBe(latest.run_id)
    expect(fresh.out["run_manifest"]).toBe(`${dataDir}/datasets/${table.info.id}/${String(fresh.out["run_id"])}/manifest.json`)
  })

  it("a dataset with no complete run is a clear error saying what to do", async () => {
    const result = await e2e().client.callTool({ name: "load_to_iceberg", arguments: { table_name: "none", s3_parquet_path: "0009999999" } })
    expect(result.isError).toBe(true)
    expect(firstText(result)).toMatch(/datasets\/0009999999\/ cannot be used: no run of dataset 0009999999 is stored; fetch it with fetch_dataset_auto first\.$/)
  })
})
