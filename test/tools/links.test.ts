import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { basename, join, relative } from "node:path"
import { Effect } from "effect"
import { describe, expect, it } from "@effect/vitest"
import type { Tool } from "../../src/mcp/tool.js"
import { fetchDataset } from "../../src/pipeline/fetchDataset.js"
import { ObjectStore } from "../../src/services/storage/ObjectStore.js"
import { analyzeWithAthena } from "../../src/tools/analyzeWithAthena.js"
import { downloadCsvFromS3 } from "../../src/tools/downloadCsvFromS3.js"
import { loadToIceberg } from "../../src/tools/loadToIceberg.js"
import type { ToolRequirements } from "../../src/tools/registry.js"
import { saveDatasetAsCsv } from "../../src/tools/saveDatasetAsCsv.js"
import { storedFiles } from "../../src/resources/storedFiles.js"
import { transformToParquet } from "../../src/tools/transformToParquet.js"
import { cubeTable } from "../fakes/estat/cube.js"
import { FAKE_APP_ID, generatedTable } from "../fakes/estatServer.js"
import { outsideSnapshot, SECRET, symlinksWork } from "../support/links.js"
import { baseRequest, pipelineContext } from "../support/pipeline.js"
import { callTool, firstText } from "../support/toolResult.js"

/**
 * Every tool that takes a storage path, and resources/read, against links planted in DATA_DIR:
 * to a file outside, to a folder outside as an intermediate component, via `..`, dangling, a linked
 * run folder or manifest, a run whose parts are links, a linked output folder. Each is refused, no
 * result shows what lies outside (SECRET, the outside path), and nothing is written outside.
 */

const inner = generatedTable({ id: "0009000031", categories: 2, areas: 2, months: 3 }) // 12 rows
const secret = cubeTable({
  info: { ...generatedTable({ id: "0009000032", categories: 1, areas: 1, months: 1 }).info, id: "0009000032", title: SECRET },
  dimensions: [
    { id: "tab", name: "表章項目", classes: [{ code: "01", name: "人数", level: "", unit: "人" }] },
    { id: "cat01", name: SECRET, classes: [{ code: "1", name: SECRET }, { code: "2", name: `${SECRET}-2` }] },
    { id: "area", name: "地域", classes: [{ code: "00000", name: "全国" }] },
    { id: "time", name: "時間軸", classes: [{ code: "2020000000", name: "2020年" }] }
  ],
  value: (dims) => String(Number(dims["cat01"]) * 7)
})
const sid = secret.info.id

/** DATA_DIR with complete runs and a saved page, and links of every kind to their copies outside. */
const setup = Effect.gen(function* () {
  const { context, fake, settings } = yield* pipelineContext("local", { tables: [inner, secret] })
  const outside = mkdtempSync(join(tmpdir(), "estat-outside-"))
  yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(outside, { recursive: true, force: true })))
  const store = yield* Effect.provide(ObjectStore, context)
  const at = (key: string) => join(settings.dataDir, ...key.split("/"))
  const link = (target: string, key: string) => {
    mkdirSync(join(at(key), ".."), { recursive: true })
    symlinkSync(target, at(key))
  }
  const fetchRun = (id: string) => Effect.map(fetchDataset(baseRequest(id)).pipe(Effect.provide(context)), (run) => ({ runId: run.runId, manifest: run.manifest! }))
  const innerRun = yield* fetchRun(inner.info.id)
  const movedRun = yield* fetchRun(sid)
  const partRun = yield* fetchRun(sid)

  // A complete run of the secret table, moved outside and linked back in under its own name.
  renameSync(at(`datasets/${sid}/${movedRun.runId}`), join(outside, "run"))
  link(join(outside, "run"), `datasets/${sid}/${movedRun.runId}`)
  link(relative(at(`datasets/${sid}`), join(outside, "run")), `datasets/${sid}/dotdot-run`)
  link(join(outside, "missing-run"), `datasets/${sid}/dangling-run`)
  link(join(outside, "run", "manifest.json"), `datasets/${sid}/manifest-linked/manifest.json`)
  link(outside, "datasets/linked-parent")
  // A run whose parts were moved outside and replaced by links.
  for (const page of partRun.manifest.pages) {
    renameSync(at(page.key), join(outside, basename(page.key)))
    link(join(outside, basename(page.key)), page.key)
  }
  // A saved e-Stat page of the secret table, outside.
  const answer = yield* Effect.promise(() =>
    fetch(`${fake.baseUrl}/json/getStatsData?appId=${FAKE_APP_ID}&statsDataId=${sid}&lang=J`).then((r) => r.arrayBuffer()))
  writeFileSync(join(outside, "page.json"), new Uint8Array(answer))
  link(join(outside, "page.json"), `raw/${sid}/page.json`)
  link(relative(at(`raw/${sid}`), join(outside, "page.json")), `raw/${sid}/dotdot.json`)
  link(join(outside, "gone.json"), `raw/${sid}/dangling.json`)
  link(outside, "raw/linked")
  // A link that stays inside DATA_DIR (refused too), and output folders that lead outside.
  yield* store.putBytes("csv/real.csv", new TextEncoder().encode("a,b\r\n1,2\r\n"), "text/csv")
  link("real.csv", "csv/alias.csv")
  mkdirSync(join(outside, "out"))
  link(join(outside, "out"), "transformed/evil")
  link(relative(at("out"), join(outside, "out")), "out/up")
  link(join(outside, "missing-out"), "transformed/nowhere")

  const run = <A, E>(effect: Effect.Effect<A, E, ToolRequirements>) => Effect.provide(effect, context)
  const call = (tool: Tool<ToolRequirements>, args: unknown) => run(callTool(tool, args))
  /** Refused, saying why, showing nothing from outside. */
  const expectRefused = (result: unknown, label: string) => {
    const text = firstText(result)
    expect((result as { isError: boolean }).isError, `${label}: ${text}`).toBe(true)
    expect(text, label).toContain("symbolic link")
    expect(JSON.stringify(result), label).not.toContain(SECRET)
    expect(JSON.stringify(result), label).not.toContain(outside)
  }
  return { context, settings, outside, store, innerRun, movedRun, partRun, run, call, expectRefused, snapshot: () => outsideSnapshot(outside) }
})

