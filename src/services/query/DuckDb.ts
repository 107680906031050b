import { mkdir, mkdtemp, rm } from "node:fs/promises"
import { join } from "node:path"
import { type DuckDBConnection, DuckDBInstance, StatementType } from "@duckdb/node-api"
import { Cause, Clock, Duration, Effect, RcMap, type Scope } from "effect"
import { type AppSettings, MEMORY_SIZE } from "../../config.js"
import { QueryRejected } from "../../domain/sqlGuard.js"
import { theTables } from "../lakehouse/Lakehouse.js"
import { quoteIdentifier, quoteLiteral, reasonOf, toSqlValue, untilSettled } from "../DataEngine.js"
import { type QueryEngine, QueryFailed, type QueryResult } from "./QueryEngine.js"
import { inspectSelect } from "./selectTree.js"

/**
 * QueryEngine on DuckDB sandboxes (ARCHITECTURE §5). The boundary is the engine: caller SQL runs
 * on a DuckDB instance of its own — never the one that writes Parquet — whose configuration
 * is locked with external access off, extensions neither loaded nor installed, and only the
 * queried tables' current data files allowed; DuckDB's parser decides that the text is one
 * SELECT, and its tree names the tables to expose (as views over those files).
 */

export interface LakeTables {
  readonly names: Effect.Effect<ReadonlyArray<string>, QueryFailed>
  /** Local paths of a table's current data files. */
  readonly files: (table: string) => Effect.Effect<ReadonlyArray<string>, QueryFailed>
}

type Settings = Pick<AppSettings, "duckdbMemoryLimit" | "duckdbTempDir" | "duckdbThreads" | "athenaQueryTimeout">

interface TableFiles {
  readonly name: string
  readonly files: ReadonlyArray<string>
}

/**
 * How long a sandbox outlives its last query: the next query of the same tables' snapshots reuses
 * it (a new snapshot gets a new one); at most SANDBOXES_KEPT are kept (~3 MB each when idle).
 */
const SANDBOX_IDLE = Duration.seconds(30)
const SANDBOXES_KEPT = 8
/** Caller queries running at once, each within DuckDB's memory cap. */
const QUERIES_AT_ONCE = 2

const failed = (reason: string) => new QueryFailed({ engine: "duckdb", state: "FAILED", reason })

/** A spill folder of the instance's own: DuckDB names its spill files alike in every instance. */
const spillFolder = (settings: Settings) =>
  Effect.acquireRelease(
    Effect.tryPromise({
      try: async () => {
        await mkdir(settings.duckdbTempDir, { recursive: true })
        return mkdtemp(join(settings.duckdbTempDir, "sandbox-"))
      },
      catch: (e) => failed(`no spill folder under DUCKDB_TEMP_DIR: ${reasonOf(e)}`)
    }),
    (folder) => Effect.promise(() => rm(folder, { recursive: true, force: true }))
  )

// DuckDB's units: KB…TB are powers of 1000, KiB…TiB of 1024, and K/M/G/T without the B mean the 1000s.
const BYTES: Record<string, number> = {
  B: 1, K: 1e3, KB: 1e3, M: 1e6, MB: 1e6, G: 1e9, GB: 1e9, T: 1e12, TB: 1e12, KIB: 2 ** 10, MIB: 2 ** 20, GIB: 2 ** 30, TIB: 2 ** 40
}

/** Each sandbox's share of DUCKDB_MEMORY_LIMIT ("256MB" → "128MB" for two), so that queries at once stay within it. */
export const shareOf = (limit: string, parts: number) => {
  const match = MEMORY_SIZE.exec(limit)
  const unit = match === null ? undefined : BYTES[match[2]!.toUpperCase()]
  return match === null || unit === undefined ? limit : `${Math.max(1, Math.floor((Number(match[1]) * unit) / parts / 1e6))}MB`
}

const openInstance = (settings: Settings) =>
  Effect.flatMap(spillFolder(settings), (spill) =>
    Effect.acquireRelease(
      Effect.tryPromise({
        try: () =>
          DuckDBInstance.create(":memory:", {
            memory_limit: shareOf(settings.duckdbMemoryLimit, QUERIES_AT_ONCE),
            threads: String(settings.duckdbThreads),
            temp_directory: spill,
            autoload_known_extensions: "false",
            autoinstall_known_extensions: "false",
            allow_community_extensions: "false",
            // As the DataEngine's queries: freed buffers go back to the OS, bulk frees only past 64 MB
            // (flushing those after every statement made analyses ~1.4× slower).
            allocator_flush_threshold: "1MB",
            allocator_bulk_deallocation_flush_threshold: "64MB"
          }),
        catch: (e) => failed(`DuckDB did not start: ${reasonOf(e)}`)
      }),
      (instance) => Effect.sync(() => instance.closeSync())
    ))

const withConnection = <A>(instance: DuckDBInstance, use: (connection: DuckDBConnection) => Promise<A>) =>
  Effect.acquireUseRelease(
    Effect.tryPromise({ try: () => instance.connect(), catch: (e) => failed(reasonOf(e)) }),
    (connection) => Effect.mapError(untilSettled("run a query", connection, () => use(connection)), (e) => failed(e.reason)),
    (connection) => Effect.sync(() => connection.closeSync())
  )

/** Locks an instance: from here on no statement can reach a file outside `allowed` or change a setting. */
const lockDown = (allowed: ReadonlyArray<string>) => [
  `SET allowed_paths = [${allowed.map(quoteLiteral).join(", ")}]`,
  "SET enable_external_access = false"
]
const LOCK = "SET lock_configuration = true"

