import { Effect, Layer, TestClock } from "effect"
import { describe, expect, it } from "@effect/vitest"
import { configLayer, defaultSettings } from "../../src/config.js"
import type { TableInfo } from "../../src/domain/estat.js"
import { runIndexKey } from "../../src/pipeline/runIndex.js"
import { RUN_INDEX_TTL_MS, RunIndexMemory } from "../../src/pipeline/runIndexMemory.js"
import { metadataKey } from "../../src/services/estat/metadataCache.js"
import { ObjectStore } from "../../src/services/storage/ObjectStore.js"
import * as EStatMemory from "../../src/testing/EStatMemory.js"
import * as ObjectStoreMemory from "../../src/testing/ObjectStoreMemory.js"
import { generatedTable } from "../../src/testing/estat/generated.js"
import { searchEstatData } from "../../src/tools/searchEstatData.js"
import { callTool } from "../support/toolResult.js"

/** What a search reads from storage (issue 16): no folder listing per hit, and metadata only of what it ranks. */

/** The in-memory store, every read and listing recorded (`get <key>`, `list <prefix>`). */
const recordingStore = (calls: Array<string>) =>
  Layer.scoped(ObjectStore, Effect.map(ObjectStoreMemory.make(), (store) => ObjectStore.of({
    ...store,
    getBytes: (key) => Effect.zipRight(Effect.sync(() => void calls.push(`get ${key}`)), store.getBytes(key)),
    list: (prefix) => Effect.zipRight(Effect.sync(() => void calls.push(`list ${prefix}`)), store.list(prefix))
  })))

const servicesWith = (calls: Array<string>, estat: EStatMemory.EStatMemoryOptions) =>
  Layer.mergeAll(recordingStore(calls), EStatMemory.layer(estat), configLayer(defaultSettings))

const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value))

const listing = (statsDataId: string, title: string): TableInfo => ({
  statsDataId, title, statisticsName: "生成統計", statName: "生成統計", statCode: "00000001", govOrg: "総務省", govOrgCode: "00200",
  cycle: "年次", surveyDate: "202001", openDate: "2021-01-01", updatedDate: "2021-01-01", smallArea: false, collectArea: "全国",
  mainCategory: "人口・世帯", mainCategoryCode: "02", subCategory: "人口", subCategoryCode: "01", totalRecords: 10,
  tabulationCategory: "", tableName: title, description: ""
})

const indexOf = (statsDataId: string, title: string) => ({
  stats_data_id: statsDataId,
  runs: [{
    run_id: "20260101T000000Z-aaaaaaaa", title, fetched_at: "2026-01-01T00:00:00.000Z", narrowing: {}, max_records: null,
    with_labels: true, total_records: 10, records_fetched: 10, estat_updated_date: "2021-01-01"
  }]
})

interface SearchOutput {
  readonly total_found: number
  readonly results: ReadonlyArray<{ readonly dataset_id: string; readonly dimensions?: ReadonlyArray<unknown>; readonly stored?: unknown }>
}

const count = (calls: ReadonlyArray<string>, prefix: string) => calls.filter((c) => c.startsWith(prefix)).length

