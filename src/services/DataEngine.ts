import { rm } from "node:fs/promises"
import { type DuckDBConnection, DuckDBInstance } from "@duckdb/node-api"
import { Context, Effect, Layer, Option, Schema, Stream } from "effect"
import { AppConfig, type AppSettings } from "../config.js"
import { type CsvRows, duckDbDialect } from "../domain/csv.js"
import type { CellValue, ColumnSpec, ColumnType, RowBatch } from "../domain/rowBatch.js"
import { writeCsvFile } from "./csvFile.js"
import { CpuPacer, unpaced } from "./CpuPacer.js"

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
  /** Writes the rows as one zstd Parquet file at a local `path` (the caller moves it into storage). */
  readonly writeParquet: (rows: CsvRows, path: string) => Effect.Effect<void, DataEngineError>
  /**
   * `writeParquet` in two steps, so that the rows can be let go while the part waits for DuckDB:
   * the rows as a CSV file at a local `csv` path, then that file (its `columns`) as Parquet at `path`.
   */
  readonly writeCsv: (rows: CsvRows, csv: string) => Effect.Effect<void, DataEngineError>
  readonly csvToParquet: (csv: string, columns: ReadonlyArray<ColumnSpec>, path: string) => Effect.Effect<void, DataEngineError>
  /** A query's rows as they are produced, one DuckDB chunk (≤ 2,048 rows) at a time. */
  readonly scan: (sql: string) => Stream.Stream<RowBatch, DataEngineError>
  /** Runs one statement with `?` parameters; interrupting the fiber interrupts the query. */
  readonly query: (sql: string, params?: ReadonlyArray<SqlValue>) => Effect.Effect<QueryResult, DataEngineError>
}>() {
  static readonly layer: Layer.Layer<DataEngine, DataEngineError, AppConfig> = Layer.scoped(
    DataEngine,
    Effect.flatMap(AppConfig, (settings) => make(settings))
  )
}

/** Smaller row groups than DuckDB's default (122,880) keep the Parquet writer's buffers small. */
const ROW_GROUP_ROWS = 20_000
/**
 * read_csv's buffers: by default 16 × a 2 MB longest line, ~58 MB of native memory for a page's CSV
 * on two threads; 1 MB lines (a row of e-Stat codes, labels and a note is a few hundred bytes) and
 * 2 MB buffers take ~34 MB at the same speed.
 */
const CSV_MAX_LINE_BYTES = 1 << 20
const CSV_BUFFER_BYTES = 2 << 20
/**
 * A global setting, switched around each part: while DuckDB writes one, its freed buffers (the
 * 2 MB CSV ones) go back to the OS at once, or a run's conversions leave ~55 MB behind; queries
 * keep theirs between statements instead of faulting them in again (analysis 1.4× → ~1.1× bare).
 */
const CONVERSION_BULK_FLUSH = "1MB"
const QUERY_BULK_FLUSH = "64MB"

export const quoteLiteral = (text: string) => `'${text.replaceAll("'", "''")}'`
export const quoteIdentifier = (name: string) => `"${name.replaceAll('"', '""')}"`

