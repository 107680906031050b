import { Effect, Layer } from "effect"
import { AppConfig } from "../../config.js"
import { make as makeCatalog } from "../catalog/LocalIceberg.js"
import type { DataEngine } from "../DataEngine.js"
import { make as makeDuckDb } from "../query/DuckDb.js"
import { QueryFailed } from "../query/QueryEngine.js"
import { ObjectStore } from "../storage/ObjectStore.js"
import { Lakehouse, tableNotFound } from "./Lakehouse.js"

/** Local Iceberg tables under DATA_DIR/warehouse, queried with DuckDB over their current snapshots. */
export const layer: Layer.Layer<Lakehouse, QueryFailed, AppConfig | ObjectStore | DataEngine> = Layer.scoped(
  Lakehouse,
  Effect.gen(function* () {
    const config = yield* AppConfig
    const catalog = yield* makeCatalog
    const database = config.glueDatabase
    const queryFailed = (e: { readonly message: string }) => new QueryFailed({ engine: "duckdb", state: "FAILED", reason: e.message })
    const engine = yield* makeDuckDb(config, database, {
      names: Effect.mapError(catalog.tables(database), queryFailed),
      files: (table) => Effect.mapBoth(catalog.currentFiles(database, table), { onFailure: queryFailed, onSuccess: ({ files }) => files })
    })
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
