import { DOUBLE, DuckDBDataChunk, type DuckDBConnection, DuckDBInstance, type DuckDBType, INTEGER, VARCHAR } from "@duckdb/node-api"
import { Context, Effect, Layer, Schema } from "effect"
import { AppConfig, type AppSettings } from "../config.js"
import type { CellValue, ColumnType, RowBatch } from "../domain/rows.js"

export class DataEngineError extends Schema.TaggedError<DataEngineError>()("DataEngineError", {
  operation: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `The embedded DuckDB engine failed to ${this.operation}: ${this.reason}`
  }
}

export type SqlValue = string | number | boolean | null

export interface QueryResult {
  readonly columns: ReadonlyArray<{ readonly name: string; readonly type: string }>
  readonly rows: ReadonlyArray<Readonly<Record<string, SqlValue>>>
}

/** DuckDB inside the process: Parquet parts from row batches, and SQL over Parquet files. */
export class DataEngine extends Context.Tag("estat-mcp/DataEngine")<DataEngine, {
  /** Writes the batch as one zstd Parquet file at a local `path` (the caller moves it into storage). */
  readonly writeParquet: (batch: RowBatch, path: string) => Effect.Effect<void, DataEngineError>
  /** Runs one statement with `?` parameters; interrupting the fiber interrupts the query. */
  readonly query: (sql: string, params?: ReadonlyArray<SqlValue>) => Effect.Effect<QueryResult, DataEngineError>
}>() {
  static readonly layer: Layer.Layer<DataEngine, DataEngineError, AppConfig> = Layer.scoped(
    DataEngine,
    Effect.flatMap(AppConfig, (settings) => make(settings))
  )
}

const duckTypes: Readonly<Record<ColumnType, DuckDBType>> = { VARCHAR, INTEGER, DOUBLE }
/** DuckDB's vector size: an appended chunk holds at most this many rows. */
const CHUNK_ROWS = 2048

export const quoteLiteral = (text: string) => `'${text.replaceAll("'", "''")}'`
export const quoteIdentifier = (name: string) => `"${name.replaceAll('"', '""')}"`

export const make = (settings: Pick<AppSettings, "duckdbMemoryLimit" | "duckdbTempDir" | "duckdbThreads">) =>
  Effect.gen(function* () {
    const instance = yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: () => DuckDBInstance.create(":memory:", {
          memory_limit: settings.duckdbMemoryLimit,
          temp_directory: settings.duckdbTempDir,
          threads: String(settings.duckdbThreads)
        }),
        catch: (e) => new DataEngineError({ operation: "start", reason: reasonOf(e) })
      }),
      (db) => Effect.sync(() => db.closeSync())
    )

    /** A connection of its own per operation: temp tables stay private, and interruption reaches the query. */
    const withConnection = <A>(operation: string, use: (connection: DuckDBConnection) => Promise<A>) =>
      Effect.acquireUseRelease(
        Effect.tryPromise({ try: () => instance.connect(), catch: (e) => new DataEngineError({ operation, reason: reasonOf(e) }) }),
        (connection) =>
          Effect.tryPromise({ try: () => use(connection), catch: (e) => new DataEngineError({ operation, reason: reasonOf(e) }) }).pipe(
            Effect.onInterrupt(() => Effect.sync(() => connection.interrupt()))
          ),
        (connection) => Effect.sync(() => connection.closeSync())
      )

    const writeParquet = (batch: RowBatch, path: string) =>
      withConnection("write a Parquet part", async (connection) => {
        const columns = batch.columns.map((c) => `${quoteIdentifier(c.name)} ${c.type}`).join(", ")
        await connection.run(`CREATE TEMP TABLE batch (${columns})`)
        const appender = await connection.createAppender("batch")
        const types = batch.columns.map((c) => duckTypes[c.type])
        for (let offset = 0; offset < batch.count; offset += CHUNK_ROWS) {
          const rows = Math.min(CHUNK_ROWS, batch.count - offset)
          const chunk = DuckDBDataChunk.create(types, rows)
          chunk.setColumns(batch.values.map((column) => column.slice(offset, offset + rows) as ReadonlyArray<CellValue>))
          appender.appendDataChunk(chunk)
        }
        appender.closeSync()
        await connection.run(`COPY batch TO ${quoteLiteral(path)} (FORMAT parquet, COMPRESSION zstd)`)
      }).pipe(Effect.withSpan("DataEngine.writeParquet", { attributes: { rows: batch.count } }))

    const query = (sql: string, params: ReadonlyArray<SqlValue> = []) =>
      withConnection("run a query", async (connection) => {
        const reader = await connection.runAndReadAll(sql, [...params])
        const names = reader.columnNames()
        const types = reader.columnTypes().map((t) => t.toString())
        const rows = reader.getRowObjectsJS().map((row) =>
          Object.fromEntries(names.map((name) => [name, toSqlValue(row[name])]))
        )
        return { columns: names.map((name, i) => ({ name, type: types[i] ?? "" })), rows }
      }).pipe(Effect.withSpan("DataEngine.query"))

    return DataEngine.of({ writeParquet, query })
  })

/** JS values of DuckDB's result types as JSON-safe values (BIGINT within 2^53 → number). */
const toSqlValue = (value: unknown): SqlValue => {
  if (value === null || value === undefined) return null
  if (typeof value === "bigint") return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString()
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") return value
  if (value instanceof Date) return value.toISOString()
  return String(value)
}

const reasonOf = (error: unknown) => (error instanceof Error ? error.message : String(error))
