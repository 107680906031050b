import { Effect, Fiber } from "effect"
import { describe, expect, it } from "@effect/vitest"
import { manifestKey } from "../../src/domain/runs.js"
import { fetchDataset } from "../../src/pipeline/fetchDataset.js"
import { ObjectStore } from "../../src/services/storage/ObjectStore.js"
import { generatedSum, generatedTable, type GeneratedTableOptions, isDataRequest } from "../fakes/estatServer.js"
import { readManifest } from "../../src/pipeline/runs.js"
import { type Backend, baseRequest, mockedContext, pipelineContext, queryRun } from "../support/pipeline.js"

/** 5 items × 4 areas × 12 months = 240 cells: three pages of 100, 100 and 40 rows. */
const table: GeneratedTableOptions = { id: "0009000001", categories: 5, areas: 4, months: 12, specialEvery: 7, annotationEvery: 11 }
const cells = 240
const fakeOptions = { tables: [generatedTable(table)] }
const dataRequests = (fake: { readonly requests: ReadonlyArray<{ readonly endpoint: string; readonly params: URLSearchParams }> }) =>
  fake.requests.filter(isDataRequest).map((r) => Number(r.params.get("startPosition")))

describe.each<Backend>(["local", "aws"])("fetchDataset on the %s backend", (backend) => {
  it.scopedLive("a 3-page table lands complete, labelled and typed; its values add up to the fake's own", () =>
    Effect.gen(function* () {
      const { context } = yield* pipelineContext(backend, fakeOptions)
      const progress: Array<number> = []
      const outcome = yield* fetchDataset(baseRequest(table.id, {
        onProgress: (p) => Effect.sync(() => progress.push(p.pagesDone))
      })).pipe(Effect.provide(context))
      expect(outcome).toMatchObject({ totalRecords: cells, expectedRecords: cells, recordsFetched: cells, pagesTotal: 3, pagesFetchedNow: 3 })
      expect(progress.sort()).toEqual([1, 2, 3])
      const manifest = outcome.manifest!
      expect(manifest.status).toBe("complete")
      expect(manifest.pages.map((p) => [p.index, p.rows])).toEqual([[1, 100], [2, 100], [3, 40]])
      expect(manifest.notes.map((n) => n.char)).toEqual(["***", "-"])
      expect(manifest.annotations).toEqual([{ code: "A1", text: "速報値" }])
      expect(outcome.storage!.manifest).toEqual(backend === "aws"
        ? `s3://estat-test/lake/datasets/${table.id}/${outcome.runId}/manifest.json`
        : expect.stringMatching(new RegExp(`^file:///.*/datasets/${table.id}/${outcome.runId}/manifest\\.json$`)))
      expect(manifest.columns.map((c) => c.name)).toEqual([
        "stats_data_id", "tab_code", "tab_name", "cat01_code", "cat01_name", "area_code", "area_name", "time_code", "time_name",
        "time_year", "time_month", "time_quarter", "unit", "value", "value_raw", "annotation"
      ])
      const [totals] = yield* queryRun(manifest, "SELECT count(*) AS n, sum(value) AS total, count(DISTINCT (cat01_code, area_code, time_code)) AS distinct_cells FROM run").pipe(Effect.provide(context))
      expect(totals!["n"]).toBe(cells)
      expect(totals!["distinct_cells"]).toBe(cells)
      expect(totals!["total"] as number).toBeCloseTo(generatedSum(table, cells), 6)
      const special = yield* queryRun(manifest, "SELECT value, value_raw, annotation FROM run WHERE value IS NULL ORDER BY time_code DESC, cat01_code, area_code LIMIT 3").pipe(Effect.provide(context))
      expect(special.length).toBe(3)
      for (const row of special) expect(row["annotation"]).toBe(row["value_raw"])
      const [labelled] = yield* queryRun(manifest, "SELECT * FROM run WHERE cat01_code = '0002' AND area_code = '01000' AND time_code = '2026000909'").pipe(Effect.provide(context))
      expect(labelled).toMatchObject({
        stats_data_id: table.id, tab_code: "01", tab_name: "指数", cat01_name: "品目2", area_name: "地域1",
        time_name: "2026年9月", time_year: 2026, time_month: 9, time_quarter: 3, unit: null
      })
      expect(outcome.sampleRows.length).toBe(5)
      expect(outcome.sampleRows[0]).toMatchObject({ cat01_code: "0001", cat01_name: "総合", area_code: "00000", time_code: "2026001212" })
    }))

  it.scopedLive("pages of thousands of rows, read in pieces, store every cell exactly once, glyphs and notes kept", () =>
    Effect.gen(function* () {
      // 12,000 cells in two pages of ~0.5 MB: each page's VALUE is parsed as several ~64 KB pieces.
      const wide: GeneratedTableOptions = { id: "0009000010", categories: 50, areas: 10, months: 24, specialEvery: 13, annotationEvery: 17 }
      const fake = generatedTable(wide)
      const { context } = yield* pipelineContext(backend, { tables: [fake] })
      const outcome = yield* fetchDataset(baseRequest(wide.id, { pageSize: 6000 })).pipe(Effect.provide(context))
      expect(outcome).toMatchObject({ recordsFetched: 12_000, pagesTotal: 2 })
      // A special value's glyph is its annotation unless the cell carries an annotation of its own.
      const expected = { specials: 0, glyphs: 0, annotated: 0 }
      for (const cell of fake.cells()) {
        const special = Number.isNaN(Number(cell.value))
        if (special) expected.specials++
        if (special && cell.annotation === undefined) expected.glyphs++
        if (cell.annotation !== undefined) expected.annotated++
      }
      const [totals] = yield* queryRun(outcome.manifest!,
        "SELECT count(*) AS n, count(DISTINCT (cat01_code, area_code, time_code)) AS d, sum(value) AS total, count(*) FILTER (WHERE value IS NULL) AS specials, " +
          "count(*) FILTER (WHERE value IS NULL AND annotation = value_raw) AS glyphs, count(*) FILTER (WHERE annotation = '速報値') AS annotated FROM run"
      ).pipe(Effect.provide(context))
      expect(totals).toMatchObject({ n: 12_000, d: 12_000, ...expected })
      expect(totals!["total"] as number).toBeCloseTo(generatedSum(wide, 12_000), 4)
    }))

  it.scopedLive("a page failing twice is retried and the run completes", () =>
    Effect.gen(function* () {
      const { context, fake } = yield* pipelineContext(backend, { ...fakeOptions, faults: { failPage: { startPosition: 101, times: 2, status: 503 } } })
      const outcome = yield* fetchDataset(baseRequest(table.id)).pipe(Effect.provide(context))
      expect(outcome.recordsFetched).toBe(cells)
      expect(dataRequests(fake).filter((start) => start === 101).length).toBe(3)
    }))

  it.scopedLive("a page failing for good leaves a partial manifest and a resumable error; resume completes without duplicates", () =>
    Effect.gen(function* () {
      const { context, fake } = yield* pipelineContext(backend, { ...fakeOptions, faults: { failPage: { startPosition: 101, times: Infinity, status: 503 } } })
      const error = yield* Effect.flip(fetchDataset(baseRequest(table.id, { concurrency: 1 })).pipe(Effect.provide(context)))
      expect(error._tag).toBe("RunIncomplete")
      if (error._tag !== "RunIncomplete") return
      expect(error.message).toContain("Page 2 (rows 101–200) failed")
      expect(error.message).toContain(`resume_run_id "${error.runId}"`)
      const partial = yield* readManifest(manifestKey(table.id, error.runId)).pipe(Effect.provide(context))
      expect(partial.status).toBe("partial")
      expect(partial.failed_pages.map((p) => p.index)).toEqual([2])
      expect(partial.pages.map((p) => p.index)).toEqual([1])
      fake.setFaults({})
      const before = dataRequests(fake).length
      const resumed = yield* fetchDataset(baseRequest(table.id, { resumeRunId: error.runId })).pipe(Effect.provide(context))
      expect(resumed).toMatchObject({ runId: error.runId, recordsFetched: cells, pagesFetchedNow: 2 })
      expect(dataRequests(fake).slice(before).sort()).toEqual([101, 201])
      const [check] = yield* queryRun(resumed.manifest!, "SELECT count(*) AS n, count(DISTINCT (cat01_code, area_code, time_code)) AS d FROM run").pipe(Effect.provide(context))
      expect(check).toEqual({ n: cells, d: cells })
    }))

  it.scopedLive("cancelling mid-run records a partial run; resuming fetches only the missing pages", () =>
    Effect.gen(function* () {
      const { context, fake } = yield* pipelineContext(backend, { ...fakeOptions, faults: { latencyMs: 150 } })
      const firstPage = yield* Effect.makeLatch(false)
      const fiber = yield* fetchDataset(baseRequest(table.id, { concurrency: 1, onProgress: () => firstPage.open })).pipe(
        Effect.provide(context),
        Effect.fork
      )
      yield* firstPage.await
      yield* Fiber.interrupt(fiber)
      const runs = yield* Effect.flatMap(ObjectStore, (store) => store.list(`datasets/${table.id}/`)).pipe(Effect.provide(context))
      const manifestEntry = runs.find((o) => o.key.endsWith("manifest.json"))!
      const partial = yield* readManifest(manifestEntry.key).pipe(Effect.provide(context))
      expect(partial).toMatchObject({ status: "partial", error: "The request was cancelled." })
      const stored = partial.pages.map((p) => p.start_position)
      expect(stored.length).toBeGreaterThanOrEqual(1)
      expect(stored.length).toBeLessThan(3)
      fake.setFaults({})
      const before = dataRequests(fake).length
      const resumed = yield* fetchDataset(baseRequest(table.id, { resumeRunId: partial.run_id })).pipe(Effect.provide(context))
      expect(resumed.recordsFetched).toBe(cells)
      const fetchedNow = dataRequests(fake).slice(before)
      expect(fetchedNow.filter((start) => stored.includes(start))).toEqual([])
      expect(fetchedNow.length).toBe(3 - stored.length)
    }))
})

