import { type Effect, Schema } from "effect"
import type { QueryRejected } from "../../domain/sqlGuard.js"
import type { SqlValue } from "../DataEngine.js"

/**
 * Read-only SQL over the lakehouse: Athena on the aws backend, DuckDB on the local one. Every
 * statement passes the SQL guard first; results are capped at `maxRows` (with `truncated`).
 * Not a service of its own: each Lakehouse backend makes its engine and answers `query` with it.
 */

export class QueryFailed extends Schema.TaggedError<QueryFailed>()("QueryFailed", {
  engine: Schema.String,
  state: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `The ${this.engine} query ended ${this.state}: ${this.reason}`
  }
}

export interface QueryRequest {
  readonly sql: string
  readonly maxRows: number
}

export interface QueryResult {
  readonly engine: "athena" | "duckdb"
  readonly columns: ReadonlyArray<{ readonly name: string; readonly type: string }>
  readonly rows: ReadonlyArray<Readonly<Record<string, SqlValue>>>
  /** More rows existed than `maxRows`. */
  readonly truncated: boolean
  readonly dataScannedBytes: number | null
  readonly executionMs: number | null
}

export interface QueryEngine {
  readonly run: (request: QueryRequest) => Effect.Effect<QueryResult, QueryRejected | QueryFailed>
}