/** Locations of things outside, each as DATA_DIR reaches them through a link. */
const linkedReads = (s: { readonly movedRun: { readonly runId: string }; readonly partRun: { readonly manifest: { readonly pages: ReadonlyArray<{ readonly key: string }> } } }) => [
  `raw/${sid}/page.json`,
  `raw/${sid}/dotdot.json`,
  "raw/linked/page.json",
  `raw/${sid}/dangling.json`,
  `datasets/${sid}/${s.movedRun.runId}/manifest.json`,
  `datasets/${sid}/dotdot-run/manifest.json`,
  `datasets/${sid}/dangling-run/manifest.json`,
  `datasets/${sid}/manifest-linked/manifest.json`,
  "datasets/linked-parent/run/manifest.json",
  s.partRun.manifest.pages[0]!.key,
  "csv/alias.csv"
]

/** Runs (folders or manifests) reached through a link. */
const linkedRuns = (s: { readonly movedRun: { readonly runId: string }; readonly partRun: { readonly runId: string } }) => [
  `datasets/${sid}/${s.movedRun.runId}/`,
  `datasets/${sid}/dotdot-run/`,
  `datasets/${sid}/dangling-run`,
  `datasets/${sid}/manifest-linked/`,
  `datasets/${sid}/manifest-linked/manifest.json`,
  "datasets/linked-parent/run/",
  `datasets/${sid}/${s.partRun.runId}/`
]

const linkedPages = [`raw/${sid}/page.json`, `raw/${sid}/dotdot.json`, "raw/linked/page.json", `raw/${sid}/dangling.json`]

const linkedOutputs = ["transformed/evil/", "transformed/evil/a/b/", "out/up/", "transformed/nowhere/"]

