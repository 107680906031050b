import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand
} from "@aws-sdk/client-athena"
import { CreateDatabaseCommand, GetDatabaseCommand, GetTableCommand, GetTablesCommand, GlueClient } from "@aws-sdk/client-glue"
import { mockClient } from "aws-sdk-client-mock"
import { Duration, Effect, Fiber, Option, TestClock } from "effect"
import { describe, expect, it } from "@effect/vitest"
import { defaultSettings } from "../../src/config.js"
import { make } from "../../src/services/lakehouse/aws.js"
import type { TableLock } from "../../src/services/lakehouse/tableLock.js"
import { ObjectStore } from "../../src/services/storage/ObjectStore.js"
import { ObjectStoreMemory } from "../../src/testing/index.js"
import { pipelineContext } from "../support/pipeline.js"

const credentials = { accessKeyId: "test", secretAccessKey: "test" }
const run = {
  statsDataId: "0003445078",
  runId: "20261126T031500123Z-a1b2c3",
  columns: [{ name: "area_code", type: "VARCHAR" as const }, { name: "value", type: "DOUBLE" as const }],
  parts: [{ key: "datasets/0003445078/20261126T031500123Z-a1b2c3/part-00001.parquet", rows: 10 }, { key: "datasets/0003445078/20261126T031500123Z-a1b2c3/part-00002.parquet", rows: 5 }]
}

/** A lock that records the tables locked (the S3 lock has its own tests, against conditional writes). */
const recordingLock = () => {
  const locked: Array<string> = []
  const lock: TableLock = { withLock: (table, use) => Effect.suspend(() => (locked.push(table), use)) }
  return { lock, locked }
}

/** Athena and Glue mocked: every statement is recorded, counts answered from a script. */
const mocks = (options: {
  readonly tableExists: boolean
  readonly alreadyLoaded?: boolean
  readonly failInsert?: boolean
  /** The first this many inserts lose to a concurrent Iceberg commit. */
  readonly commitConflicts?: number
  /** Called as each statement starts (what the store holds then). */
  readonly onStart?: (sql: string) => Promise<void>
}) => {
  const athena = new AthenaClient({ region: "ap-northeast-1", credentials })
  const glue = new GlueClient({ region: "ap-northeast-1", credentials })
  const athenaMock = mockClient(athena)
  const glueMock = mockClient(glue)
  const statements: Array<string> = []
  athenaMock.on(StartQueryExecutionCommand).callsFake(async (input: { QueryString: string }) => {
    statements.push(input.QueryString)
    await options.onStart?.(input.QueryString)
    return { QueryExecutionId: String(statements.length - 1) }
  })
  athenaMock.on(GetQueryExecutionCommand).callsFake((input: { QueryExecutionId: string }) => {
    const sql = statements[Number(input.QueryExecutionId)]!
    const failed = options.failInsert === true && sql.startsWith("INSERT")
    const insertsSoFar = statements.slice(0, Number(input.QueryExecutionId) + 1).filter((s) => s.startsWith("INSERT")).length
    const conflict = sql.startsWith("INSERT") && insertsSoFar <= (options.commitConflicts ?? 0)
    const status = failed
      ? { State: "FAILED", StateChangeReason: "HIVE_BAD_DATA: bad parquet" }
      : conflict
      ? { State: "FAILED", StateChangeReason: "ICEBERG_COMMIT_ERROR: Failed to commit Iceberg update to table: another commit changed the table" }
      : { State: "SUCCEEDED" }
    return Promise.resolve({ QueryExecution: { Status: status } })
  })
  let loaded = options.alreadyLoaded === true
  athenaMock.on(GetQueryResultsCommand).callsFake((input: { QueryExecutionId: string }) => {
    const sql = statements[Number(input.QueryExecutionId)]!
    const value = sql.startsWith("SELECT snapshot_id") ? "7565767416590411866" : sql.includes("WHERE run_id") ? (loaded ? "14" : "0") : "115"
    if (sql.startsWith("INSERT")) loaded = true
    return Promise.resolve({ ResultSet: { ResultSetMetadata: { ColumnInfo: [{ Name: "c", Type: "bigint" }] }, Rows: [{ Data: [{ VarCharValue: "c" }] }, { Data: [{ VarCharValue: value }] }] } })
  })
  athenaMock.on(StopQueryExecutionCommand).resolves({})
  glueMock.on(GetDatabaseCommand).rejects(Object.assign(new Error("Database estat_db not found"), { name: "EntityNotFoundException" }))
  glueMock.on(CreateDatabaseCommand).resolves({})
  glueMock.on(GetTablesCommand).resolvesOnce({ TableList: [{ Name: "census" }, { Name: "estat_tmp_x" }], NextToken: "2" }).resolves({ TableList: [{ Name: "cpi" }] })
  if (options.tableExists) {
    glueMock.on(GetTableCommand).resolves({
      Table: { Name: "census", StorageDescriptor: { Columns: [{ Name: "area_code", Type: "string" }, { Name: "value", Type: "double" }, { Name: "run_id", Type: "string" }] } }
    })
  } else {
    glueMock.on(GetTableCommand).rejects(Object.assign(new Error("Entity Not Found"), { name: "EntityNotFoundException" }))
  }
  return { athena, glue, statements, glueMock }
}