describe("search_estat_data's storage reads", () => {
  it.scoped("hits with no run index cost one read each: no listing of their folder, no manifest read, none rebuilt", () =>
    Effect.gen(function* () {
      const calls: Array<string> = []
      const tables = [1, 2, 3].map((n) => generatedTable({ id: `000900006${n}`, categories: 2, areas: 2, months: 2 }))
      const context = yield* Layer.build(servicesWith(calls, { tables }))
      // A partial run's manifest: a rebuild would list the folder and read it.
      const store = yield* Effect.provide(ObjectStore, context)
      yield* store.putBytes("datasets/0009000061/20260101T000000Z-aaaaaaaa/manifest.json", json({ status: "partial" }), "application/json")
      calls.length = 0

      const out = (yield* callTool(searchEstatData, { query: "生成", scoring_method: "basic" }).pipe(Effect.provide(context))).structuredContent as SearchOutput
      expect(out.results.map((r) => r.dataset_id).sort()).toEqual(tables.map((t) => t.info.id))
      expect(out.results.every((r) => r.stored === undefined)).toBe(true)
      expect(calls.sort()).toEqual(tables.map((t) => `get ${runIndexKey(t.info.id)}`))
    }))

  it.scoped("stored_only matches every stored table but reads the metadata again only of the ranked pool, and a run index only where no metadata is cached", () =>
    Effect.gen(function* () {
      const calls: Array<string> = []
      const requests: Array<unknown> = []
      const context = yield* Layer.build(servicesWith(calls, { tables: [], onRequest: (r) => Effect.sync(() => void requests.push(r)) }))
      const store = yield* Effect.provide(ObjectStore, context)
      const ids = Array.from({ length: 30 }, (_, n) => `00090001${String(n).padStart(2, "0")}`)
      yield* Effect.forEach(ids, (id) =>
        Effect.zipRight(
          store.putBytes(runIndexKey(id), json(indexOf(id, `生成 表 ${id}`)), "application/json"),
          store.putBytes(metadataKey(id), json({
            fetchedAt: 0,
            meta: { table: listing(id, `生成 表 ${id}`), dimensions: [{ id: "area", name: "地域", description: null, items: [{ code: "00000", name: "全国", level: "1", unit: null, parentCode: null }] }] }
          }), "application/json")
        ))
      // Indexed but its metadata never cached: matched on the run's title.
      const bare = "0009000200"
      yield* store.putBytes(runIndexKey(bare), json(indexOf(bare, "生成 表 bare")), "application/json")
      calls.length = 0

      const out = (yield* callTool(searchEstatData, { query: "生成", stored_only: true }).pipe(Effect.provide(context))).structuredContent as SearchOutput
      expect(requests).toEqual([])
      expect(out.total_found).toBe(31)
      expect(out.results).toHaveLength(5)
      expect(out.results.every((r) => r.dimensions !== undefined && r.stored !== undefined)).toBe(true)

      expect(calls.filter((c) => c.startsWith("list "))).toEqual(["list cache/runs/"])
      // Each stored table's metadata is read once to match it; the default 5 results rank a pool of 8, read again.
      const metadataReads = calls.filter((c) => c.startsWith("get cache/metadata/"))
      expect(new Set(metadataReads).size).toBe(31)
      expect(metadataReads.length).toBe(31 + 8)
      // Run indexes: the bare table's (its title), then the 5 results' stored runs.
      expect(count(calls, "get cache/runs/")).toBe(1 + 5)
      expect(calls).toContain(`get ${runIndexKey(bare)}`)
    }))

  it.scoped("with the process's RunIndexMemory a hit's run index is read once in RUN_INDEX_TTL_MS: another task's new run shows once that has passed", () =>
    Effect.gen(function* () {
      const calls: Array<string> = []
      const tables = [1, 2, 3].map((n) => generatedTable({ id: `000900007${n}`, categories: 2, areas: 2, months: 2 }))
      const context = yield* Layer.build(Layer.merge(servicesWith(calls, { tables }), RunIndexMemory.layer))
      const search = callTool(searchEstatData, { query: "生成", scoring_method: "basic" }).pipe(
        Effect.provide(context),
        Effect.map((result) => result.structuredContent as SearchOutput)
      )
      const indexReads = () => calls.filter((c) => c.startsWith("get cache/runs/")).sort()
      const everyIndex = tables.map((t) => `get ${runIndexKey(t.info.id)}`)

      expect((yield* search).results.every((r) => r.stored === undefined)).toBe(true)
      expect(indexReads()).toEqual(everyIndex)
      // Another task stores a run of the first table in the shared storage.
      const store = yield* Effect.provide(ObjectStore, context)
      const first = tables[0]!.info.id
      yield* store.putBytes(runIndexKey(first), json(indexOf(first, "生成 表")), "application/json")
      calls.length = 0

      yield* TestClock.adjust(RUN_INDEX_TTL_MS - 1)
      expect((yield* search).results.every((r) => r.stored === undefined)).toBe(true)
      expect(indexReads()).toEqual([])

      yield* TestClock.adjust(1)
      const later = yield* search
      expect(later.results.find((r) => r.dataset_id === first)?.stored).toMatchObject({ run_id: "20260101T000000Z-aaaaaaaa", rows: 10 })
      expect(indexReads()).toEqual(everyIndex)
    }))
})
