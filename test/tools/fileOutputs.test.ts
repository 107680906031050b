import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { Effect, TestClock } from "effect"
import { describe, expect, it } from "@effect/vitest"
import { callTool, firstText } from "../support/toolResult.js"
import { fetchDataset } from "../../src/pipeline/fetchDataset.js"
import { ObjectStore } from "../../src/services/storage/ObjectStore.js"
import { downloadCsvFromS3 } from "../../src/tools/downloadCsvFromS3.js"
import { saveDatasetAsCsv } from "../../src/tools/saveDatasetAsCsv.js"
import { cubeTable, type FakeTable, generatedTable, makeEStatApi, MOCK_APP_ID } from "../../src/testing/index.js"
import { mockedOn } from "../support/mockedBackend.js"
import { type Backend, baseRequest, queryRun } from "../support/pipeline.js"

/** Labels that need CSV quoting: a comma, quotes, a line break, and text that looks like a null. */
const tricky = cubeTable({
  info: { ...generatedTable({ id: "0009000005", categories: 1, areas: 1, months: 1 }).info, id: "0009000005", title: "quoting" },
  dimensions: [
    { id: "tab", name: "表章項目", classes: [{ code: "01", name: "人数", level: "", unit: "人" }] },
    { id: "cat01", name: "区分", classes: [{ code: "1", name: "総数" }, { code: "2", name: "a,b" }, { code: "3", name: 'say "hi"' }, { code: "4", name: "line\nbreak" }, { code: "5", name: "\\N" }] },
    { id: "area", name: "地域", classes: [{ code: "00000", name: "全国" }, { code: "13000", name: "東京都" }] },
    { id: "time", name: "時間軸", classes: [{ code: "2020000000", name: "2020年" }] }
  ],
  notes: [{ char: "-", text: "数字が得られないもの" }],
  unitOf: () => "人",
  value: (dims) => (dims["cat01"] === "3" && dims["area"] === "13000" ? "-" : String(Number(dims["cat01"]) * 1000 + (dims["area"] === "00000" ? 0.5 : 0)))
})
const big = generatedTable({ id: "0009000006", categories: 10, areas: 10, months: 20 }) // 2,000 rows, more CSV than max_bytes below

/** RFC 4180 as Excel writes it. */
const parseCsv = (text: string): Array<Array<string>> => {
  const rows: Array<Array<string>> = []
  let row: Array<string> = []
  let field = ""
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"', i++)
      else if (c === '"') quoted = false
      else field += c
    } else if (c === '"') quoted = true
    else if (c === ",") (row.push(field), field = "")
    else if (c === "\r" && text[i + 1] === "\n") (row.push(field), rows.push(row), row = [], field = "", i++)
    else field += c
  }
  return rows
}


/** The bytes behind a download URL, decoded keeping the BOM (fetch's text() would drop it). */
const readUrl = async (url: string) => {
  const keepBom = (bytes: Uint8Array) => new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes)
  if (url.startsWith("file:")) return { status: 200, text: keepBom(readFileSync(fileURLToPath(url))), disposition: null as string | null }
  const response = await fetch(url)
  return { status: response.status, text: keepBom(new Uint8Array(await response.arrayBuffer())), disposition: response.headers.get("content-disposition") }
}

/** A getStatsData answer for `table` as e-Stat sends it, with these extra parameters. */
const answerOf = (table: FakeTable, params: Record<string, string> = {}) =>
  new TextEncoder().encode(makeEStatApi({ tables: [table], appIds: [MOCK_APP_ID] })
    .answer("getStatsData", new URLSearchParams({ appId: MOCK_APP_ID, statsDataId: table.info.id, ...params }), 0).body)

