import { Effect } from "effect"
import { describe, expect, it } from "@effect/vitest"
import { fetchDatasetAuto } from "../../src/tools/fetchDatasetAuto.js"
import { searchEstatData } from "../../src/tools/searchEstatData.js"
import { type FakeTable, generatedTable } from "../fakes/estatServer.js"
import { pipelineContext } from "../support/pipeline.js"
import { sequentialRoundTrips } from "../support/roundTrips.js"
import { callTool } from "../support/toolResult.js"

/** Search knows what is stored, and asks e-Stat as little as it can (issue 16). */

interface Hit {
  readonly dataset_id: string
  readonly dimensions?: ReadonlyArray<unknown>
  readonly stored?: { readonly run_id: string; readonly fetched_at: string; readonly rows: number; readonly current: boolean | null }
}
interface SearchOutput {
  readonly total_found: number
  readonly results: ReadonlyArray<Hit>
}

describe("search_estat_data", () => {
  it.scopedLive("round trips: basic 1; enhanced 2 cold (its metadata requests at once), 1 when the metadata is cached", () =>
    Effect.gen(function* () {
      const { context, fake } = yield* pipelineContext("local", { faults: { latencyMs: 150 } })
      const search = (args: Record<string, unknown>) =>
        callTool(searchEstatData, { query: "人口", ...args }).pipe(Effect.provide(context), Effect.map((r) => r.structuredContent as SearchOutput))
      const since = (before: number) => fake.requests.slice(before)

      const basic = yield* search({ scoring_method: "basic" })
      expect(basic.results.length).toBeGreaterThan(0)
      expect(fake.requests.map((r) => r.endpoint)).toEqual(["getStatsList"])
      expect(sequentialRoundTrips(fake.requests)).toBe(1)

      let before = fake.requests.length
      const cold = yield* search({})
      expect(cold.results.every((r) => r.dimensions !== undefined)).toBe(true)
      expect(since(before).filter((r) => r.endpoint === "getMetaInfo").length).toBeGreaterThan(1)
      expect(sequentialRoundTrips(since(before))).toBe(2)

      before = fake.requests.length
      const cached = yield* search({})
      expect(cached.results.map((r) => r.dataset_id)).toEqual(cold.results.map((r) => r.dataset_id))
      expect(since(before).map((r) => r.endpoint)).toEqual(["getStatsList"])
      expect(sequentialRoundTrips(since(before))).toBe(1)
    }))

  it.scopedLive("each hit says whether a complete run is stored and whether it is current; stored_only asks e-Stat nothing", () =>
    Effect.gen(function* () {
      const base = generatedTable({ id: "0009000051", categories: 3, areas: 2, months: 12 })
      const state = { updatedDate: base.info.updatedDate }
      const table: FakeTable = { ...base, get info() { return { ...base.info, updatedDate: state.updatedDate } } }
      const unstored = generatedTable({ id: "0009000052", categories: 2, areas: 2, months: 12 })
      const { context, fake } = yield* pipelineContext("local", { tables: [table, unstored] })
      const search = (args: Record<string, unknown>) =>
        callTool(searchEstatData, { query: "生成", ...args }).pipe(Effect.provide(context), Effect.map((r) => r.structuredContent as SearchOutput))
      const hit = (out: SearchOutput, id: string) => out.results.find((r) => r.dataset_id === id)

      // Searched before the fetch: what the process remembers of the index (RunIndexMemory) is replaced when the run completes.
      expect(hit(yield* search({}), table.info.id)?.stored).toBeUndefined()
      const fetched = (yield* callTool(fetchDatasetAuto, { dataset_id: table.info.id }).pipe(Effect.provide(context))).structuredContent as {
        readonly run_id: string
        readonly fetched_at: string
      }
      const found = yield* search({})
      expect(hit(found, table.info.id)?.stored).toEqual({ run_id: fetched.run_id, fetched_at: fetched.fetched_at, rows: 72, current: true })
      expect(hit(found, unstored.info.id)).toBeDefined()
      expect(hit(found, unstored.info.id)?.stored).toBeUndefined()

      const before = fake.requests.length
      const storedOnly = yield* search({ stored_only: true })
      expect(fake.requests.length).toBe(before)
      expect(storedOnly.total_found).toBe(1)
      expect(storedOnly.results).toMatchObject([{ dataset_id: table.info.id, stored: { run_id: fetched.run_id, rows: 72, current: true } }])
      expect(storedOnly.results[0]!.dimensions).toBeDefined() // ranked with its cached metadata
      expect((yield* search({ stored_only: true, query: "生成 NOT 物価" })).results).toEqual([])
      expect(fake.requests.length).toBe(before)

      // e-Stat updates the table: the listing's update date is newer than the run's.
      state.updatedDate = "2026-12-01"
      const after = yield* search({ scoring_method: "basic" })
      expect(hit(after, table.info.id)?.stored).toMatchObject({ run_id: fetched.run_id, current: false })
    }))
})
