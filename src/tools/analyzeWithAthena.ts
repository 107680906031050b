import { Effect, Schema } from "effect"
import { analysesFor } from "../domain/analyses.js"
import { Identifier } from "../domain/sqlGuard.js"
import * as Tool from "../mcp/tool.js"
import { withDefault } from "../mcp/tool.js"
import { Lakehouse } from "../services/lakehouse/Lakehouse.js"

const Input = Schema.Struct({
  table_name: Identifier.annotations({ description: "A table load_to_iceberg created.", examples: ["population"] }),
  analysis_type: withDefault(
    Schema.Literal("basic", "advanced", "custom"),
    "basic",
    "basic: rows, value statistics, by year. advanced: also by area, by each other dimension's labels, and the trend. custom: your custom_query."
  ),
  custom_query: Schema.optional(Schema.String.pipe(Schema.minLength(1), Schema.maxLength(20_000)).annotations({
    description: "For custom: one read-only SELECT (or WITH … SELECT) over the tables by name.",
    examples: ["SELECT time_year, sum(value) AS total FROM population WHERE area_name = '東京都' GROUP BY 1 ORDER BY 1"]
  })),
  max_rows: withDefault(Schema.Int.pipe(Schema.between(1, 10_000)), 1000, "Rows returned per query at most.")
})

const QueryOutput = Schema.Struct({
  title: Schema.String,
  sql: Schema.String,
  columns: Schema.Array(Schema.Struct({ name: Schema.String, type: Schema.String })),
  rows: Schema.Array(Schema.Record({ key: Schema.String, value: Schema.NullOr(Schema.Union(Schema.String, Schema.Number, Schema.Boolean)) })),
  row_count: Schema.Int,
  truncated: Schema.Boolean
})

const Output = Schema.Struct({
  engine: Schema.String,
  table_name: Schema.String,
  database: Schema.String,
  queries: Schema.Array(QueryOutput),
  data_scanned_bytes: Schema.NullOr(Schema.Number),
  execution_ms: Schema.NullOr(Schema.Number)
})

class MissingQuery extends Schema.TaggedError<MissingQuery>()("MissingQuery", {}) {
  override get message() {
    return "analysis_type custom needs custom_query: one read-only SELECT statement."
  }
}

export const analyzeWithAthena = Tool.make({
  name: "analyze_with_athena",
  title: "Analyse an Iceberg table",
  description:
    "Analyses a table load_to_iceberg made, on Athena (aws) or DuckDB (local): basic, advanced (see analysis_type) " +
    "or custom (one read-only SELECT). Result: each query's SQL, columns with types and rows (at most max_rows, truncated says so).",
  input: Input,
  output: Output,
  task: { runsLong: "on aws" },
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  summarize: (out) =>
    `${out.engine} on ${out.database}.${out.table_name}${out.execution_ms === null ? "" : ` in ${out.execution_ms} ms`}.` +
    (out.queries.some((q) => q.truncated) ? " A truncated query returned max_rows rows: raise max_rows or aggregate in custom_query." : ""),
  summaryStates: ["database", "table_name", "engine", "execution_ms"],
  run: (input) =>
    Effect.gen(function* () {
      const lakehouse = yield* Lakehouse
      const columns = yield* lakehouse.columns(input.table_name)
      const analyses = input.analysis_type === "custom"
        ? input.custom_query === undefined ? yield* new MissingQuery() : [{ title: "custom", sql: input.custom_query }]
        : analysesFor(input.table_name, columns.map((c) => c.name), input.analysis_type)
      const results = yield* Effect.forEach(analyses, (analysis) =>
        Effect.map(lakehouse.query({ sql: analysis.sql, maxRows: input.max_rows }), (result) => ({ analysis, result })))
      const scanned = results.map((r) => r.result.dataScannedBytes).filter((n): n is number => n !== null)
      const elapsed = results.map((r) => r.result.executionMs).filter((n): n is number => n !== null)
      return {
        engine: lakehouse.engine,
        table_name: input.table_name,
        database: lakehouse.database,
        queries: results.map(({ analysis, result }) => ({
          title: analysis.title,
          sql: analysis.sql,
          columns: result.columns,
          rows: result.rows,
          row_count: result.rows.length,
          truncated: result.truncated
        })),
        data_scanned_bytes: scanned.length === 0 ? null : scanned.reduce((a, b) => a + b, 0),
        execution_ms: elapsed.length === 0 ? null : elapsed.reduce((a, b) => a + b, 0)
      }
    })
})
