import { Effect, Layer } from "effect"
import { AppConfig } from "../../config.js"
import { make as makeCatalog } from "../catalog/LocalIceberg.js"
import { DataEngine } from "../DataEngine.js"
import { make as makeDuckDb } from "../query/DuckDb.js"
import { QueryFailed } from "../query/QueryEngine.js"
import { ObjectStore } from "../storage/ObjectStore.js"
import { Lakehouse, tableNotFound } from "./Lakehouse.js"

/** Local Iceberg tables under DATA_DIR/warehouse, queried with DuckDB over their current snapshots. */
export const layer: Layer.Layer<Lakehouse, never, AppConfig | ObjectStore | DataEngine> = Layer.effect(
  Lakehouse,
  Effect.gen(function* () {
    const config = yield* AppConfig
    const catalog = yield* makeCatalog
    const database = config.glueDatabase
    const tablesNamed = (named: ReadonlySet<string>) =>
      Effect.gen(function* () {
        const names = (yield* catalog.tables(database)).filter((name) => named.has(name))
        return yield* Effect.forEach(names, (name) => Effect.map(catalog.currentFiles(database, name), ({ files }) => ({ name, files })))
      }).pipe(Effect.mapError((e) => new QueryFailed({ engine: "duckdb", state: "FAILED", reason: e.message })))
    const engine = makeDuckDb(yield* DataEngine, tablesNamed)
    return Lakehouse.of({
      engine: "duckdb",
      database,
      tables: catalog.tables(database),
      load: (table, run, options) =>
        Effect.map(catalog.append(database, table, run, options), (outcome) => ({ ...outcome, snapshotId: String(outcome.snapshotId) })),
      columns: (table) =>
        Effect.map(catalog.currentFiles(database, table), ({ metadata }) => {
          const schema = metadata.schemas.find((s) => s["schema-id"] === metadata["current-schema-id"])
          return (schema?.fields ?? []).map((f) => ({ name: f.name, type: f.type }))
        }).pipe(Effect.catchTag("TableNotFound", (missing) => tableNotFound(missing.table, catalog.tables(database)))),
      query: engine.run
    })
  })
)
