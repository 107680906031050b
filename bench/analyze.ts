/**
 * `analyze_with_athena` basic analysis on the local backend (DuckDB over the local Iceberg
 * table's current snapshot) against bare DuckDB on the same Parquet files: median wall time of
 * each, and the ratio (target ≤ 1.5×).
 *
 *   npm run bench:analyze
 */
import { fileURLToPath } from "node:url"
import { DuckDBInstance } from "@duckdb/node-api"
import { Effect } from "effect"
import { analysesFor } from "../src/domain/analyses.js"
import { fetchDataset } from "../src/pipeline/fetchDataset.js"
import { Lakehouse, runToLoad } from "../src/services/lakehouse/Lakehouse.js"
import { ObjectStore } from "../src/services/storage/ObjectStore.js"
import { benchServices, startFakeProcess } from "./support.js"

const table = { id: "0009100014", categories: 100, areas: 50, months: 280 }
const RUNS = 5

const median = (values: ReadonlyArray<number>) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

const program = Effect.scoped(Effect.gen(function* () {
  const { baseUrl } = yield* startFakeProcess(table, 0, false)
  const { settings, context } = yield* benchServices(baseUrl)
  const run = yield* fetchDataset({
    statsDataId: table.id, narrowing: {}, maxRecords: null, pageSize: 100_000, concurrency: 4,
    withLabels: true, store: true, resumeRunId: null, onProgress: () => Effect.void
  }).pipe(Effect.provide(context))
  const lakehouse = yield* Effect.provide(Lakehouse, context)
  const store = yield* Effect.provide(ObjectStore, context)
  yield* lakehouse.load("bench", runToLoad(run.manifest!), { create: true, mode: "append" })
  const columns = yield* lakehouse.columns("bench")
  const analyses = analysesFor("bench", columns.map((c) => c.name), "basic")

  const timed = <A, E>(effect: Effect.Effect<A, E>) =>
    Effect.gen(function* () {
      const started = performance.now()
      yield* effect
      return performance.now() - started
    })
  const viaTool = Effect.forEach(analyses, (a) => lakehouse.query({ sql: a.sql, maxRows: 1000 }))
  yield* viaTool
  const toolMs = yield* Effect.forEach(Array.from({ length: RUNS }), () => timed(viaTool))

  // Bare DuckDB: the same statements on the run's own Parquet parts, one warm connection.
  const files = run.manifest!.pages.map((p) => `'${fileURLToPath(store.uri(p.key))}'`).join(", ")
  const db = yield* Effect.promise(() => DuckDBInstance.create(":memory:", { threads: String(settings.duckdbThreads), memory_limit: settings.duckdbMemoryLimit }))
  const connection = yield* Effect.promise(() => db.connect())
  const bare = Effect.promise(async () => {
    for (const a of analyses) await connection.runAndReadAll(a.sql.replaceAll(`FROM "bench"`, `FROM read_parquet([${files}])`))
  })
  yield* bare
  const bareMs = yield* Effect.forEach(Array.from({ length: RUNS }), () => timed(bare))
  connection.closeSync()
  db.closeSync()

  const tool = median(toolMs)
  const direct = median(bareMs)
  console.log(`basic analysis of ${run.recordsFetched.toLocaleString("en")} rows (${analyses.length} queries), median of ${RUNS} (node ${process.version}):`)
  console.log(`  analyze_with_athena (local Iceberg + DuckDB)  ${tool.toFixed(0)} ms`)
  console.log(`  bare DuckDB on the same Parquet files         ${direct.toFixed(0)} ms`)
  console.log(`  ratio ${(tool / direct).toFixed(2)}×   (target ≤ 1.5×)`)
}))

Effect.runPromise(program).then(() => process.exit(0), (error) => {
  console.error(error)
  process.exit(1)
})