describe("a run being fetched", () => {
  it.scopedLive("cannot be resumed meanwhile: the resume is refused and the running call's parts stay whole", () =>
    Effect.gen(function* () {
      // The second page is never answered: the first call stays in the run.
      const { context } = yield* pipelineContext("local", { ...fakeOptions, faults: { holdPage: { startPosition: 101 } } })
      const firstPage = yield* Effect.makeLatch(false)
      const first = yield* fetchDataset(baseRequest(table.id, { concurrency: 1, onProgress: (p) => (p.pagesDone >= 1 ? firstPage.open : Effect.void) })).pipe(
        Effect.provide(context),
        Effect.fork
      )
      yield* firstPage.await
      const store = yield* Effect.provide(ObjectStore, context)
      const objects = yield* store.list(`datasets/${table.id}/`)
      const runId = objects[0]!.key.split("/")[2]!
      const parts = objects.filter((o) => o.key.endsWith(".parquet")).map((o) => o.key)
      expect(parts.length).toBe(1)
      const refused = yield* Effect.flip(fetchDataset(baseRequest(table.id, { resumeRunId: runId })).pipe(Effect.provide(context)))
      expect(refused).toMatchObject({ _tag: "RunNotResumable", runId })
      expect(refused.message).toContain("still fetching it")
      expect((yield* store.list(`datasets/${table.id}/`)).filter((o) => o.key.endsWith(".parquet")).map((o) => o.key)).toEqual(parts)
      yield* Fiber.interrupt(first)
    }))
})

