import { Effect } from "effect"
import { describe, expect, it } from "@effect/vitest"
import { manifestKey } from "../../src/domain/runs.js"
import { readManifest } from "../../src/pipeline/runs.js"
import { callTool, type FakeCell, generatedTable, isDataRequest } from "../../src/testing/index.js"
import { mockedContext, queryRun } from "../support/pipeline.js"
import { firstText } from "../support/toolResult.js"

/*
 * The filter logic on the mocked layers: e-Stat in memory (its requests recorded, so the narrowing
 * e-Stat is asked for is checked) and the local store. Stores other than local files are the
 * pipeline's tests' business (test/pipeline/fetchDataset.test.ts runs it on S3 too).
 */

/** 5 items × 4 areas × 12 months (2026): codes 0001 (level 1) + 0002…0005; areas 00000 (level 1) + 01000…03000. */
const table = generatedTable({ id: "0009000003", categories: 5, areas: 4, months: 12 })
const key = (dims: Readonly<Record<string, string>>) => `${dims["cat01"]}|${dims["area"]}|${dims["time"]}`
const expectedKeys = (keep: (cell: FakeCell) => boolean) => [...table.cells()].filter(keep).map((c) => key(c.dims)).sort()

interface FilteredOutput {
  readonly run_id: string
  readonly records_fetched: number
  readonly filtered_records: number
  readonly dataset_total_records: number
  readonly filters_applied: ReadonlyArray<unknown>
}

const cases: ReadonlyArray<{ readonly name: string; readonly filters: Record<string, unknown>; readonly keep: (cell: FakeCell) => boolean; readonly narrowing: string }> = [
  { name: "a code", filters: { cat01: "0002" }, keep: (c) => c.dims["cat01"] === "0002", narrowing: "cdCat01=0002" },
  { name: "a label", filters: { area: "地域2" }, keep: (c) => c.dims["area"] === "02000", narrowing: "cdArea=02000" },
  { name: "a list of a code and a label", filters: { cat01: ["0001", "品目3"] }, keep: (c) => ["0001", "0003"].includes(c.dims["cat01"]!), narrowing: "cdCat01=0001%2C0003" },
  {
    name: "a range given by a label and a code",
    filters: { time: { from: "2026年1月", to: "2026000606" } },
    keep: (c) => c.dims["time"]! >= "2026000101" && c.dims["time"]! <= "2026000606",
    narrowing: "cdTimeFrom=2026000101&cdTimeTo=2026000606"
  },
  { name: "a level", filters: { area: { level: 2 } }, keep: (c) => c.dims["area"] !== "00000", narrowing: "lvArea=2" },
  { name: "a dimension named by its label", filters: { "品目": "総合" }, keep: (c) => c.dims["cat01"] === "0001", narrowing: "cdCat01=0001" }
]

const call = (args: unknown) => callTool("fetch_dataset_filtered", args)

describe("fetch_dataset_filtered", () => {
  it.scoped("each kind of filter fetches exactly the matching rows, all pages of them", () =>
    Effect.gen(function* () {
      const { context, requests } = yield* mockedContext([table], { estatPageSize: 50 })
      for (const c of cases) {
        const before = requests.length
        const result = yield* call({ dataset_id: table.info.id, filters: c.filters }).pipe(Effect.provide(context))
        expect(result.isError, `${c.name}: ${JSON.stringify(result.content)}`).toBe(false)
        const out = result.structuredContent as FilteredOutput
        const expected = expectedKeys(c.keep)
        expect(out, c.name).toMatchObject({ dataset_total_records: 240, filtered_records: expected.length, records_fetched: expected.length })
        const dataCalls = requests.slice(before).filter(isDataRequest)
        expect(dataCalls.length, c.name).toBe(Math.ceil(expected.length / 50))
        for (const [name, value] of new URLSearchParams(c.narrowing)) expect(dataCalls[0]!.params.get(name), c.name).toBe(value)
        const manifest = yield* readManifest(manifestKey(table.info.id, out.run_id)).pipe(Effect.provide(context))
        const rows = yield* queryRun(manifest, "SELECT cat01_code, area_code, time_code FROM run").pipe(Effect.provide(context))
        expect(rows.map((r) => `${r["cat01_code"]}|${r["area_code"]}|${r["time_code"]}`).sort(), c.name).toEqual(expected)
      }
    }))

  it.scoped("unknown values and dimensions are errors with close matches, before any data call", () =>
    Effect.gen(function* () {
      const wide = generatedTable({ id: "0009000004", categories: 120, areas: 1, months: 1 })
      const { context, requests } = yield* mockedContext([table, wide])
      const textOf = (args: unknown) =>
        call(args).pipe(Effect.provide(context), Effect.map((r) => ({ isError: r.isError, text: firstText(r) })))
      expect(yield* textOf({ dataset_id: table.info.id, filters: { area: "地域9" } })).toEqual({
        isError: true,
        text: "Invalid filter area=地域9: no item of area (地域) has this code or label. Close matches: 01000 (地域1), 02000 (地域2), 03000 (地域3)."
      })
      const unknownDimension = yield* textOf({ dataset_id: table.info.id, filters: { areas: "東京都" } })
      expect(unknownDimension.text).toContain('the table has no dimension "areas"; its dimensions are tab (表章項目), cat01 (品目), area (地域), time (時間軸（月次）). Close matches: area')
      expect((yield* textOf({ dataset_id: table.info.id, filters: { cat01: { level: 7 } } })).text).toBe(
        "Invalid filter cat01={level: 7}: no item of cat01 (品目) has that level; its levels are 1, 2."
      )
      const codes = Array.from({ length: 101 }, (_, i) => `品目${i + 2}`)
      expect((yield* textOf({ dataset_id: wide.info.id, filters: { cat01: codes } })).text).toBe(
        "Invalid filter cat01=101 codes: e-Stat accepts at most 100 codes per dimension; use {from, to} or {level}, or split the request."
      )
      const duplicates = yield* textOf({ dataset_id: wide.info.id, filters: { cat01: [...codes.slice(0, 100), "品目2"] } })
      expect(duplicates.isError).toBe(false) // a repeated code counts once
      expect(requests.filter(isDataRequest).length).toBe(1)
      expect((yield* textOf({ dataset_id: table.info.id, filters: {} })).text).toContain("`filters` must be at least one dimension id → value")
      expect((yield* textOf({ dataset_id: table.info.id, filters: { area: "00000", "地域": "01000" } })).text).toBe(
        "Invalid filter 地域=01000: area (地域) is already filtered; give each dimension once (a list takes several values)."
      )
    }))
})
