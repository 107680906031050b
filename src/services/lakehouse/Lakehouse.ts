import { Context, type Effect } from "effect"
import type { QueryRejected } from "../../domain/sqlGuard.js"
import type { ColumnSpec } from "../../domain/rows.js"
import type { DataEngineError } from "../DataEngine.js"
import type { AvroError } from "../catalog/avro.js"
import type { CatalogError } from "../catalog/LocalIceberg.js"
import type { QueryFailed, QueryRequest, QueryResult } from "../query/QueryEngine.js"
import type { StorageError } from "../storage/ObjectStore.js"

/**
 * Iceberg tables of runs and read-only SQL over them (ARCHITECTURE §5): Athena + Glue on the aws
 * backend, local Iceberg + DuckDB on the local one. Tables carry a `run_id` column; a run is
 * loaded at most once per table.
 */

export interface RunToLoad {
  readonly statsDataId: string
  readonly runId: string
  readonly columns: ReadonlyArray<ColumnSpec>
  readonly parts: ReadonlyArray<{ readonly key: string; readonly rows: number }>
}

export interface LoadResult {
  readonly recordsLoaded: number
  readonly tableTotalRecords: number
  readonly snapshotId: string
  readonly location: string
  readonly alreadyLoaded: boolean
}

export type LakehouseError = CatalogError | QueryFailed | StorageError | AvroError | DataEngineError

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
  /** The table's columns, or a CatalogError when it does not exist. */
  readonly columns: (table: string) => Effect.Effect<ReadonlyArray<{ readonly name: string; readonly type: string }>, LakehouseError>
  readonly query: (request: QueryRequest) => Effect.Effect<QueryResult, QueryRejected | QueryFailed>
}>() {}
