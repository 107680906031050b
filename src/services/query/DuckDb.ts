import { Effect } from "effect"
import { guardQuery, isIdentifier, namesIn, quoteName } from "../../domain/sqlGuard.js"
import { DataEngine, quoteLiteral } from "../DataEngine.js"
import { QueryEngine, QueryFailed, type QueryResult } from "./QueryEngine.js"

/**
 * QueryEngine on the embedded DuckDB: each query runs on a connection of its own where every
 * table it names is a temporary view over its current Parquet files (named like the table), so
 * guarded caller SQL reads those tables and nothing else.
 */

export interface TableFiles {
  /** A validated identifier (lower case, digits, `_`). */
  readonly name: string
  /** Local paths of the table's current data files. */
  readonly files: ReadonlyArray<string>
}

/** `tablesNamed`: the tables among these names (only the tables a query names are read and viewed). */
export const make = (engine: Engine, tablesNamed: (names: ReadonlySet<string>) => Effect.Effect<ReadonlyArray<TableFiles>, QueryFailed>) =>
  QueryEngine.of({
    run: (request) =>
      Effect.gen(function* () {
        const sql = yield* guardQuery(request.sql)
        const views = (yield* tablesNamed(namesIn(sql))).filter((t) => isIdentifier(t.name)).map((t) =>
          `CREATE TEMP VIEW ${quoteName(t.name)} AS SELECT * FROM ${
            t.files.length === 0 ? "(SELECT NULL AS empty WHERE false)" : `read_parquet([${t.files.map(quoteLiteral).join(", ")}])`
          }`
        )
        const started = Date.now()
        // One row more than asked tells whether the result was cut.
        const result = yield* engine.queryAfter(views, `SELECT * FROM (${sql}) AS q LIMIT ${request.maxRows + 1}`).pipe(
          Effect.mapError((e) => new QueryFailed({ engine: "duckdb", state: "FAILED", reason: e.reason }))
        )
        return {
          engine: "duckdb",
          columns: result.columns,
          rows: result.rows.slice(0, request.maxRows),
          truncated: result.rows.length > request.maxRows,
          dataScannedBytes: null,
          executionMs: Date.now() - started
        } satisfies QueryResult
      }).pipe(Effect.withSpan("QueryEngine.duckdb"))
  })

type Engine = Pick<DataEngine["Type"], "queryAfter">
