import { FetchHttpClient } from "@effect/platform"
import { Effect, Layer, Option, Redacted } from "effect"
import { describe, expect, layer } from "@effect/vitest"
import { defaultSettings } from "../../src/config.js"
import { cellAt, type DataPage, type DataQuery, planPages } from "../../src/domain/estat.js"
import { timeParts } from "../../src/domain/timeCode.js"
import { EStat, make } from "../../src/services/estat/EStat.js"
import { EStatMemory, sampleTableIds, sampleTables } from "../../src/testing/index.js"
import { FAKE_APP_ID, fakeEStat } from "../fakes/estatServer.js"

/**
 * One contract, two implementations: the in-memory EStat and the live layer over the fake e-Stat
 * HTTP server, on the same tables. A mock that drifts from the live behaviour fails here.
 */

const cells = (page: DataPage) => Array.from({ length: page.cells.count }, (_, i) => cellAt(page.cells, i))

/** The live client against the fake e-Stat on 127.0.0.1 (catalogue: fixtures, then the samples, as in memory). */
const liveOverFakeHttp = Layer.scoped(EStat, Effect.gen(function* () {
  const fake = yield* fakeEStat({ tables: sampleTables() })
  return yield* make({
    ...defaultSettings,
    estatBaseUrl: fake.baseUrl,
    estatAppId: Option.some(Redacted.make(FAKE_APP_ID)),
    // TestClock runs these tests: a request must never wait on the rate limiter's clock.
    estatRequestsPerSecond: 1_000_000
  })
})).pipe(Layer.provide(FetchHttpClient.layer))

const implementations: ReadonlyArray<readonly [string, Layer.Layer<EStat>]> = [
  ["in memory", EStatMemory.layer()],
  ["live over the fake e-Stat HTTP server", liveOverFakeHttp]
]

const population: DataQuery = { statsDataId: sampleTableIds.populationByPrefectureAndYear }
const page = (query: DataQuery, startPosition: number, limit: number) => Effect.flatMap(EStat, (estat) => estat.getDataPage(query, { startPosition, limit }))
const count = (query: DataQuery) => Effect.flatMap(EStat, (estat) => estat.countRecords(query))
const failureOf = <A, E>(effect: Effect.Effect<A, E, EStat>) => Effect.flip(effect)

