import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Duration, Effect, Layer, Ref, TestClock } from "effect"
import { describe, expect, it } from "@effect/vitest"
import { configLayer, defaultSettings } from "../../../src/config.js"
import type { TableMeta } from "../../../src/domain/estat.js"
import { EStat } from "../../../src/services/estat/EStat.js"
import { EStatNoData } from "../../../src/services/estat/errors.js"
import { cachedMetadata, metadataKey } from "../../../src/services/estat/metadataCache.js"
import * as LocalFs from "../../../src/services/storage/LocalFs.js"

const metaOf = (statsDataId: string, updatedDate: string): TableMeta => ({
  table: {
    statsDataId, title: `表 ${statsDataId}`, statisticsName: "統計", statName: "統計", statCode: "00200521", govOrg: "総務省", govOrgCode: "00200",
    cycle: "年次", surveyDate: "2020", openDate: "2021-01-01", updatedDate, smallArea: false, collectArea: "全国", mainCategory: "人口",
    mainCategoryCode: "02", subCategory: "人口", subCategoryCode: "01", totalRecords: 12, tabulationCategory: "", tableName: "", description: ""
  },
  dimensions: [{ id: "area", name: "地域", description: null, items: [{ code: "13000", name: "東京都", level: "2", unit: "人", parentCode: "00000" }] }]
})

/**
 * e-Stat as a counter of getMetaInfo requests; `updated` is the update date it reports now.
 * Every other method is unused here.
 */
const countingEStat = (asked: Ref.Ref<ReadonlyArray<string>>, updated: Ref.Ref<string>) =>
  Layer.succeed(EStat, EStat.of({
    getMetaInfo: (statsDataId) =>
      statsDataId === "0000000000"
        ? Effect.fail(new EStatNoData({ endpoint: "getMetaInfo", statsDataId, errorMessage: "該当データはありません" }))
        : Effect.zipRight(Ref.update(asked, (ids) => [...ids, statsDataId]), Effect.map(Ref.get(updated), (date) => metaOf(statsDataId, date))),
    searchTables: () => Effect.dieMessage("unused"),
    countRecords: () => Effect.dieMessage("unused"),
    getDataPage: () => Effect.dieMessage("unused"),
    readDataPage: () => Effect.dieMessage("unused"),
    pages: () => Effect.dieMessage("unused") as never
  }))

/** A cache over `dataDir` — each call builds another one, as another task behind the load balancer would. */
const cacheIn = (dataDir: string, asked: Ref.Ref<ReadonlyArray<string>>, updated: Ref.Ref<string>) => {
  const config = configLayer({ ...defaultSettings, dataDir, estatMetadataTtl: Duration.days(1) })
  return cachedMetadata.pipe(Layer.provide(Layer.mergeAll(countingEStat(asked, updated), LocalFs.layer)), Layer.provide(config))
}

const withDataDir = <A, E, R>(use: (dataDir: string) => Effect.Effect<A, E, R>) =>
  Effect.acquireUseRelease(
    Effect.sync(() => mkdtempSync(join(tmpdir(), "estat-metacache-"))),
    use,
    (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
  )

const metaFrom = <E>(layer: Layer.Layer<EStat, E>, statsDataId: string, listedUpdate?: string) =>
  Effect.flatMap(EStat, (estat) => estat.getMetaInfo(statsDataId, listedUpdate === undefined ? undefined : { listedUpdate })).pipe(Effect.provide(layer))

describe("the metadata cache", () => {
  it.scoped("asks e-Stat once, then answers from memory, and another task from the store", () =>
    withDataDir((dataDir) =>
      Effect.gen(function* () {
        const asked = yield* Ref.make<ReadonlyArray<string>>([])
        const updated = yield* Ref.make("2025-06-01")
        const task1 = yield* Layer.memoize(cacheIn(dataDir, asked, updated))
        const first = yield* metaFrom(task1, "0003445078")
        expect(yield* metaFrom(task1, "0003445078")).toEqual(first)
        expect(yield* Ref.get(asked)).toEqual(["0003445078"])
        // Another task: its memory is empty, the store has the copy.
        expect(yield* metaFrom(cacheIn(dataDir, asked, updated), "0003445078")).toEqual(first)
        expect(yield* Ref.get(asked)).toEqual(["0003445078"])
      })), 30_000)

  it.scoped("asks again after ESTAT_METADATA_TTL, and when the list shows a newer update date", () =>
    withDataDir((dataDir) =>
      Effect.gen(function* () {
        const asked = yield* Ref.make<ReadonlyArray<string>>([])
        const updated = yield* Ref.make("2025-06-01")
        const cache = yield* Layer.memoize(cacheIn(dataDir, asked, updated))
        yield* metaFrom(cache, "0003445078")
        yield* TestClock.adjust(Duration.hours(23))
        yield* metaFrom(cache, "0003445078")
        expect((yield* Ref.get(asked)).length).toBe(1)
        yield* TestClock.adjust(Duration.hours(2))
        yield* metaFrom(cache, "0003445078")
        expect((yield* Ref.get(asked)).length).toBe(2)

        // The same or an older listed date: the copy holds. A newer one: e-Stat is asked, and its answer kept.
        yield* metaFrom(cache, "0003445078", "2025-06-01")
        yield* metaFrom(cache, "0003445078", "2024-01-01")
        expect((yield* Ref.get(asked)).length).toBe(2)
        yield* Ref.set(updated, "2026-02-01")
        const fresh = yield* metaFrom(cache, "0003445078", "2026-02-01")
        expect(fresh.table.updatedDate).toBe("2026-02-01")
        yield* metaFrom(cache, "0003445078", "2026-02-01")
        expect((yield* Ref.get(asked)).length).toBe(3)
      })), 30_000)

  it.effect("asks e-Stat when the stored copy is unreadable, and replaces it; e-Stat's errors are not cached", () =>
    withDataDir((dataDir) =>
      Effect.gen(function* () {
        const asked = yield* Ref.make<ReadonlyArray<string>>([])
        const updated = yield* Ref.make("2025-06-01")
        yield* metaFrom(cacheIn(dataDir, asked, updated), "0003445078")
        writeFileSync(join(dataDir, ...metadataKey("0003445078").split("/")), "{ not json")
        const again = yield* metaFrom(cacheIn(dataDir, asked, updated), "0003445078")
        expect(again.table.statsDataId).toBe("0003445078")
        expect((yield* Ref.get(asked)).length).toBe(2)
        yield* metaFrom(cacheIn(dataDir, asked, updated), "0003445078")
        expect((yield* Ref.get(asked)).length).toBe(2)

        const missing = yield* Effect.flip(metaFrom(cacheIn(dataDir, asked, updated), "0000000000"))
        expect(missing._tag).toBe("EStatNoData")
      })), 30_000)
})
