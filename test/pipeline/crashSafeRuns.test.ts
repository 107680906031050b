import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { createInterface } from "node:readline"
import { NodeContext } from "@effect/platform-node"
import { Effect, Fiber, Layer, Option } from "effect"
import { beforeAll, describe, expect, it } from "@effect/vitest"
import { configLayer, defaultSettings } from "../../src/config.js"
import { manifestKey, partKey } from "../../src/domain/runs.js"
import { fetchDataset } from "../../src/pipeline/fetchDataset.js"
import { sweepScratchFiles } from "../../src/pipeline/leftovers.js"
import { readManifest } from "../../src/pipeline/runs.js"
import { ObjectStore } from "../../src/services/storage/ObjectStore.js"
import { type FakeEStatHandle, generatedTable, type GeneratedTableOptions, isDataRequest } from "../fakes/estatServer.js"
import type { FetchChildSettings } from "../support/fetchChild.js"
import { type Backend, baseRequest, pipelineContext, queryRun } from "../support/pipeline.js"
import { s3rverCredentials } from "../support/s3rver.js"

/** 5 items × 10 areas × 30 months = 1,500 cells: 15 pages of 100, a checkpoint manifest after page 10. */
const table: GeneratedTableOptions = { id: "0009000020", categories: 5, areas: 10, months: 30, specialEvery: 7, annotationEvery: 11 }
const TOTAL_NUMBER = 1500
const PAGES = 15
const pageStart = (index: number) => (index - 1) * 100 + 1

interface Child {
  readonly events: ReadonlyArray<Record<string, unknown>>
  readonly kill: Effect.Effect<void>
}

// test/support/fetchChild.ts bundled once (a child under tsx takes ~10 s to start on a busy machine);
// inside the repo, so that the bundle finds DuckDB in node_modules.
const childBundle = join(process.cwd(), "node_modules", ".cache", "estat-mcp-test", "fetchChild.mjs")
beforeAll(() => void execFileSync(process.execPath, ["scripts/bundle.mjs", "test/support/fetchChild.ts", childBundle]), 60_000)

/** The run in a child process, killed with the scope if still alive. */
const startChild = (settings: FetchChildSettings) =>
  Effect.acquireRelease(
    Effect.sync((): Child & { readonly process: ChildProcess } => {
      const child = spawn(process.execPath, [childBundle], {
        env: { ...process.env, FETCH_CHILD: JSON.stringify(settings) },
        stdio: ["ignore", "pipe", "inherit"]
      })
      const events: Array<Record<string, unknown>> = []
      createInterface({ input: child.stdout! }).on("line", (line) => {
        if (line.startsWith("{")) events.push(JSON.parse(line) as Record<string, unknown>)
      })
      const exited = new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : child.once("exit", () => resolve())))
      return { events, process: child, kill: Effect.promise(() => (child.kill("SIGKILL"), exited)) }
    }),
    (child) => child.kill
  )

/** Polls until `condition` holds (the child and the fake are other processes and sockets: no clock to drive). */
const until = (what: string, condition: () => boolean) =>
  Effect.gen(function* () {
    const deadline = Date.now() + 60_000
    while (!condition()) {
      if (Date.now() > deadline) return yield* Effect.die(new Error(`timed out waiting for ${what}`))
      yield* Effect.sleep("10 millis")
    }
  })

const asked = (fake: FakeEStatHandle, index: number) => () =>
  fake.requests.some((r) => isDataRequest(r) && r.params.get("startPosition") === String(pageStart(index)))
const stored = (child: Child, pages: number) => () => child.events.some((e) => e["event"] === "progress" && e["pagesDone"] === pages)

interface KillPoint {
  readonly name: string
  /** The fake never answers this page. */
  readonly holdPage?: number
  readonly holdFinalManifest?: boolean
  /** When the child is at the point. */
  readonly reached: (child: Child, fake: FakeEStatHandle) => () => boolean
  /** Pages the manifest lists, part files in the folder, when killed. */
  readonly listed: number
  readonly parts: number
}

const killPoints: ReadonlyArray<KillPoint> = [
  // (Before its first page arrives a run has written nothing: see "a run stopped while its first page is asked for" below.)
  {
    name: "after the first part, before the second page arrives",
    holdPage: 2,
    reached: (child, fake) => () => stored(child, 1)() && asked(fake, 2)(),
    listed: 0,
    parts: 1
  },
  {
    name: "after 3 parts, before the first checkpoint",
    holdPage: 4,
    reached: (child, fake) => () => stored(child, 3)() && asked(fake, 4)(),
    listed: 0,
    parts: 3
  },
  {
    name: "mid-run, 3 parts after the checkpoint of page 10",
    holdPage: 14,
    reached: (child, fake) => () => stored(child, 13)() && asked(fake, 14)(),
    listed: 10,
    parts: 13
  },
  {
    name: "during the final manifest write",
    holdFinalManifest: true,
    reached: (child) => () => child.events.some((e) => e["event"] === "final-manifest"),
    listed: 10,
    parts: 15
  }
]