/** An instance that reads nothing and only parses: the caller's text reaches it as a bound value. */
const openParser = (settings: Settings) =>
  Effect.tap(openInstance(settings), (instance) =>
    withConnection(instance, async (connection) => {
      for (const statement of [...lockDown([]), LOCK]) await connection.run(statement)
    }))

const openSandbox = (settings: Settings, database: string, tables: ReadonlyArray<TableFiles>) =>
  Effect.tap(openInstance(settings), (instance) =>
    withConnection(instance, async (connection) => {
      const schema = quoteIdentifier(database)
      const setup = [
        ...lockDown(tables.flatMap((t) => t.files)),
        `CREATE SCHEMA ${schema}`,
        // `t` and `<database>.t` alike (the search path is a per-connection setting).
        ...tables.flatMap((t) => [
          `CREATE VIEW main.${quoteIdentifier(t.name)} AS SELECT * FROM ${
            t.files.length === 0 ? "(SELECT NULL AS empty WHERE false)" : `read_parquet([${t.files.map(quoteLiteral).join(", ")}])`
          }`,
          `CREATE VIEW ${schema}.${quoteIdentifier(t.name)} AS SELECT * FROM main.${quoteIdentifier(t.name)}`
        ]),
        LOCK
      ]
      for (const statement of setup) await connection.run(statement)
    }))

/** One SELECT on a locked sandbox: DuckDB itself counts the statements and names the statement's type. */
const select = (sandbox: DuckDBInstance, sql: string, rowsWanted: number) =>
  withConnection(sandbox, async (connection) => {
    const extracted = await connection.extractStatements(sql)
    if (extracted.count !== 1) return { rejected: "it contains more than one statement" } as const
    const prepared = await extracted.prepare(0)
    if (prepared.statementType !== StatementType.SELECT) return { rejected: "it is not a SELECT statement" } as const
    const reader = await prepared.streamAndReadUntil(rowsWanted)
    const names = reader.columnNames()
    const types = reader.columnTypes().map((t) => t.toString())
    const rows = reader.getRowObjectsJS().slice(0, rowsWanted).map((row) =>
      Object.fromEntries(names.map((name) => [name, toSqlValue(row[name])]))
    )
    return { columns: names.map((name, i) => ({ name, type: types[i] ?? "" })), rows }
  })

export const make = (settings: Settings, database: string, lake: LakeTables): Effect.Effect<QueryEngine, QueryFailed, Scope.Scope> =>
  Effect.gen(function* () {
    const parser = yield* openParser(settings)
    const sandboxes = yield* RcMap.make({
      lookup: (key: string) => openSandbox(settings, database, JSON.parse(key) as ReadonlyArray<TableFiles>),
      idleTimeToLive: SANDBOX_IDLE,
      capacity: SANDBOXES_KEPT
    })
    const running = yield* Effect.makeSemaphore(QUERIES_AT_ONCE)

    const parse = (sql: string) =>
      withConnection(parser, async (connection) => {
        const prepared = await connection.prepare("SELECT json_serialize_sql($1::VARCHAR) AS tree")
        prepared.bindVarchar(1, sql)
        const reader = await prepared.runAndReadAll()
        return String(reader.getRowsJS()[0]?.[0] ?? "")
      })

    /** The lake's tables a query reads, with their files; a name the lake lacks is refused with the names it has. */
    const tablesRead = (named: ReadonlySet<string>) =>
      Effect.gen(function* () {
        const names = yield* lake.names
        const unknown = [...named].filter((name) => !names.includes(name))
        if (unknown.length > 0) {
          return yield* new QueryRejected({
            reason: `${unknown.join(", ")} ${unknown.length === 1 ? "is not a table" : "are not tables"} of ${database}; ` +
              theTables(names)
          })
        }
        return yield* Effect.forEach([...named].sort(), (name) => Effect.map(lake.files(name), (files) => ({ name, files })))
      })

    return {
      run: (request) =>
        Effect.gen(function* () {
          const tree = yield* Effect.flatMap(parse(request.sql), (serialized) => inspectSelect(request.sql, serialized, database))
          const tables = yield* tablesRead(tree.tables)
          const started = yield* Clock.currentTimeMillis
          // One row more than asked tells whether the result was cut.
          const sandbox = Effect.mapError(RcMap.get(sandboxes, JSON.stringify(tables)), (e) =>
            Cause.isExceededCapacityException(e)
              ? failed(`more than ${SANDBOXES_KEPT} different sets of tables were queried in the last ${Duration.format(SANDBOX_IDLE)}; retry shortly`)
              : e)
          const result = yield* running.withPermits(1)(Effect.scoped(Effect.flatMap(sandbox, (instance) =>
            select(instance, request.sql, request.maxRows + 1)))).pipe(
              Effect.timeoutFail({
                duration: settings.athenaQueryTimeout,
                onTimeout: () => new QueryFailed({
                  engine: "duckdb",
                  state: "TIMEOUT",
                  reason: `no result within ${Duration.format(settings.athenaQueryTimeout)} (ATHENA_QUERY_TIMEOUT); the query was stopped`
                })
              })
            )
          if ("rejected" in result) return yield* new QueryRejected({ reason: result.rejected })
          return {
            engine: "duckdb",
            columns: result.columns,
            rows: result.rows.slice(0, request.maxRows),
            truncated: result.rows.length > request.maxRows,
            dataScannedBytes: null,
            executionMs: (yield* Clock.currentTimeMillis) - started
          } satisfies QueryResult
        }).pipe(Effect.withSpan("QueryEngine.duckdb"))
    } satisfies QueryEngine
  })