// e-Stat in memory; each store, since the files are written to it and served from its download URLs.
describe.each<Backend>(["local", "aws"])("file outputs on the %s backend", (backend) => {
  it.scopedLive("save_dataset_as_csv: a complete, Excel-ready CSV whose rows are the run's; the download URL serves it", () =>
    Effect.gen(function* () {
      const { context } = yield* mockedOn(backend, [tricky])
      const saved = yield* callTool(saveDatasetAsCsv, { dataset_id: "0009000005" }).pipe(Effect.provide(context))
      expect(saved.isError, firstText(saved)).toBe(false)
      const out = saved.structuredContent as { run_id: string; records_count: number; columns: Array<string>; location: string; download_url: string; size_bytes: number; expires_at: string | null }
      expect(out.records_count).toBe(10)
      expect(saved.structuredContent).toMatchObject({ subset: null })
      expect(out.location).toMatch(new RegExp(`csv/0009000005/${out.run_id}/0009000005_${out.run_id}\\.csv$`))
      const download = yield* Effect.promise(() => readUrl(out.download_url))
      expect(download.status).toBe(200)
      expect(download.text.charCodeAt(0)).toBe(0xfeff)
      expect(Buffer.byteLength(download.text)).toBe(out.size_bytes)
      if (backend === "aws") {
        expect(out.expires_at).not.toBeNull()
        expect(download.disposition).toContain(`attachment; filename="0009000005_${out.run_id}.csv"`)
      }
      const [header, ...rows] = parseCsv(download.text.slice(1))
      expect(header).toEqual(out.columns)
      expect(header).toContain("cat01_name")
      expect(rows.length).toBe(10)
      const manifest = (yield* Effect.flatMap(ObjectStore, (s) => s.getBytes(`datasets/0009000005/${out.run_id}/manifest.json`)).pipe(
        Effect.provide(context), Effect.map((b) => JSON.parse(new TextDecoder().decode(b)))
      ))
      const expected = yield* queryRun(manifest, "SELECT * FROM run").pipe(Effect.provide(context))
      const asText = (v: unknown) => (v === null ? "" : String(v))
      expect(rows).toEqual(expected.map((r) => header!.map((name) => asText(r[name]))))
      expect(rows.map((r) => r[header!.indexOf("cat01_name")])).toContain("line\nbreak")
      expect(rows.map((r) => r[header!.indexOf("cat01_name")])).toContain('say "hi"')
      expect(rows.map((r) => r[header!.indexOf("cat01_name")])).toContain("\\N")
    }))

  it.scopedLive("converts an existing run by its folder, without labels, under a sanitised name", () =>
    Effect.gen(function* () {
      const { context } = yield* mockedOn(backend, [tricky])
      const run = yield* fetchDataset(baseRequest("0009000005")).pipe(Effect.provide(context))
      const store = yield* Effect.provide(ObjectStore, context)
      const saved = yield* callTool(saveDatasetAsCsv, {
        dataset_id: "0009000005", s3_json_path: store.uri(`datasets/0009000005/${run.runId}/`), include_labels: false, output_filename: "../../etc/集計 結果", line_ending: "lf"
      }).pipe(Effect.provide(context))
      expect(saved.isError, firstText(saved)).toBe(false)
      const out = saved.structuredContent as { location: string; columns: Array<string> }
      expect(out.location).toBe(store.uri(`csv/0009000005/${run.runId}/集計 結果.csv`))
      expect(out.columns.some((c) => c.endsWith("_name"))).toBe(false)
      const capped = yield* fetchDataset(baseRequest("0009000005", { maxRecords: 5 })).pipe(Effect.provide(context))
      const fromCapped = yield* callTool(saveDatasetAsCsv, { dataset_id: "0009000005", s3_json_path: `datasets/0009000005/${capped.runId}` }).pipe(Effect.provide(context))
      expect(fromCapped.structuredContent).toMatchObject({ records_count: 5, subset: "the first 5 of 10 rows (max_records)" })
      expect(firstText(fromCapped)).toContain("Saved 5 rows (the first 5 of 10 rows (max_records)) as CSV.")
      // A saved e-Stat page converts too (through transform_to_parquet's path).
      yield* store.putBytes("raw/0009000005/page.json", new TextEncoder().encode(JSON.stringify({
        VALUE: [{ "@tab": "01", "@cat01": "2", "@area": "00000", "@time": "2020000000", "@unit": "人", "$": "2000.5" }]
      })), "application/json")
      const fromPage = yield* callTool(saveDatasetAsCsv, { dataset_id: "0009000005", s3_json_path: "raw/0009000005/page.json" }).pipe(Effect.provide(context))
      expect(fromPage.isError, firstText(fromPage)).toBe(false)
      const page = fromPage.structuredContent as { records_count: number; download_url: string }
      expect(page.records_count).toBe(1)
      const pageCsv = parseCsv((yield* Effect.promise(() => readUrl(page.download_url))).text.slice(1))
      expect(pageCsv[1]![pageCsv[0]!.indexOf("cat01_name")]).toBe("a,b")
      // One page of a larger answer is not the dataset: refused, not presented as whole.
      yield* store.putBytes("raw/misc/first-page.json", answerOf(tricky, { limit: "4" }), "application/json")
      const fromPartial = yield* callTool(saveDatasetAsCsv, { dataset_id: "0009000005", s3_json_path: "raw/misc/first-page.json" }).pipe(Effect.provide(context))
      expect(fromPartial.isError).toBe(true)
      expect(firstText(fromPartial)).toContain("it is one page (4 of 10 rows)")
      const wrongDataset = yield* callTool(saveDatasetAsCsv, { dataset_id: "0009000001", s3_json_path: `datasets/0009000005/${run.runId}` }).pipe(Effect.provide(context))
      expect(firstText(wrongDataset)).toContain("it holds dataset 0009000005, not 0009000001")
    }))

  it.scopedLive("download_csv_from_s3: inline content capped at whole lines; bad paths and missing files are clear errors", () =>
    Effect.gen(function* () {
      const { context } = yield* mockedOn(backend, [big])
      const store = yield* Effect.provide(ObjectStore, context)
      const saved = yield* callTool(saveDatasetAsCsv, { dataset_id: "0009000006" }).pipe(Effect.provide(context))
      const location = (saved.structuredContent as { location: string; size_bytes: number }).location
      const size = (saved.structuredContent as { size_bytes: number }).size_bytes
      expect(size).toBeGreaterThan(100_000)
      const inline = yield* callTool(downloadCsvFromS3, { s3_path: location, return_content: true, max_bytes: 100_000 }).pipe(Effect.provide(context))
      expect(inline.isError, firstText(inline)).toBe(false)
      const out = inline.structuredContent as { size_bytes: number; content: string; truncated: boolean; line_count: number; content_type: string }
      expect(out).toMatchObject({ size_bytes: size, truncated: true, content_type: "text/csv; charset=utf-8" })
      expect(Buffer.byteLength(out.content)).toBeLessThanOrEqual(100_000)
      expect(out.content.endsWith("\r\n")).toBe(true)
      expect(out.content.split("\r\n").length - 1).toBe(out.line_count)
      expect(out.content.startsWith("stats_data_id,")).toBe(true)
      yield* store.putBytes("csv/empty.csv", new Uint8Array(0), "text/csv")
      const empty = yield* callTool(downloadCsvFromS3, { s3_path: "csv/empty.csv", return_content: true }).pipe(Effect.provide(context))
      expect(empty.isError, firstText(empty)).toBe(false)
      expect(empty.structuredContent).toMatchObject({ size_bytes: 0, content: "", truncated: false, line_count: 0 })

      const refused = [
        "../secrets.csv", "/etc/passwd", "csv/../../x.csv", "csv%2F..%2Fx.csv", "s3://other-bucket/lake/csv/x.csv", "file:///etc/passwd",
        backend === "aws" ? "s3://estat-test/elsewhere/x.csv" : "s3://estat-test/lake/x.csv"
      ]
      for (const path of refused) {
        const result = yield* callTool(downloadCsvFromS3, { s3_path: path }).pipe(Effect.provide(context))
        expect(result.isError, path).toBe(true)
        expect(firstText(result), path).toContain(`"${path}" is not a valid storage path: use a path inside ${store.root}`)
      }
      const missing = yield* callTool(downloadCsvFromS3, { s3_path: "csv/none.csv" }).pipe(Effect.provide(context))
      expect(missing).toMatchObject({ isError: true })
      expect(firstText(missing)).toBe(`Nothing is stored at ${store.uri("csv/none.csv")}. Check the path (runs are under datasets/<dataset_id>/<run_id>/).`)
    }))
})

describe("presigned URLs", () => {
  it.scoped("a URL is signed at the Clock's time: S3 takes it until expiresAt, refuses it after", () =>
    Effect.gen(function* () {
      const { context } = yield* mockedOn("aws", [])
      const store = yield* Effect.provide(ObjectStore, context)
      yield* store.putBytes("csv/x.csv", new TextEncoder().encode("a,b\r\n"), "text/csv")
      // S3 judges expiry by its own (real) time: sign now, and as if 10 s ago with a 1 s life.
      const realNow = Date.now()
      yield* TestClock.setTime(realNow)
      const fresh = yield* store.downloadUrl("csv/x.csv", { expiresInSeconds: 60, fileName: "x.csv" })
      expect(fresh.expiresAt?.getTime()).toBe(realNow + 60_000)
      expect((yield* Effect.promise(() => fetch(fresh.url))).status).toBe(200)
      yield* TestClock.setTime(realNow - 10_000)
      const stale = yield* store.downloadUrl("csv/x.csv", { expiresInSeconds: 1, fileName: "x.csv" })
      expect(stale.expiresAt?.getTime()).toBe(realNow - 9_000)
      expect((yield* Effect.promise(() => fetch(stale.url))).status).toBe(403)
    }))
})
