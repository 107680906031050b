import { Context, Effect, Schema } from "effect"
import type { ColumnSpec } from "../../domain/rowBatch.js"
import type { Manifest } from "../../domain/runs.js"
import type { DataEngineError } from "../DataEngine.js"
import type { AvroError } from "../catalog/avro.js"
import type { QueryEngine, QueryFailed } from "../query/QueryEngine.js"
import type { StorageError } from "../storage/ObjectStore.js"

/**
 * Iceberg tables of runs and read-only SQL over them (ARCHITECTURE §5): Athena + Glue on the aws
 * backend, local Iceberg + DuckDB on the local one. Tables carry a `run_id` column; a run is
 * loaded at most once per table.
 */

/** A table's catalog (the local Iceberg metadata, or Glue) failed or refused what was asked of it. */
export class CatalogError extends Schema.TaggedError<CatalogError>()("CatalogError", {
  table: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `Table ${this.table}: ${this.reason}`
  }
}

/** A table the database does not have; `hint` says what to do about it. */
export class TableNotFound extends Schema.TaggedError<TableNotFound>()("TableNotFound", {
  table: Schema.String,
  hint: Schema.optionalWith(Schema.String, { default: () => "" })
}) {
  override get message() {
    return `Table ${this.table}: it does not exist${this.hint === "" ? "" : `; ${this.hint}`}`
  }
}

export const CREATE_HINT = "pass create_if_not_exists: true to create it from the run's columns"

export interface RunToLoad {
  readonly statsDataId: string
  readonly runId: string
  readonly columns: ReadonlyArray<ColumnSpec>
  /** The run's Parquet parts (storage keys) and their row counts. */
  readonly parts: ReadonlyArray<{ readonly key: string; readonly rows: number }>
}

/** Lakehouse tables carry the run each row came from (the same on Athena, where it makes loads idempotent). */
export const withRunId = (columns: ReadonlyArray<ColumnSpec>): ReadonlyArray<ColumnSpec> => [...columns, { name: "run_id", type: "VARCHAR" }]

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
  readonly query: QueryEngine["run"]
}>() {}
