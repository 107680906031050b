import { fileURLToPath } from "node:url"
import { Effect } from "effect"
import { describe, expect, it } from "@effect/vitest"
import { fetchDataset } from "../../src/pipeline/fetchDataset.js"
import { DataEngine } from "../../src/services/DataEngine.js"
import { make } from "../../src/services/query/DuckDb.js"
import { ObjectStore } from "../../src/services/storage/ObjectStore.js"
import { generatedTable } from "../fakes/estatServer.js"
import { baseRequest, pipelineContext } from "../support/pipeline.js"

const table = generatedTable({ id: "0009000008", categories: 3, areas: 4, months: 12, specialEvery: 9 }) // 144 rows

describe("DuckDB query engine", () => {
  it.scopedLive("queries tables as views over their Parquet files, guarded, capped, typed", () =>
    Effect.gen(function* () {
      const { context } = yield* pipelineContext("local", { tables: [table] })
      const run = yield* fetchDataset(baseRequest(table.info.id, { pageSize: 50 })).pipe(Effect.provide(context))
      const store = yield* Effect.provide(ObjectStore, context)
      const files = run.manifest!.pages.map((p) => fileURLToPath(store.uri(p.key)))
      const asked: Array<ReadonlySet<string>> = []
      const engine = make(yield* Effect.provide(DataEngine, context), (named) =>
        Effect.sync(() => asked.push(named)).pipe(Effect.as([{ name: "prices", files }])))
      const counted = yield* engine.run({ sql: "SELECT count(*) AS n, count(value) AS numeric FROM prices", maxRows: 10 })
      // Only the names the query holds are looked up as tables.
      expect([...asked[0]!].sort()).toEqual(["as", "count", "n", "numeric", "prices", "select", "value", "from"].sort())
      expect(counted).toMatchObject({ engine: "duckdb", rows: [{ n: 144, numeric: 128 }], truncated: false })
      const capped = yield* engine.run({ sql: "SELECT area_name, time_year, value FROM prices ORDER BY area_code, time_code", maxRows: 5 })
      expect(capped.rows.length).toBe(5)
      expect(capped.truncated).toBe(true)
      expect(capped.columns).toEqual([{ name: "area_name", type: "VARCHAR" }, { name: "time_year", type: "INTEGER" }, { name: "value", type: "DOUBLE" }])
      const rejected = yield* Effect.flip(engine.run({ sql: "SELECT * FROM read_parquet('/etc/passwd')", maxRows: 5 }))
      expect(rejected.message).toContain("read_parquet() reads outside the tables")
      const unknown = yield* Effect.flip(engine.run({ sql: "SELECT * FROM households", maxRows: 5 }))
      expect(unknown.message).toMatch(/^The duckdb query ended FAILED: .*households/)
    }))
})
