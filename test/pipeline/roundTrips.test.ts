import { Effect } from "effect"
import { describe, expect, it } from "@effect/vitest"
import { fetchDataset } from "../../src/pipeline/fetchDataset.js"
import { fetchDatasetFiltered } from "../../src/tools/fetchDatasetFiltered.js"
import { generatedTable } from "../fakes/estatServer.js"
import { baseRequest, pipelineContext } from "../support/pipeline.js"
import { sequentialRoundTrips } from "../support/roundTrips.js"
import { callTool } from "../support/toolResult.js"

/**
 * Sequential e-Stat round trips (issue 16), on a fake that waits 150 ms before each answer: requests
 * in flight together overlap, requests that wait for another do not.
 */
const LATENCY = { latencyMs: 150 }
/** 3 items × 2 areas × 12 months = 72 cells: one page. */
const table = generatedTable({ id: "0009000031", categories: 3, areas: 2, months: 12 })

describe("sequential e-Stat round trips", () => {
  it.scopedLive("a fetch that fits one page: 1 cold (metadata and first page at once, no count), 1 with cached metadata", () =>
    Effect.gen(function* () {
      const { context, fake } = yield* pipelineContext("local", { tables: [table], faults: LATENCY })
      const cold = yield* fetchDataset(baseRequest(table.info.id)).pipe(Effect.provide(context))
      expect(cold.recordsFetched).toBe(72)
      expect(fake.requests.map((r) => r.endpoint).sort()).toEqual(["getMetaInfo", "getStatsData"])
      expect(sequentialRoundTrips(fake.requests)).toBe(1)

      const before = fake.requests.length
      const cached = yield* fetchDataset(baseRequest(table.info.id)).pipe(Effect.provide(context))
      expect(cached.recordsFetched).toBe(72)
      const again = fake.requests.slice(before)
      expect(again.map((r) => r.endpoint)).toEqual(["getStatsData"])
      expect(sequentialRoundTrips(again)).toBe(1)
    }))

  it.scopedLive("a fetch of several pages: the first page's TOTAL_NUMBER plans the rest, which come in parallel (2 round trips)", () =>
    Effect.gen(function* () {
      const { context, fake } = yield* pipelineContext("local", { tables: [table], faults: LATENCY })
      const outcome = yield* fetchDataset(baseRequest(table.info.id, { pageSize: 20, concurrency: 4 })).pipe(Effect.provide(context))
      expect(outcome).toMatchObject({ recordsFetched: 72, pagesTotal: 4 })
      expect(fake.requests.filter((r) => r.params.get("cntGetFlg") === "Y")).toEqual([])
      expect(sequentialRoundTrips(fake.requests)).toBe(2)
    }))

  it.scopedLive("a filtered fetch of one page: 2 cold (metadata, then the page: no counts), 1 with cached metadata", () =>
    Effect.gen(function* () {
      const { context, fake } = yield* pipelineContext("local", { tables: [table], faults: LATENCY })
      const fetch = (filters: Record<string, unknown>) =>
        callTool(fetchDatasetFiltered, { dataset_id: table.info.id, filters }).pipe(
          Effect.provide(context),
          Effect.map((result) => result.structuredContent as { readonly filtered_records: number; readonly dataset_total_records: number })
        )
      expect(yield* fetch({ area: "地域1" })).toMatchObject({ filtered_records: 36, dataset_total_records: 72 })
      expect(fake.requests.map((r) => r.endpoint)).toEqual(["getMetaInfo", "getStatsData"])
      expect(sequentialRoundTrips(fake.requests)).toBe(2)

      const before = fake.requests.length
      expect(yield* fetch({ cat01: "0002" })).toMatchObject({ filtered_records: 24, dataset_total_records: 72 })
      expect(sequentialRoundTrips(fake.requests.slice(before))).toBe(1)
    }))
})