describe("Athena + Glue lakehouse (mocked AWS)", () => {
  it.scopedLive("a first load: temporary table over this run's symlink manifest → Iceberg table → insert → counts → drop", () =>
    Effect.gen(function* () {
      const { context, settings } = yield* pipelineContext("aws")
      const store = yield* Effect.provide(ObjectStore, context)
      // What the symlink manifest says while Athena reads it (the load removes it afterwards).
      let manifest = ""
      const manifestKey = (sql: string) => `${/LOCATION 's3:\/\/estat-test\/lake\/(.*)'$/.exec(sql)![1]}symlink.txt`
      const { athena, glue, glueMock, statements } = mocks({
        tableExists: false,
        onStart: async (sql) => {
          if (sql.startsWith("CREATE EXTERNAL TABLE")) manifest = new TextDecoder().decode(await Effect.runPromise(store.getBytes(manifestKey(sql))))
        }
      })
      const { lock, locked } = recordingLock()
      const lakehouse = yield* make(settings, athena, glue, lock).pipe(Effect.provide(context))
      const result = yield* lakehouse.load("census", run, { create: true, mode: "append" })
      expect(locked).toEqual(["census"])
      // The temporary table and the symlink folder are this load's own: the run's name and a load id.
      const temporary = /estat_tmp_20261126t031500123z_a1b2c3_([0-9a-f]{8})/.exec(statements[0]!)!
      const loadId = temporary[1]!
      expect(glueMock.commandCalls(CreateDatabaseCommand)[0]!.args[0].input).toMatchObject({ DatabaseInput: { Name: "estat_db" } })
      expect(result).toEqual({ recordsLoaded: 14, tableTotalRecords: 115, snapshotId: "7565767416590411866", location: "s3://estat-test/lake/warehouse/estat_db/census/", alreadyLoaded: false })
      expect(statements).toEqual([
        `CREATE EXTERNAL TABLE \`estat_db\`.\`${temporary[0]}\` (\`area_code\` string, \`value\` double) ` +
          "ROW FORMAT SERDE 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' " +
          "STORED AS INPUTFORMAT 'org.apache.hadoop.hive.ql.io.SymlinkTextInputFormat' " +
          "OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat' " +
          `LOCATION 's3://estat-test/lake/datasets/0003445078/20261126T031500123Z-a1b2c3/_symlink/${loadId}/'`,
        "CREATE TABLE `estat_db`.`census` (`area_code` string, `value` double, `run_id` string) LOCATION 's3://estat-test/lake/warehouse/estat_db/census/' " +
          "TBLPROPERTIES ('table_type'='ICEBERG', 'format'='parquet', 'write_compression'='zstd')",
        `SELECT count(*) FROM "estat_db"."census" WHERE run_id = '${run.runId}'`,
        `INSERT INTO "estat_db"."census" ("area_code", "value", "run_id") SELECT "area_code", "value", '${run.runId}' FROM "estat_db"."${temporary[0]}"`,
        `SELECT count(*) FROM "estat_db"."census" WHERE run_id = '${run.runId}'`,
        `DROP TABLE IF EXISTS \`estat_db\`.\`${temporary[0]}\``,
        `SELECT count(*) FROM "estat_db"."census"`,
        `SELECT snapshot_id FROM "estat_db"."census$snapshots" ORDER BY committed_at DESC LIMIT 1`
      ])
      // The symlink manifest lists exactly this run's parts (the folder also holds manifest.json), and is gone after the load.
      expect(manifest).toBe(run.parts.map((p) => `s3://estat-test/lake/${p.key}`).join("\n") + "\n")
      expect(yield* store.head(`datasets/${run.statsDataId}/${run.runId}/_symlink/${loadId}/symlink.txt`)).toEqual(Option.none())
      expect(yield* store.list(`datasets/${run.statsDataId}/${run.runId}/`)).toEqual([])
    }))

  it.scopedLive("the same run again adds nothing; a failed insert still drops the temporary table; other columns are refused", () =>
    Effect.gen(function* () {
      const { context, settings } = yield* pipelineContext("aws")
      const again = mocks({ tableExists: true, alreadyLoaded: true })
      const lakehouse = yield* make(settings, again.athena, again.glue, recordingLock().lock).pipe(Effect.provide(context))
      const result = yield* lakehouse.load("census", run, { create: true, mode: "append" })
      expect(result).toMatchObject({ recordsLoaded: 0, alreadyLoaded: true })
      expect(again.statements.some((s) => s.startsWith("INSERT") || s.startsWith("CREATE TABLE"))).toBe(false)
      expect(again.statements.filter((s) => s.startsWith("DROP TABLE IF EXISTS"))).toHaveLength(1)

      const failing = mocks({ tableExists: true, failInsert: true })
      const broken = yield* make(settings, failing.athena, failing.glue, recordingLock().lock).pipe(Effect.provide(context))
      const error = yield* Effect.flip(broken.load("census", run, { create: true, mode: "append" }))
      expect(error.message).toBe("The athena query ended FAILED: HIVE_BAD_DATA: bad parquet")
      expect(failing.statements.at(-1)).toMatch(/^DROP TABLE IF EXISTS `estat_db`.`estat_tmp_20261126t031500123z_a1b2c3_[0-9a-f]{8}`$/)

      const mismatch = yield* Effect.flip(lakehouse.load("census", { ...run, columns: [{ name: "area_code", type: "VARCHAR" }] }, { create: true, mode: "append" }))
      expect(mismatch.message).toContain("the run's columns differ from the table's: table (area_code string, value double, run_id string), run (area_code string, run_id string)")
      const missing = mocks({ tableExists: false })
      const noCreate = yield* make(settings, missing.athena, missing.glue, recordingLock().lock).pipe(Effect.provide(context))
      expect((yield* Effect.flip(noCreate.load("census", run, { create: false, mode: "append" }))).message).toContain("does not exist; pass create_if_not_exists: true")
      expect(missing.statements).toEqual([])
      expect(yield* noCreate.tables).toEqual(["census", "cpi"]) // paged, temporary tables hidden
    }))
})

