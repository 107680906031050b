import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand
} from "@aws-sdk/client-athena"
import { mockClient } from "aws-sdk-client-mock"
import { Duration, Effect, Fiber, Option, Schedule, TestClock } from "effect"
import { describe, expect, it } from "@effect/vitest"
import { defaultSettings } from "../../src/config.js"
import { make } from "../../src/services/query/Athena.js"
import { startFakeAthena } from "../fakes/athena/server.js"

const credentials = { accessKeyId: "test", secretAccessKey: "test" }
const settings = { ...defaultSettings, athenaWorkgroup: "estat-wg", glueDatabase: "estat_db", athenaOutputLocation: Option.some("s3://bucket/athena-results/") }
/** Against the HTTP fake time is real: its queries take milliseconds, so look at them every few. */
const fakeSettings = { ...settings, athenaPollInterval: Duration.millis(10) }

const fakeAthena = (options: { readonly runMillis?: number } = {}) =>
  Effect.acquireRelease(Effect.promise(() => startFakeAthena(options)), (fake) => Effect.promise(() => fake.close()))

const clientFor = (endpoint: string) =>
  Effect.acquireRelease(Effect.sync(() => new AthenaClient({ region: "ap-northeast-1", endpoint, credentials })), (c) => Effect.sync(() => c.destroy()))

describe("Athena query engine against a fake Athena (JSON 1.1, DuckDB behind)", () => {
  it.scopedLive("runs in the workgroup and database, pages through results, types values, caps rows", () =>
    Effect.gen(function* () {
      const fake = yield* fakeAthena()
      yield* Effect.promise(() => fake.setup("CREATE TABLE population AS SELECT i AS id, 'area' || (i % 7) AS area_name, i * 1.5 AS value FROM range(2500) t(i)"))
      const engine = make(fakeSettings, yield* clientFor(fake.endpoint)).engine
      const result = yield* engine.run({ sql: "SELECT id, area_name, value FROM population ORDER BY id;", maxRows: 1200 })
      expect(result.columns).toEqual([{ name: "id", type: "bigint" }, { name: "area_name", type: "varchar" }, { name: "value", type: "decimal" }])
      expect(result.rows.length).toBe(1200)
      expect(result.truncated).toBe(true)
      expect(result.rows[1199]).toEqual({ id: 1199, area_name: "area2", value: 1798.5 })
      expect(result.dataScannedBytes).toBeGreaterThan(0)
      expect(fake.executions[0]).toMatchObject({ sql: "SELECT id, area_name, value FROM population ORDER BY id", workgroup: "estat-wg", database: "estat_db" })
      const all = yield* engine.run({ sql: "SELECT count(*) AS n FROM population", maxRows: 10 })
      expect(all).toMatchObject({ rows: [{ n: 2500 }], truncated: false, engine: "athena" })
    }))

  it.scopedLive("bigint values past 2^53 (Iceberg snapshot ids) come back exact, as decimal strings; smaller ones as numbers", () =>
    Effect.gen(function* () {
      const fake = yield* fakeAthena()
      const engine = make(fakeSettings, yield* clientFor(fake.endpoint)).engine
      const result = yield* engine.run({
        sql: "SELECT 7565767416590411866::BIGINT AS snapshot_id, (-9007199254740993)::BIGINT AS low, 9007199254740991::BIGINT AS safe, 42::INTEGER AS n",
        maxRows: 1
      })
      expect(result.columns.map((c) => c.type)).toEqual(["bigint", "bigint", "bigint", "integer"])
      expect(result.rows).toEqual([{ snapshot_id: "7565767416590411866", low: "-9007199254740993", safe: 9007199254740991, n: 42 }])
    }))

  it.scopedLive("refuses what the guard refuses before anything reaches Athena; FAILED comes back with Athena's reason", () =>
    Effect.gen(function* () {
      const fake = yield* fakeAthena()
      const engine = make(fakeSettings, yield* clientFor(fake.endpoint)).engine
      const rejected = yield* Effect.flip(engine.run({ sql: "DROP TABLE population", maxRows: 10 }))
      expect(rejected._tag).toBe("QueryRejected")
      expect(fake.executions.length).toBe(0)
      const failed = yield* Effect.flip(engine.run({ sql: "SELECT nope FROM missing_table", maxRows: 10 }))
      expect(failed._tag).toBe("QueryFailed")
      expect(failed.message).toMatch(/^The athena query ended FAILED: SYNTAX_ERROR: .*missing_table/)
    }))

  it.scopedLive("a query past ATHENA_QUERY_TIMEOUT is stopped; so is one whose caller is interrupted", () =>
    Effect.gen(function* () {
      const fake = yield* fakeAthena({ runMillis: 3000 })
      const client = yield* clientFor(fake.endpoint)
      const slow = make({ ...fakeSettings, athenaQueryTimeout: Duration.millis(300) }, client).engine
      const timedOut = yield* Effect.flip(slow.run({ sql: "SELECT 1", maxRows: 1 }))
      expect(timedOut.message).toContain("ended TIMEOUT: no result within 0.3 s")
      expect(fake.stopped).toEqual([fake.executions[0]!.id])
      const engine = make(fakeSettings, client).engine
      const fiber = yield* Effect.fork(engine.run({ sql: "SELECT 2", maxRows: 1 }))
      // Interrupted once the fake has the query (an HTTP fake: there is no clock to drive, so poll for it).
      yield* Effect.repeat(Effect.sync(() => fake.executions.length), { until: (started) => started === 2, schedule: Schedule.spaced("10 millis") })
      yield* Fiber.interrupt(fiber)
      expect(fake.stopped).toEqual([fake.executions[0]!.id, fake.executions[1]!.id])
      expect(fake.executions[1]!.state).toBe("CANCELLED")
    }))
})

