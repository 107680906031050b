import {
  AthenaClient,
  type AthenaClientConfig,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  type GetQueryResultsCommandOutput,
  type QueryExecution,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand
} from "@aws-sdk/client-athena"
import { Context, Duration, Effect, Option, Schedule } from "effect"
import type { AppSettings } from "../../config.js"
import { guardQuery } from "../../domain/sqlGuard.js"
import type { SqlValue } from "../DataEngine.js"
import { type QueryEngine, QueryFailed, type QueryResult } from "./QueryEngine.js"

/**
 * QueryEngine on Amazon Athena: StartQueryExecution in the configured workgroup and database,
 * GetQueryExecution polled with backoff, GetQueryResults page by page until `maxRows`; a timeout
 * or an interrupted fiber stops the query (StopQueryExecution). `AWS_ENDPOINT_URL_ATHENA` points
 * the client elsewhere (tests: a fake Athena backed by DuckDB).
 */

/** Extra Athena client settings (tests: static credentials for the local fake). */
export class AthenaClientOverrides extends Context.Reference<AthenaClientOverrides>()("estat-mcp/AthenaClientOverrides", {
  defaultValue: (): Partial<AthenaClientConfig> => ({})
}) {}

const ENGINE = "athena"
const PAGE_ROWS = 1000

type Settings = Pick<AppSettings, "athenaWorkgroup" | "athenaOutputLocation" | "glueDatabase" | "athenaQueryTimeout" | "athenaPollInterval">