describe.each<Backend>(["local", "aws"])("a run killed at any moment on the %s backend", (backend) => {
  it.scopedLive.each(killPoints)("$name: recorded partial, resumed to exactly TOTAL_NUMBER rows, nothing left over", (point) =>
    Effect.gen(function* () {
      const { context, fake, settings } = yield* pipelineContext(backend, {
        tables: [generatedTable(table)],
        faults: point.holdPage === undefined ? {} : { holdPage: { startPosition: pageStart(point.holdPage) } }
      })
      const store = yield* Effect.provide(ObjectStore, context)
      const child = yield* startChild({
        baseUrl: fake.baseUrl,
        dataDir: settings.dataDir,
        s3: Option.match(settings.s3Endpoint, { onNone: () => null, onSome: (endpoint) => ({ endpoint, ...s3rverCredentials }) }),
        statsDataId: table.id,
        pageSize: 100,
        concurrency: 1,
        resumeRunId: null,
        holdFinalManifest: point.holdFinalManifest === true
      })
      yield* until(point.name, point.reached(child, fake))
      yield* child.kill

      // What the kill left: one run folder, its manifest partial, some parts listed, maybe more not yet.
      const left = (yield* store.list(`datasets/${table.id}/`)).map((o) => o.key)
      const manifestKeys = left.filter((key) => key.endsWith("/manifest.json"))
      expect(manifestKeys).toHaveLength(1)
      const partial = yield* readManifest(manifestKeys[0]!).pipe(Effect.provide(context))
      expect(partial).toMatchObject({ status: "partial", total_records: TOTAL_NUMBER, expected_records: TOTAL_NUMBER, pages_total: PAGES })
      expect(partial.pages.length).toBe(point.listed)
      expect(left.filter((key) => key.endsWith(".parquet")).length).toBe(point.parts)

      fake.setFaults({})
      const before = fake.requests.filter(isDataRequest).length
      const resumed = yield* fetchDataset(baseRequest(table.id, { resumeRunId: partial.run_id })).pipe(Effect.provide(context))
      expect(resumed).toMatchObject({ runId: partial.run_id, recordsFetched: TOTAL_NUMBER, pagesFetchedNow: PAGES - point.listed })
      // Only what the manifest did not list was asked for again.
      const fetchedNow = fake.requests.filter(isDataRequest).slice(before).map((r) => Number(r.params.get("startPosition")))
      expect(fetchedNow.sort((a, b) => a - b)).toEqual(Array.from({ length: PAGES - point.listed }, (_, i) => pageStart(point.listed + i + 1)))
      const complete = yield* readManifest(manifestKey(table.id, partial.run_id)).pipe(Effect.provide(context))
      expect(complete).toMatchObject({ status: "complete", records_fetched: TOTAL_NUMBER, error: null })
      const [check] = yield* queryRun(complete,
        "SELECT count(*) AS n, count(DISTINCT (tab_code, cat01_code, area_code, time_code)) AS d FROM run").pipe(Effect.provide(context))
      expect(check).toEqual({ n: TOTAL_NUMBER, d: TOTAL_NUMBER })
      // No orphans: the folder holds the manifest and the parts it lists, the scratch folder nothing.
      const after = (yield* store.list(`datasets/${table.id}/`)).map((o) => o.key)
      expect(after).toEqual([
        manifestKey(table.id, partial.run_id),
        ...Array.from({ length: PAGES }, (_, i) => partKey(table.id, partial.run_id, i + 1))
      ].sort())
      expect(complete.pages.map((p) => p.key).sort()).toEqual(after.filter((key) => key.endsWith(".parquet")))
      if (backend === "local") expect(readdirSync(join(settings.dataDir, ".tmp"))).toEqual([])
    }), 120_000)
})

describe("a run stopped while its first page is asked for", () => {
  it.scopedLive("has stored nothing: no manifest, no part (the first page brings the count, so nothing is recorded before it)", () =>
    Effect.gen(function* () {
      const { context, fake } = yield* pipelineContext("local", { tables: [generatedTable(table)], faults: { holdPage: { startPosition: 1 } } })
      const fiber = yield* Effect.fork(fetchDataset(baseRequest(table.id)).pipe(Effect.provide(context)))
      yield* until("the first page asked for", asked(fake, 1))
      yield* Fiber.interrupt(fiber)
      expect(yield* Effect.flatMap(ObjectStore, (store) => store.list(`datasets/${table.id}/`)).pipe(Effect.provide(context))).toEqual([])
      expect(fake.requests.filter((r) => r.endpoint === "getStatsData").map((r) => r.params.get("cntGetFlg"))).toEqual(["N"])
    }), 60_000)
})