describe("Athena query engine failure paths (aws-sdk-client-mock)", () => {
  it.effect("throttling is retried and a running query polled, on the TestClock; a FAILED query reports Athena's StateChangeReason", () =>
    Effect.gen(function* () {
      const client = new AthenaClient({ region: "ap-northeast-1", credentials })
      const athena = mockClient(client)
      const throttled = Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException" })
      athena.on(StartQueryExecutionCommand).rejectsOnce(throttled).resolves({ QueryExecutionId: "q-1" })
      athena.on(GetQueryExecutionCommand)
        .resolvesOnce({ QueryExecution: { Status: { State: "RUNNING" } } })
        .resolves({ QueryExecution: { Status: { State: "SUCCEEDED" }, Statistics: { DataScannedInBytes: 1234, EngineExecutionTimeInMillis: 56 } } })
      athena.on(GetQueryResultsCommand).resolves({
        ResultSet: {
          ResultSetMetadata: { ColumnInfo: [{ Name: "n", Type: "bigint" }, { Name: "ok", Type: "boolean" }] },
          Rows: [{ Data: [{ VarCharValue: "n" }, { VarCharValue: "ok" }] }, { Data: [{ VarCharValue: "42" }, { VarCharValue: "true" }] }, { Data: [{}, { VarCharValue: "false" }] }]
        }
      })
      const engine = make(settings, client).engine
      // The retry's and the poll's waits pass on the TestClock (production timings): nothing sleeps for real.
      const running = yield* Effect.fork(engine.run({ sql: "SELECT 1", maxRows: 10 }))
      yield* TestClock.adjust("1 minute")
      const result = yield* Fiber.join(running)
      expect(result).toMatchObject({ rows: [{ n: 42, ok: true }, { n: null, ok: false }], dataScannedBytes: 1234, executionMs: 56, truncated: false })
      expect(athena.commandCalls(StartQueryExecutionCommand).length).toBe(2)

      athena.reset()
      athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: "q-2" })
      athena.on(GetQueryExecutionCommand).resolves({
        QueryExecution: { Status: { State: "FAILED", StateChangeReason: "HIVE_BAD_DATA: Error parsing field value" } }
      })
      const failed = yield* Effect.flip(engine.run({ sql: "SELECT 1", maxRows: 10 }))
      expect(failed.message).toBe("The athena query ended FAILED: HIVE_BAD_DATA: Error parsing field value")
      expect(athena.commandCalls(StopQueryExecutionCommand).length).toBe(0)
    }))
})