describe("fetchDataset options (on the mocked layers)", () => {
  it.scoped("max_records caps the run; save_to_s3 false stores nothing; an unknown table fails before any write", () =>
    Effect.gen(function* () {
      const { context } = yield* mockedContext(fakeOptions.tables)
      const capped = yield* fetchDataset(baseRequest(table.id, { maxRecords: 150 })).pipe(Effect.provide(context))
      expect(capped).toMatchObject({ totalRecords: cells, expectedRecords: 150, recordsFetched: 150, pagesTotal: 2 })
      expect(capped.manifest!.pages.map((p) => p.rows)).toEqual([100, 50])
      const dry = yield* fetchDataset(baseRequest(table.id, { store: false, withLabels: false })).pipe(Effect.provide(context))
      expect(dry).toMatchObject({ recordsFetched: cells, storage: null, manifest: null })
      expect(dry.columns.map((c) => c.name)).not.toContain("area_name")
      const listed = yield* Effect.flatMap(ObjectStore, (store) => store.list("datasets/")).pipe(Effect.provide(context))
      expect(listed.filter((o) => !o.key.includes(capped.runId))).toEqual([])
      const missing = yield* Effect.flip(fetchDataset(baseRequest("0000000001")).pipe(Effect.provide(context)))
      expect(missing.message).toContain("STATUS 300")
    }))

  it.scoped("resume refuses another query's run and an unknown run", () =>
    Effect.gen(function* () {
      const { context } = yield* mockedContext(fakeOptions.tables)
      const run = yield* fetchDataset(baseRequest(table.id)).pipe(Effect.provide(context))
      const other = yield* Effect.flip(fetchDataset(baseRequest(table.id, { resumeRunId: run.runId, pageSize: 50 })).pipe(Effect.provide(context)))
      expect(other.message).toContain(`Run ${run.runId} cannot be resumed: it was made with other settings`)
      const unknown = yield* Effect.flip(fetchDataset(baseRequest(table.id, { resumeRunId: "20260101T000000000Z-abcdef" })).pipe(Effect.provide(context)))
      expect(unknown.message).toContain("no run of dataset 0009000001 has this id")
    }))

  it.scoped("resume refuses a run of the table before an update on e-Stat, though the row count is the same", () =>
    Effect.gen(function* () {
      const { context } = yield* mockedContext(fakeOptions.tables)
      const run = yield* fetchDataset(baseRequest(table.id)).pipe(Effect.provide(context))
      const manifest = run.manifest!
      expect(manifest.estat_updated_date).toBeDefined()
      // The run as a partial one of the table's previous version: same rows, an older update date.
      const older = { ...manifest, status: "partial" as const, pages: manifest.pages.slice(0, 1), estat_updated_date: "2001-01-01" }
      yield* Effect.flatMap(ObjectStore, (store) =>
        store.putBytes(manifestKey(table.id, run.runId), new TextEncoder().encode(JSON.stringify(older)), "application/json")).pipe(Effect.provide(context))
      const refused = yield* Effect.flip(fetchDataset(baseRequest(table.id, { resumeRunId: run.runId })).pipe(Effect.provide(context)))
      expect(refused).toMatchObject({ _tag: "RunNotResumable", runId: run.runId })
      expect(refused.message).toContain(`the table was updated on e-Stat since the run (2001-01-01 → ${manifest.estat_updated_date})`)
    }))
})
