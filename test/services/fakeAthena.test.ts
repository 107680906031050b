import { AthenaClient, GetQueryExecutionCommand, GetQueryResultsCommand, type QueryExecution, StartQueryExecutionCommand } from "@aws-sdk/client-athena"
import { CreateDatabaseCommand, GlueClient } from "@aws-sdk/client-glue"
import { Effect } from "effect"
import { describe, expect, it } from "@effect/vitest"
import { type FakeAthenaOptions, startFakeAthena } from "../fakes/athena/server.js"

/**
 * The fake Athena holds the code to Athena's behaviour, so these check the fake against what
 * Athena documents: workgroup result settings, QUEUED before RUNNING, the error shape, bigint as
 * text, and the two dialects' quoting.
 */

const credentials = { accessKeyId: "test", secretAccessKey: "test" }

const athenaWith = (options: FakeAthenaOptions) =>
  Effect.gen(function* () {
    const fake = yield* Effect.acquireRelease(Effect.promise(() => startFakeAthena(options)), (f) => Effect.promise(() => f.close()))
    const client = yield* Effect.acquireRelease(
      Effect.sync(() => new AthenaClient({ region: "ap-northeast-1", endpoint: fake.endpoint, credentials })),
      (c) => Effect.sync(() => c.destroy())
    )
    const glue = yield* Effect.acquireRelease(
      Effect.sync(() => new GlueClient({ region: "ap-northeast-1", endpoint: fake.endpoint, credentials })),
      (c) => Effect.sync(() => c.destroy())
    )
    const start = (sql: string, workgroup = "wg", outputLocation?: string) =>
      Effect.promise(() =>
        client.send(new StartQueryExecutionCommand({
          QueryString: sql, WorkGroup: workgroup, ...(outputLocation === undefined ? {} : { ResultConfiguration: { OutputLocation: outputLocation } })
        })).then((out) => ({ ok: true as const, id: out.QueryExecutionId! }), (error: Error) => ({ ok: false as const, error: `${error.name}: ${error.message}` }))
      )
    const status = (id: string) => Effect.promise(() => client.send(new GetQueryExecutionCommand({ QueryExecutionId: id }))).pipe(Effect.map((o) => o.QueryExecution!))
    const settled = (id: string) =>
      status(id).pipe(Effect.repeat({ until: (e: QueryExecution) => !["QUEUED", "RUNNING"].includes(e.Status!.State!) }))
    const run = (sql: string, workgroup = "wg") =>
      Effect.flatMap(start(sql, workgroup, "s3://given/"), (started) => (started.ok ? settled(started.id) : Effect.die(started.error)))
    return { fake, client, glue, start, status, settled, run }
  })