for (const [name, implementation] of implementations) {
  describe(`EStat contract: ${name}`, () => {
    layer(implementation)((it) => {
      it.effect("getStatsList pages by startPosition/limit with NUMBER and NEXT_KEY; no hit is an empty page", () =>
        Effect.gen(function* () {
          const estat = yield* EStat
          const first = yield* estat.searchTables({ searchWord: "サンプル", limit: 2 })
          expect(first).toMatchObject({ total: 5, nextKey: 3 })
          expect(first.tables.map((t) => t.statsDataId)).toEqual([sampleTableIds.populationByPrefectureAndYear, sampleTableIds.consumerPricesMonthly])
          const last = yield* estat.searchTables({ searchWord: "サンプル", startPosition: 5, limit: 2 })
          expect(last).toMatchObject({ total: 5, nextKey: null })
          expect(last.tables.map((t) => t.statsDataId)).toEqual([sampleTableIds.largePrices])
          expect(last.tables[0]!.totalRecords).toBe(312_000)
          const fields = yield* estat.searchTables({ searchWord: "サンプル OR 人口", statsField: "0201" })
          expect(fields.tables.every((t) => t.mainCategoryCode === "02" && t.subCategoryCode === "01")).toBe(true)
          expect(yield* estat.searchTables({ searchWord: "存在しない統計" })).toEqual({ total: 0, tables: [], nextKey: null })
        }))

      it.effect("getMetaInfo: units per item, area hierarchy, and year, fiscal-year, quarter and month time codes", () =>
        Effect.gen(function* () {
          const estat = yield* EStat
          const meta = yield* estat.getMetaInfo(sampleTableIds.populationByPrefectureAndYear)
          expect(meta.table).toMatchObject({ statsDataId: "0009990001", statCode: "00200524", cycle: "年次", totalRecords: 3 * 48 * 25 })
          expect(meta.dimensions.map((d) => d.id)).toEqual(["tab", "cat01", "area", "time"])
          expect(meta.dimensions[0]!.items[0]).toMatchObject({ code: "001", unit: "千人" })
          const areas = meta.dimensions[2]!.items
          expect(areas).toHaveLength(48)
          expect(areas[13]).toEqual({ code: "13000", name: "東京都", level: "2", unit: null, parentCode: "00000" })
          const timeCodes = (id: string) => Effect.map(estat.getMetaInfo(id), (m) => m.dimensions.at(-1)!.items)
          const codes = {
            years: meta.dimensions[3]!.items,
            months: yield* timeCodes(sampleTableIds.consumerPricesMonthly),
            quarters: yield* timeCodes(sampleTableIds.labourForceBySexAndAge),
            fiscalYears: yield* timeCodes(sampleTableIds.householdIncome)
          }
          expect(codes.years[0]).toMatchObject({ code: "2024000000", name: "2024年" })
          expect(codes.months[0]).toMatchObject({ code: "2026000909", name: "2026年9月" })
          expect(codes.months).toHaveLength(81)
          expect(codes.quarters[0]).toMatchObject({ code: "2026000406", parentCode: "2026010000" })
          expect(codes.fiscalYears[0]).toMatchObject({ code: "2024100000", name: "2024年度" })
          expect(timeParts(codes.quarters[0]!.code, null)).toEqual({ year: 2026, month: null, quarter: 2 })
          expect(timeParts(codes.months[0]!.code, null)).toEqual({ year: 2026, month: 9, quarter: 3 })
          expect(timeParts(codes.fiscalYears[0]!.code, codes.fiscalYears[0]!.name)).toMatchObject({ year: 2024 })
          const labour = yield* estat.getMetaInfo(sampleTableIds.labourForceBySexAndAge)
          expect(labour.dimensions[0]!.items.map((i) => [i.name, i.unit])).toEqual([["労働力人口", "万人"], ["完全失業率", "%"]])
        }))

      it.effect("counts follow cd*, cd*From/cd*To and lv* narrowing, ANDed", () =>
        Effect.gen(function* () {
          const narrowed = (narrowing: Record<string, string>) => count({ ...population, narrowing })
          expect(yield* count(population)).toBe(3600)
          expect(yield* narrowed({ cdArea: "13000,27000" })).toBe(3 * 2 * 25)
          expect(yield* narrowed({ cdTimeFrom: "2020000000", cdTimeTo: "2024000000" })).toBe(3 * 48 * 5)
          expect(yield* narrowed({ lvArea: "1" })).toBe(3 * 25)
          expect(yield* narrowed({ lvArea: "2-" })).toBe(3 * 47 * 25)
          expect(yield* narrowed({ cdCat01: "000", lvArea: "2", cdTimeFrom: "2024000000" })).toBe(47)
        }))

      it.effect("data pages: FROM/TO/NEXT_KEY, suppressed cells with their NOTE, annotations, units per cell", () =>
        Effect.gen(function* () {
          const first = yield* page(population, 1, 100)
          expect(first).toMatchObject({ totalNumber: 3600, fromNumber: 1, toNumber: 100, nextKey: 101 })
          const last = yield* page(population, 3591, 100)
          expect(last).toMatchObject({ fromNumber: 3591, toNumber: 3600, nextKey: null })
          expect(last.cells.count).toBe(10)

          const okinawa = cells(yield* page({ ...population, narrowing: { cdArea: "47000", cdCat01: "001", cdTimeFrom: "2000000000", cdTimeTo: "2001000000" } }, 1, 10))
          expect(okinawa.map((c) => c.raw)).toEqual(["-", "-"])
          const census = cells(yield* page({ ...population, narrowing: { cdArea: "00000", cdCat01: "000", cdTime: "2020000000,2021000000" } }, 1, 10))
          expect(census.map((c) => [c.dims["time"], c.annotation, c.unit])).toEqual([["2021000000", null, "千人"], ["2020000000", "C1", "千人"]])
          const withNotes = yield* page({ ...population, narrowing: { cdTime: "2020000000" } }, 1, 1)
          expect(withNotes.notes).toEqual([{ char: "-", text: "数値が得られないもの" }])
          expect(withNotes.annotations).toEqual([{ code: "C1", text: "国勢調査による人口" }])

          const prices = yield* page({ statsDataId: sampleTableIds.consumerPricesMonthly, narrowing: { cdCat01: "0001", cdArea: "00000", cdTime: "2020000101,2021000101" } }, 1, 10)
          expect(cells(prices).map((c) => [c.dims["tab"], c.dims["time"], c.unit, c.raw === "…"])).toEqual([
            ["1", "2021000101", null, false], ["1", "2020000101", null, false], ["3", "2021000101", "%", false], ["3", "2020000101", "%", true]
          ])
          const labour = cells(yield* page({ statsDataId: sampleTableIds.labourForceBySexAndAge, narrowing: { cdTab: "02", cdCat01: "2", cdCat02: "06" } }, 1, 100))
          expect(labour).toHaveLength(34)
          expect(new Set(labour.map((c) => c.raw))).toEqual(new Set(["X"]))
          const income = cells(yield* page({ statsDataId: sampleTableIds.householdIncome, narrowing: { cdCat01: "130", cdArea: "01000", cdTime: "2024100000" } }, 1, 10))
          expect(income.map((c) => [c.dims["tab"], c.unit, c.annotation, c.raw])).toEqual([["10", "万円", "P", "***"], ["20", "千世帯", "P", "***"]])
        }))

      it.effect("STATUS errors: unknown table 300, bad level 102, over 100 codes 105, bad window 102; STATUS 1 is no data", () =>
        Effect.gen(function* () {
          const estat = yield* EStat
          expect(yield* failureOf(estat.getMetaInfo("0000000000"))).toMatchObject({ _tag: "EStatApiError", status: 300 })
          expect(yield* failureOf(count({ ...population, narrowing: { lvArea: "x" } }))).toMatchObject({ _tag: "EStatApiError", status: 102 })
          const codes = Array.from({ length: 101 }, (_, i) => String(i).padStart(5, "0")).join(",")
          expect(yield* failureOf(count({ ...population, narrowing: { cdArea: codes } }))).toMatchObject({ _tag: "EStatApiError", status: 105 })
          expect(yield* failureOf(page(population, 1, 100_001))).toMatchObject({ _tag: "EStatApiError", status: 102 })
          // A 7-digit time code (a common client bug) matches nothing.
          expect(yield* count({ ...population, narrowing: { cdTime: "2020000" } })).toBe(0)
        }))

      it.effect("the 312,000-row table comes in pages of 100,000, the last one short", () =>
        Effect.gen(function* () {
          const large: DataQuery = { statsDataId: sampleTableIds.largePrices }
          const total = yield* count(large)
          expect(total).toBe(312_000)
          const plan = planPages(total, 100_000)
          expect(plan).toHaveLength(4)
          const tail = yield* page(large, plan[3]!.startPosition, plan[3]!.limit)
          expect(tail).toMatchObject({ totalNumber: 312_000, fromNumber: 300_001, toNumber: 312_000, nextKey: null })
          expect(tail.cells.count).toBe(12_000)
          expect(tail.cells.raw.filter((raw) => ["-", "***", "…", "X", "χ"].includes(raw)).length).toBeGreaterThan(0)
          expect(tail.annotations).toEqual([{ code: "A1", text: "速報値" }])
        }))
    })
  })
}