export const make = (settings: Settings, client: AthenaClient) => {
  const failed = (state: string) => (error: unknown) =>
    new QueryFailed({ engine: ENGINE, state, reason: error instanceof Error ? `${error.name}: ${error.message}` : String(error) })
  const throttled = (error: QueryFailed) => /Throttling|TooManyRequests|Rate exceeded/i.test(error.reason)
  const send = <A>(state: string, call: (signal: AbortSignal) => Promise<A>) =>
    Effect.tryPromise({ try: call, catch: failed(state) }).pipe(
      Effect.retry({ schedule: Schedule.exponential("200 millis").pipe(Schedule.jittered, Schedule.intersect(Schedule.recurs(5))), while: throttled })
    )

  const stop = (queryExecutionId: string) =>
    send("STOPPING", (abortSignal) => client.send(new StopQueryExecutionCommand({ QueryExecutionId: queryExecutionId }), { abortSignal })).pipe(
      Effect.ignore
    )

  /** Polls until the query leaves QUEUED/RUNNING: its final state, reason and statistics. */
  const awaitDone = (queryExecutionId: string) =>
    send("RUNNING", (abortSignal) => client.send(new GetQueryExecutionCommand({ QueryExecutionId: queryExecutionId }), { abortSignal })).pipe(
      Effect.map((out) => out.QueryExecution),
      Effect.repeat(
        // Growing waits (at most 2 s) while the query is queued or running; the last answer comes out.
        Schedule.exponential(settings.athenaPollInterval, 1.5).pipe(
          Schedule.union(Schedule.spaced("2 seconds")),
          Schedule.whileInput((execution: QueryExecution | undefined) => ["QUEUED", "RUNNING"].includes(execution?.Status?.State ?? "RUNNING")),
          Schedule.passthrough
        )
      )
    )

  const readRows = (queryExecutionId: string, maxRows: number) =>
    Effect.gen(function* () {
      const rows: Array<Record<string, SqlValue>> = []
      let columns: QueryResult["columns"] = []
      let token: string | undefined = undefined
      let first = true
      let truncated = false
      do {
        const page: GetQueryResultsCommandOutput = yield* send("READING", (abortSignal) =>
          client.send(new GetQueryResultsCommand({ QueryExecutionId: queryExecutionId, MaxResults: PAGE_ROWS, NextToken: token }), { abortSignal }))
        if (first) {
          columns = (page.ResultSet?.ResultSetMetadata?.ColumnInfo ?? []).map((c) => ({ name: c.Name ?? "", type: c.Type ?? "varchar" }))
        }
        // The first row of the first page repeats the column names.
        const data = (page.ResultSet?.Rows ?? []).slice(first ? 1 : 0)
        first = false
        for (const row of data) {
          if (rows.length === maxRows) {
            truncated = true
            break
          }
          rows.push(Object.fromEntries(columns.map((c, i) => [c.name, typed(row.Data?.[i]?.VarCharValue, c.type)])))
        }
        token = page.NextToken
      } while (token !== undefined && !truncated)
      return { rows, columns, truncated }
    })

  /**
   * Any statement, unguarded: for the server's own DDL and loads, never for caller SQL. The start
   * is not interrupted (once Athena may have the query, its id is needed to stop it); waiting for
   * and reading the result are, and stop the query.
   */
  const execute = (sql: string, maxRows: number) =>
    Effect.uninterruptibleMask((restore) => Effect.gen(function* () {
      const started = yield* send("FAILED", (abortSignal) =>
        client.send(new StartQueryExecutionCommand({
          QueryString: sql,
          WorkGroup: settings.athenaWorkgroup,
          QueryExecutionContext: { Database: settings.glueDatabase },
          ...Option.match(settings.athenaOutputLocation, { onNone: () => ({}), onSome: (OutputLocation) => ({ ResultConfiguration: { OutputLocation } }) })
        }), { abortSignal }))
      const id = started.QueryExecutionId
      if (id === undefined) return yield* new QueryFailed({ engine: ENGINE, state: "FAILED", reason: "Athena returned no query execution id" })
      const timeoutMs = Duration.toMillis(settings.athenaQueryTimeout)
      const execution = yield* restore(awaitDone(id).pipe(
        Effect.timeoutFail({
          duration: settings.athenaQueryTimeout,
          onTimeout: () => new QueryFailed({ engine: ENGINE, state: "TIMEOUT", reason: `no result within ${timeoutMs / 1000} s (ATHENA_QUERY_TIMEOUT); the query was stopped` })
        })
      )).pipe(
        Effect.tapError(() => stop(id)),
        Effect.onInterrupt(() => stop(id))
      )
      const state = execution?.Status?.State ?? "UNKNOWN"
      if (state !== "SUCCEEDED") {
        return yield* new QueryFailed({ engine: ENGINE, state, reason: execution?.Status?.StateChangeReason ?? "Athena gave no reason" })
      }
      const result = yield* restore(readRows(id, maxRows)).pipe(Effect.onInterrupt(() => stop(id)))
      return {
        engine: ENGINE,
        ...result,
        dataScannedBytes: execution?.Statistics?.DataScannedInBytes ?? null,
        executionMs: execution?.Statistics?.EngineExecutionTimeInMillis ?? null
      } satisfies QueryResult
    })).pipe(Effect.withSpan("Athena.execute"))

  return {
    execute,
    engine: {
      run: (request) => Effect.flatMap(guardQuery(request.sql), (sql) => execute(sql, request.maxRows))
    } satisfies QueryEngine
  }
}

/**
 * Athena answers every value as text; numbers and booleans are given back their type. Integers
 * beyond 2^53 (Iceberg snapshot ids, large counts) stay exact decimal strings, as the local engine
 * gives them (DataEngine.toSqlValue): a JS number would round them.
 */
export const typed = (value: string | undefined, type: string): SqlValue => {
  if (value === undefined) return null
  const kind = type.toLowerCase()
  if (["integer", "bigint", "smallint", "tinyint"].includes(kind)) {
    const n = Number(value)
    return /^-?\d+$/.test(value) && Number.isSafeInteger(n) ? n : value
  }
  if (["double", "float", "real", "decimal"].includes(kind)) {
    const n = Number(value)
    return Number.isFinite(n) ? n : value
  }
  if (kind === "boolean") return value === "true"
  return value
}