const hoursAgo = (hours: number) => new Date(Date.now() - hours * 3600_000)

/** Files planted under DATA_DIR, with their modification time set back. */
const plant = (dataDir: string, files: ReadonlyArray<{ readonly path: string; readonly modified: Date }>) => {
  for (const file of files) {
    const full = join(dataDir, file.path)
    mkdirSync(join(full, ".."), { recursive: true })
    writeFileSync(full, "PAR1 left by a killed process")
    utimesSync(full, file.modified, file.modified)
  }
}

describe("leftovers of killed processes", () => {
  it.scopedLive("a new run of a dataset removes its run folders with parts and no manifest idle for an hour; nothing else", () =>
    Effect.gen(function* () {
      const dataDir = mkdtempSync(join(tmpdir(), "estat-leftovers-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dataDir, { recursive: true, force: true })))
      const old = `datasets/${table.id}/20250101T000000000Z-aaaaaa`
      const fresh = `datasets/${table.id}/20250101T000000000Z-bbbbbb`
      const withManifest = `datasets/${table.id}/20250101T000000000Z-cccccc`
      const output = `datasets/${table.id}/my-output`
      const otherDataset = `datasets/0009000099/20250101T000000000Z-dddddd`
      plant(dataDir, [
        { path: `${old}/part-00001.parquet`, modified: hoursAgo(3) },
        { path: `${old}/part-00002.parquet`, modified: hoursAgo(2) },
        { path: `${fresh}/part-00001.parquet`, modified: hoursAgo(3) },
        { path: `${fresh}/part-00002.parquet`, modified: new Date() },
        { path: `${withManifest}/part-00001.parquet`, modified: hoursAgo(3) },
        { path: `${withManifest}/manifest.json`, modified: hoursAgo(3) },
        { path: `${output}/part-00001.parquet`, modified: hoursAgo(3) },
        { path: `${otherDataset}/part-00001.parquet`, modified: hoursAgo(3) }
      ])
      const { context } = yield* pipelineContext("local", { tables: [generatedTable(table)] }, { dataDir })
      const run = yield* fetchDataset(baseRequest(table.id, { maxRecords: 100 })).pipe(Effect.provide(context))
      const keys = (yield* Effect.flatMap(ObjectStore, (store) => store.list("datasets/")).pipe(Effect.provide(context))).map((o) => o.key)
      expect(keys.filter((key) => !key.includes(run.runId))).toEqual([
        `${otherDataset}/part-00001.parquet`,
        `${fresh}/part-00001.parquet`,
        `${fresh}/part-00002.parquet`,
        `${withManifest}/manifest.json`,
        `${withManifest}/part-00001.parquet`,
        `${output}/part-00001.parquet`
      ].sort())
      const resumeFresh = yield* Effect.flip(fetchDataset(baseRequest(table.id, { resumeRunId: "20250101T000000000Z-bbbbbb" })).pipe(Effect.provide(context)))
      expect(resumeFresh.message).toContain("cannot be resumed: its folder holds parts but no manifest.json")
    }))

  it.scopedLive("start-up removes scratch files older than an hour from DATA_DIR/.tmp, and keeps newer ones", () =>
    Effect.gen(function* () {
      const dataDir = mkdtempSync(join(tmpdir(), "estat-scratch-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dataDir, { recursive: true, force: true })))
      plant(dataDir, [
        { path: ".tmp/1764300000000-0123456789ab.parquet", modified: hoursAgo(2) },
        { path: ".tmp/1764300000001-0123456789ab.part", modified: hoursAgo(25) },
        { path: ".tmp/1764300000002-0123456789ab.parquet", modified: hoursAgo(0.5) }
      ])
      // Building the services is the start-up.
      yield* pipelineContext("local", {}, { dataDir })
      expect(readdirSync(join(dataDir, ".tmp"))).toEqual(["1764300000002-0123456789ab.parquet"])
    }))

  it.scopedLive("a DATA_DIR/.tmp that is a link is not swept: the files it leads to stay", () =>
    Effect.gen(function* () {
      const dataDir = mkdtempSync(join(tmpdir(), "estat-scratch-"))
      const elsewhere = mkdtempSync(join(tmpdir(), "estat-elsewhere-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => [dataDir, elsewhere].forEach((dir) => rmSync(dir, { recursive: true, force: true }))))
      plant(elsewhere, [{ path: "precious.txt", modified: hoursAgo(48) }])
      symlinkSync(elsewhere, join(dataDir, ".tmp"))
      const swept = yield* sweepScratchFiles().pipe(Effect.provide(Layer.merge(configLayer({ ...defaultSettings, dataDir }), NodeContext.layer)))
      expect(swept).toEqual([])
      expect(readdirSync(elsewhere)).toEqual(["precious.txt"])
    }))
})