export const make = (settings: Pick<AppSettings, "duckdbMemoryLimit" | "duckdbTempDir" | "duckdbThreads">) =>
  Effect.gen(function* () {
    const instance = yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: () => DuckDBInstance.create(":memory:", {
          memory_limit: settings.duckdbMemoryLimit,
          temp_directory: settings.duckdbTempDir,
          threads: String(settings.duckdbThreads),
          // Give freed buffers back to the OS after a task instead of caching them: the container
          // has 0.5 GB. (Bulk frees: see CONVERSION_BULK_FLUSH.)
          allocator_flush_threshold: "1MB",
          allocator_bulk_deallocation_flush_threshold: QUERY_BULK_FLUSH
        }),
        catch: (e) => new DataEngineError({ operation: "start", reason: reasonOf(e) })
      }),
      (db) => Effect.sync(() => db.closeSync())
    )

    // DuckDB converts one part at a time; the next one's CSV is written meanwhile.
    const converting = yield* Effect.makeSemaphore(1)
    // A part is a burst of DuckDB's CPU: it waits for the process to be within its budget, and the
    // burst is paid back before the next background step (CpuPacer). None in context: unpaced.
    const pacer = Option.getOrElse(yield* Effect.serviceOption(CpuPacer), () => unpaced)

    /** A connection of its own per operation: temp tables stay private, and interruption reaches the query. */
    const withConnection = <A>(operation: string, use: (connection: DuckDBConnection) => Promise<A>) =>
      Effect.acquireUseRelease(
        Effect.tryPromise({ try: () => instance.connect(), catch: (e) => new DataEngineError({ operation, reason: reasonOf(e) }) }),
        (connection) => untilSettled(operation, connection, () => use(connection)),
        (connection) => Effect.sync(() => connection.closeSync())
      )

    /**
     * The rows go to DuckDB as a CSV file, written a chunk at a time, and DuckDB streams it into
     * Parquet: faster than appending value by value from JS, and DuckDB never holds the whole page.
     */
    const writeCsv = (rows: CsvRows, csv: string) =>
      writeCsvFile(rows, csv, (reason) => new DataEngineError({ operation: "write a Parquet part", reason }))

    const csvToParquet = (csv: string, columns: ReadonlyArray<ColumnSpec>, path: string) =>
      converting.withPermits(1)(Effect.zipRight(pacer.turn, withConnection("write a Parquet part", async (connection) => {
        await connection.run(`SET allocator_bulk_deallocation_flush_threshold = ${quoteLiteral(CONVERSION_BULK_FLUSH)}`)
        try {
          await connection.run(
            `COPY (SELECT * FROM read_csv(${quoteLiteral(csv)}, header = false, delim = ',', quote = '"', escape = '"', ` +
              `nullstr = ${quoteLiteral(duckDbDialect.nullText)}, allow_quoted_nulls = false, auto_detect = false, ` +
              `max_line_size = ${CSV_MAX_LINE_BYTES}, buffer_size = ${CSV_BUFFER_BYTES}, columns = {${
                columns.map((c) => `${quoteLiteral(c.name)}: ${quoteLiteral(c.type)}`).join(", ")
              }})) TO ${quoteLiteral(path)} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE ${ROW_GROUP_ROWS})`
          )
        } finally {
          await connection.run(`SET allocator_bulk_deallocation_flush_threshold = ${quoteLiteral(QUERY_BULK_FLUSH)}`)
        }
      })))

    const writeParquet = (rows: CsvRows, path: string) =>
      Effect.acquireUseRelease(
        Effect.sync(() => `${path}.csv`),
        (csv) => Effect.zipRight(writeCsv(rows, csv), csvToParquet(csv, rows.columns, path)),
        (csv) => Effect.promise(() => rm(csv, { force: true }))
      ).pipe(Effect.withSpan("DataEngine.writeParquet", { attributes: { rows: rows.count } }))

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

    const scan = (sql: string): Stream.Stream<RowBatch, DataEngineError> =>
      Stream.unwrapScoped(Effect.gen(function* () {
        const operation = "read query results"
        const connection = yield* Effect.acquireRelease(
          Effect.tryPromise({ try: () => instance.connect(), catch: (e) => new DataEngineError({ operation, reason: reasonOf(e) }) }),
          (c) => Effect.sync(() => c.closeSync())
        )
        const result = yield* untilSettled(operation, connection, () => connection.stream(sql))
        const names = result.columnNames()
        const columns = result.columnTypes().map((type, i) => ({ name: names[i] ?? "", type: columnTypeOf(type.toString()) }))
        const nextChunk = untilSettled(operation, connection, () => result.fetchChunk())
        return Stream.repeatEffectOption(nextChunk.pipe(
          Effect.mapError(Option.some),
          Effect.flatMap((chunk) =>
            chunk === null || chunk.rowCount === 0
              ? Effect.fail(Option.none())
              : Effect.succeed<RowBatch>({
                columns,
                values: chunk.getColumns().map((values) => values.map(toCellValue)),
                count: chunk.rowCount
              }))
        ))
      }))

    return DataEngine.of({ writeParquet, writeCsv, csvToParquet, query, scan })
  })

/** JS values of DuckDB's result types as JSON-safe values (BIGINT within 2^53 → number). */
export const toSqlValue = (value: unknown): SqlValue => {
  if (value === null || value === undefined) return null
  if (typeof value === "bigint") return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString()
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") return value
  if (value instanceof Date) return value.toISOString()
  return String(value)
}

/**
 * DuckDB's promise as an Effect whose interruption interrupts the query and then waits for DuckDB
 * to let go: the connection is closed (and a permit released) only once nothing runs on it.
 */
export const untilSettled = <A>(operation: string, connection: DuckDBConnection, run: () => Promise<A>) =>
  Effect.async<A, DataEngineError>((resume) => {
    const running = run()
    running.then(
      (value) => resume(Effect.succeed(value)),
      (error) => resume(Effect.fail(new DataEngineError({ operation, reason: reasonOf(error) })))
    )
    return Effect.sync(() => connection.interrupt()).pipe(
      Effect.zipRight(Effect.promise(() => running.then(() => undefined, () => undefined)))
    )
  })

const columnTypeOf = (duckType: string): ColumnType =>
  duckType === "DOUBLE" || duckType === "FLOAT" || duckType.startsWith("DECIMAL")
    ? "DOUBLE"
    : ["INTEGER", "BIGINT", "SMALLINT", "TINYINT", "HUGEINT", "UINTEGER", "UBIGINT"].includes(duckType)
    ? "INTEGER"
    : "VARCHAR"

const toCellValue = (value: unknown): CellValue => {
  const sql = toSqlValue(value)
  return typeof sql === "boolean" ? String(sql) : sql
}

export const reasonOf = (error: unknown) => (error instanceof Error ? error.message : String(error))