describe.skipIf(!symlinksWork)("tools and resources refuse links in DATA_DIR (local backend)", () => {
  it.scopedLive("download_csv_from_s3 and resources/read: every linked file, by key and by file:// URL", () =>
    Effect.gen(function* () {
      const s = yield* setup
      const keys = linkedReads(s)
      for (const key of keys) {
        for (const location of [key, s.store.uri(key)]) {
          s.expectRefused(yield* s.call(downloadCsvFromS3, { s3_path: location, return_content: true }), `download ${location}`)
          const read = yield* Effect.flip(s.run(storedFiles.read(location)))
          expect(read.code, key).toBe(-32602)
          expect(read.message).toContain("symbolic link")
          expect(read.message).not.toContain(SECRET)
          expect(read.message).not.toContain(s.outside)
        }
      }
      // resources/list shows only real files, and no link among them.
      const listed = yield* s.run(storedFiles.list(undefined))
      expect(listed.resources.map((r) => r.title)).toEqual(["csv/real.csv"])
      expect(JSON.stringify(listed)).not.toContain(SECRET)
      const real = yield* s.call(downloadCsvFromS3, { s3_path: "csv/real.csv", return_content: true })
      expect(real.isError, firstText(real)).toBe(false)
    }))

  it.scopedLive("transform_to_parquet: linked pages and runs are not read; linked output folders get nothing", () =>
    Effect.gen(function* () {
      const s = yield* setup
      const before = s.snapshot()
      for (const location of [...linkedPages, ...linkedRuns(s)]) {
        s.expectRefused(yield* s.call(transformToParquet, { s3_json_path: location }), `transform ${location}`)
      }
      const source = `datasets/${inner.info.id}/${s.innerRun.runId}/`
      for (const prefix of [...linkedOutputs, s.store.uri("transformed/evil/")]) {
        s.expectRefused(yield* s.call(transformToParquet, { s3_json_path: source, output_prefix: prefix }), `output ${prefix}`)
      }
      expect(s.snapshot()).toEqual(before)
      expect(yield* s.store.list("transformed/")).toEqual([])
      const fine = yield* s.call(transformToParquet, { s3_json_path: source, output_prefix: "mine/" })
      expect(fine.isError, firstText(fine)).toBe(false)
    }))

  it.scopedLive("save_dataset_as_csv: linked runs and pages are not read; a linked csv folder gets nothing", () =>
    Effect.gen(function* () {
      const s = yield* setup
      for (const location of [...linkedRuns(s), ...linkedPages]) {
        s.expectRefused(yield* s.call(saveDatasetAsCsv, { dataset_id: sid, s3_json_path: location }), `save ${location}`)
      }
      symlinkSync(join(s.outside, "out"), join(s.settings.dataDir, "csv", inner.info.id))
      const before = s.snapshot()
      s.expectRefused(
        yield* s.call(saveDatasetAsCsv, { dataset_id: inner.info.id, s3_json_path: `datasets/${inner.info.id}/${s.innerRun.runId}/` }),
        "save into a linked csv folder"
      )
      expect(s.snapshot()).toEqual(before)
      expect((yield* s.store.list("csv/")).map((o) => o.key)).toEqual(["csv/real.csv"])
    }))

  it.scopedLive("load_to_iceberg: linked runs are not loaded, linked table folders get nothing; analyses refuse a linked data file", () =>
    Effect.gen(function* () {
      const s = yield* setup
      for (const location of linkedRuns(s)) {
        s.expectRefused(yield* s.call(loadToIceberg, { table_name: "stolen", s3_parquet_path: location }), `load ${location}`)
      }
      const database = s.settings.glueDatabase
      const warehouse = join(s.settings.dataDir, "warehouse", database)
      mkdirSync(warehouse, { recursive: true })
      symlinkSync(join(s.outside, "out"), join(warehouse, "linked_table"))
      symlinkSync(relative(warehouse, join(s.outside, "out")), join(warehouse, "dotdot_table"))
      const before = s.snapshot()
      const innerRun = `datasets/${inner.info.id}/${s.innerRun.runId}/`
      for (const table of ["linked_table", "dotdot_table"]) {
        s.expectRefused(yield* s.call(loadToIceberg, { table_name: table, s3_parquet_path: innerRun }), `load into ${table}`)
      }
      expect(s.snapshot()).toEqual(before)
      expect((yield* s.store.list(`warehouse/${database}/`)).map((o) => o.key)).toEqual([])

      // A loaded table whose data file is then swapped for a link to another table's file outside.
      const loaded = yield* s.call(loadToIceberg, { table_name: "prices", s3_parquet_path: innerRun })
      expect(loaded.isError, firstText(loaded)).toBe(false)
      const [dataFile] = (yield* s.store.list(`warehouse/${database}/prices/data/`)).map((o) => o.key)
      const stolenPart = join(s.outside, basename(s.partRun.manifest.pages[0]!.key))
      rmSync(join(s.settings.dataDir, ...dataFile!.split("/")))
      symlinkSync(stolenPart, join(s.settings.dataDir, ...dataFile!.split("/")))
      const analysed = yield* s.call(analyzeWithAthena, { table_name: "prices" })
      expect(analysed.isError, firstText(analysed)).toBe(true)
      expect(firstText(analysed)).toContain("symbolic link")
      expect(JSON.stringify(analysed)).not.toContain(SECRET)
    }))
})
