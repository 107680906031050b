import { Context, Effect } from "effect"
import type { QueryRejected } from "../../domain/sqlGuard.js"
import type { Manifest } from "../../domain/runs.js"
import type { DataEngineError } from "../DataEngine.js"
import type { AvroError } from "../catalog/avro.js"
import { type CatalogError, type RunToLoad as CatalogRun, TableNotFound } from "../catalog/LocalIceberg.js"
import type { QueryFailed, QueryRequest, QueryResult } from "../query/QueryEngine.js"
import type { StorageError } from "../storage/ObjectStore.js"

/**
 * Iceberg tables of runs and read-only SQL over them (ARCHITECTURE §5): Athena + Glue on the aws
 * backend, local Iceberg + DuckDB on the local one. Tables carry a `run_id` column; a run is
 * loaded at most once per table.
 */

export interface RunToLoad extends CatalogRun {
  readonly statsDataId: string
}

/** A complete run, as its manifest describes it, to load. */
export const runToLoad = (manifest: Manifest): RunToLoad => ({
  statsDataId: manifest.stats_data_id,
  runId: manifest.run_id,
  columns: manifest.columns,
  parts: manifest.pages.map((p) => ({ key: p.key, rows: p.rows }))
})

export interface LoadResult {
  readonly recordsLoaded: number
  readonly tableTotalRecords: number
  readonly snapshotId: string
  readonly location: string
  readonly alreadyLoaded: boolean
}

export type LakehouseError = CatalogError | TableNotFound | QueryFailed | StorageError | AvroError | DataEngineError

/** What a caller who named a missing table is told. */
export const theTables = (names: ReadonlyArray<string>) =>
  `the tables are ${names.length === 0 ? "none yet (load_to_iceberg makes them)" : names.join(", ")}`

/** A table the database lacks, named with the tables it has. */
export const tableNotFound = <E>(table: string, tables: Effect.Effect<ReadonlyArray<string>, E>) =>
  Effect.flatMap(tables, (names) => Effect.fail(new TableNotFound({ table, hint: theTables(names) })))

export class Lakehouse extends Context.Tag("estat-mcp/Lakehouse")<Lakehouse, {
  readonly engine: "athena" | "duckdb"
  readonly database: string
  readonly load: (
    table: string,
    run: RunToLoad,
    options: { readonly create: boolean; readonly mode: "append" | "replace" }
  ) => Effect.Effect<LoadResult, LakehouseError>
  /** The tables of the database. */
  readonly tables: Effect.Effect<ReadonlyArray<string>, LakehouseError>
  /** The table's columns, or TableNotFound naming the tables there are. */
  readonly columns: (table: string) => Effect.Effect<ReadonlyArray<{ readonly name: string; readonly type: string }>, LakehouseError>
  readonly query: (request: QueryRequest) => Effect.Effect<QueryResult, QueryRejected | QueryFailed>
}>() {}