describe("the fake Athena, checked against Athena's documented behaviour", () => {
  it.scopedLive("workgroups: no result location anywhere is refused; an enforced one wins over the request's; otherwise the request's", () =>
    Effect.gen(function* () {
      const { start, settled } = yield* athenaWith({
        workgroups: { bare: {}, enforced: { outputLocation: "s3://wg-results/", enforce: true }, open: { outputLocation: "s3://wg-default/" } }
      })
      expect(yield* start("SELECT 1", "bare")).toEqual({
        ok: false,
        error: "InvalidRequestException: No output location provided. An output location is required either through the Workgroup result configuration setting or as an API input."
      })
      expect(yield* start("SELECT 1", "missing", "s3://x/")).toEqual({ ok: false, error: "InvalidRequestException: WorkGroup missing is not found." })
      const locationOf = (workgroup: string, given?: string) =>
        Effect.flatMap(start("SELECT 1", workgroup, given), (s) => (s.ok ? settled(s.id) : Effect.die(s.error))).pipe(
          Effect.map((e) => e.ResultConfiguration!.OutputLocation!.replace(/[0-9a-f-]{36}\.csv$/, "<id>.csv"))
        )
      expect(yield* locationOf("bare", "s3://given/")).toBe("s3://given/<id>.csv")
      expect(yield* locationOf("enforced", "s3://given/")).toBe("s3://wg-results/<id>.csv")
      expect(yield* locationOf("open")).toBe("s3://wg-default/<id>.csv")
      expect(yield* locationOf("open", "s3://given/")).toBe("s3://given/<id>.csv")
    }))

  it.scopedLive("a query is QUEUED before it is RUNNING; a bytes-scanned cutoff cancels it with Athena's reason", () =>
    Effect.gen(function* () {
      const { start, status, settled, run } = yield* athenaWith({ workgroups: { wg: { outputLocation: "s3://r/", bytesScannedCutoff: 640 } } })
      const started = yield* start("SELECT 1")
      if (!started.ok) return expect.unreachable(started.error)
      expect((yield* status(started.id)).Status!.State).toBe("QUEUED")
      expect((yield* settled(started.id)).Status!.State).toBe("SUCCEEDED")
      const big = yield* run("SELECT * FROM range(11)")
      expect(big.Status).toMatchObject({ State: "CANCELLED", StateChangeReason: "Query cancelled! : Bytes scanned limit was exceeded" })
    }))

  it.scopedLive("a failure carries StateChangeReason and AthenaError (category, type, retryable); bigint values come back as text", () =>
    Effect.gen(function* () {
      const { run, client } = yield* athenaWith({ workgroups: { wg: {} } })
      const failed = yield* run("SELECT nope FROM missing_table")
      expect(failed.Status).toMatchObject({
        State: "FAILED",
        StateChangeReason: expect.stringMatching(/^SYNTAX_ERROR: .*missing_table/),
        AthenaError: { ErrorCategory: 2, Retryable: false, ErrorMessage: failed.Status!.StateChangeReason }
      })
      expect(failed.Status!.AthenaError!.ErrorType).toEqual(expect.any(Number))
      const done = yield* run("SELECT 7565767416590411866::BIGINT AS snapshot_id")
      const page = yield* Effect.promise(() => client.send(new GetQueryResultsCommand({ QueryExecutionId: done.QueryExecutionId! })))
      expect(page.ResultSet!.ResultSetMetadata!.ColumnInfo!.map((c) => c.Type)).toEqual(["bigint"])
      expect(page.ResultSet!.Rows).toEqual([{ Data: [{ VarCharValue: "snapshot_id" }] }, { Data: [{ VarCharValue: "7565767416590411866" }] }])
    }))

  it.scopedLive("refuses what Athena refuses: backticks in DML, double quotes in DDL, unknown Iceberg table properties", () =>
    Effect.gen(function* () {
      const { run, glue } = yield* athenaWith({ workgroups: { wg: {} } })
      yield* Effect.promise(() => glue.send(new CreateDatabaseCommand({ DatabaseInput: { Name: "db" } })))
      const reasonOf = (sql: string) => Effect.map(run(sql), (e) => [e.Status!.State, e.Status!.StateChangeReason])
      expect(yield* reasonOf("SELECT `x` FROM (SELECT 1 AS x)")).toEqual([
        "FAILED", "SYNTAX_ERROR: line 1:1: backquoted identifiers are not supported; use double quotes to quote identifiers"
      ])
      expect(yield* reasonOf(`CREATE TABLE "db"."t" (\`a\` string) LOCATION 's3://b/t/' TBLPROPERTIES ('table_type'='ICEBERG')`)).toEqual([
        "FAILED", `FAILED: ParseException line 1:0 cannot recognize input near '"': Hive DDL quotes names with backticks`
      ])
      expect(yield* reasonOf("CREATE TABLE `db`.`t` (`a` string) LOCATION 's3://b/t/' TBLPROPERTIES ('table_type'='ICEBERG', 'compression'='zstd')")).toEqual([
        "FAILED", "Unsupported table property key: compression"
      ])
      // What Athena accepts: backticks in DDL, double quotes in DML, quotes inside strings either way.
      expect(yield* reasonOf("CREATE TABLE `db`.`t` (`a` string) LOCATION 's3://b/\"t\"/' TBLPROPERTIES ('table_type'='ICEBERG', 'format'='parquet')"))
        .toEqual(["SUCCEEDED", undefined])
      expect(yield* reasonOf(`INSERT INTO "db"."t" ("a") VALUES ('it''s \`quoted\`')`)).toEqual(["SUCCEEDED", undefined])
      expect(yield* reasonOf(`SELECT "a" FROM "db"."t"`)).toEqual(["SUCCEEDED", undefined])
    }))
})
