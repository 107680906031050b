import { Effect } from "effect"
import { describe, expect, it } from "@effect/vitest"
import { EStat } from "../../src/services/estat/EStat.js"
import { EStatMemory, generatedTable, largeSampleShape, sampleTables } from "../../src/testing/index.js"

describe("EStat in memory", () => {
  const large = sampleTables().find((t) => t.info.id === largeSampleShape.id)!

  /** The large table, failing loudly if anything walks all its rows. */
  const unwalkable = { ...large, cells: () => { throw new Error("the whole table was walked") } }

  it.effect("the large table's pages are made from their own rows: its cells are never all walked", () =>
    Effect.gen(function* () {
      const estat = yield* EStat
      expect(yield* estat.countRecords({ statsDataId: large.info.id })).toBe(312_000)
      const tail = yield* estat.getDataPage({ statsDataId: large.info.id }, { startPosition: 311_001, limit: 1000 })
      expect(tail).toMatchObject({ fromNumber: 311_001, toNumber: 312_000, nextKey: null })
      expect(tail.cells.raw[999]).toBe(large.cellAt!(311_999).value)
    }).pipe(Effect.provide(EStatMemory.layer({ tables: [unwalkable] }))))

  it.effect("a narrowed query on the large table goes through its rows one at a time", () =>
    Effect.gen(function* () {
      const estat = yield* EStat
      expect(yield* estat.countRecords({ statsDataId: large.info.id, narrowing: { cdArea: "13000" } })).toBe(50 * 130)
    }).pipe(Effect.provide(EStatMemory.layer({ tables: [large] }))))

  const mine = generatedTable({ id: "0001234567", categories: 2, areas: 2, months: 3 })

  it.effect("embedders bring tables of their own", () =>
    Effect.gen(function* () {
      const estat = yield* EStat
      const meta = yield* estat.getMetaInfo(mine.info.id)
      expect(meta.dimensions.map((d) => d.items.length)).toEqual([1, 2, 2, 3])
      const unknown = yield* Effect.flip(estat.getMetaInfo(largeSampleShape.id))
      expect(unknown).toMatchObject({ _tag: "EStatApiError", status: 300 })
    }).pipe(Effect.provide(EStatMemory.layer({ tables: [mine] }))))
})