describe("the Iceberg commit-conflict retry, on the TestClock", () => {
  const inserts = (statements: ReadonlyArray<string>) => statements.filter((s) => s.startsWith("INSERT")).length
  const lakehouseOver = (commitConflicts: number) =>
    Effect.gen(function* () {
      const mocked = mocks({ tableExists: true, commitConflicts })
      const lakehouse = yield* make(defaultSettings, mocked.athena, mocked.glue, recordingLock().lock).pipe(Effect.provide(ObjectStoreMemory.layer()))
      return { lakehouse, statements: mocked.statements }
    })

  it.scoped("an insert that lost to a concurrent commit is tried again after ICEBERG_COMMIT_RETRY_BASE's backoff (doubling, jittered ±20%): not sooner, and at once after", () =>
    Effect.gen(function* () {
      expect(Duration.toMillis(defaultSettings.icebergCommitRetryBase)).toBe(1000)
      const { lakehouse, statements } = yield* lakehouseOver(2)
      const load = yield* Effect.fork(lakehouse.load("census", run, { create: true, mode: "append" }))
      yield* TestClock.adjust("799 millis") // the first wait is 800–1200 ms
      expect(inserts(statements)).toBe(1)
      yield* TestClock.adjust("401 millis") // t = 1200: tried again; the second wait is 1600–2400 ms
      expect(inserts(statements)).toBe(2)
      yield* TestClock.adjust("1199 millis") // t = 2399, before the earliest second retry (800 + 1600)
      expect(inserts(statements)).toBe(2)
      yield* TestClock.adjust("1201 millis") // t = 3600, after the latest (1200 + 2400): this one commits
      expect(inserts(statements)).toBe(3)
      expect(yield* Fiber.join(load)).toMatchObject({ recordsLoaded: 14, alreadyLoaded: false })
    }))

  it.scoped("four tries again at most (1 + 2 + 4 + 8 s, ±20%); then the conflict is the load's error and the temporary table still goes", () =>
    Effect.gen(function* () {
      const { lakehouse, statements } = yield* lakehouseOver(Number.POSITIVE_INFINITY)
      const load = yield* Effect.fork(lakehouse.load("census", run, { create: true, mode: "append" }))
      yield* TestClock.adjust("11999 millis") // the last try comes 12–18 s in
      expect(inserts(statements)).toBe(4)
      expect(Option.isNone(yield* Fiber.poll(load))).toBe(true)
      yield* TestClock.adjust("6001 millis")
      expect(inserts(statements)).toBe(5)
      expect(Option.isSome(yield* Fiber.poll(load))).toBe(true)
      const error = yield* Effect.flip(Fiber.join(load))
      expect(error.message).toMatch(/^The athena query ended FAILED: ICEBERG_COMMIT_ERROR/)
      expect(statements.at(-1)).toMatch(/^DROP TABLE IF EXISTS `estat_db`.`estat_tmp_/)
      yield* TestClock.adjust("1 minute") // and no fifth try
      expect(inserts(statements)).toBe(5)
    }))
})
