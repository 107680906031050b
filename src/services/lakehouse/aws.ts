import { randomBytes } from "node:crypto"
import { AthenaClient } from "@aws-sdk/client-athena"
import { CreateDatabaseCommand, GetDatabaseCommand, GetTableCommand, GlueClient, type GlueClientConfig, paginateGetTables } from "@aws-sdk/client-glue"
import { STSClient } from "@aws-sdk/client-sts"
import { Context, Duration, Effect, Layer, Option, Schedule } from "effect"
import { AppConfig, type AppSettings } from "../../config.js"
import { icebergTypes } from "../../domain/iceberg.js"
import type { ColumnSpec } from "../../domain/rowBatch.js"
import { runPrefix } from "../../domain/runs.js"
import { quoteName } from "../../domain/sqlGuard.js"
import { quoteLiteral } from "../DataEngine.js"
import { AthenaClientOverrides, make as makeAthena } from "../query/Athena.js"
import { assumedRoleCredentials } from "../query/assumedRole.js"
import { ObjectStore } from "../storage/ObjectStore.js"
import { keyPrefixOf, s3Client } from "../storage/S3.js"
import { QueryFailed } from "../query/QueryEngine.js"
import { CatalogError, CREATE_HINT, Lakehouse, type RunToLoad, TableNotFound, tableNotFound, theTables, withRunId } from "./Lakehouse.js"
import { makeS3TableLock, type TableLock } from "./tableLock.js"

/**
 * Iceberg tables in the Glue database, loaded and queried through Athena. A load reads exactly
 * one run: a temporary external table over a symlink manifest listing the run's Parquet parts →
 * `INSERT INTO` the Iceberg table with the run id → the temporary table dropped, also on failure.
 * Loads of one table take turns across tasks (TableLock), so "is this run loaded?" and the insert
 * cannot interleave with another load; each load's temporary names are its own.
 */

/** Extra Glue client settings (tests). */
export class GlueClientOverrides extends Context.Reference<GlueClientOverrides>()("estat-mcp/GlueClientOverrides", {
  defaultValue: (): Partial<GlueClientConfig> => ({})
}) {}

/** Hive DDL quotes names with backticks. */
const ddlColumns = (columns: ReadonlyArray<ColumnSpec>) => columns.map((c) => `\`${c.name}\` ${icebergTypes[c.type]}`).join(", ")

/** Trino DML quotes names with double quotes. */
const nameList = (columns: ReadonlyArray<ColumnSpec>, qualifier = "") => columns.map((c) => qualifier + quoteName(c.name)).join(", ")

/** The run's rows from the temporary table into the Iceberg table, tagged with the run id: one commit. */
const appendRun = (target: string, temporary: string, columns: ReadonlyArray<ColumnSpec>, runId: string) =>
  `INSERT INTO ${target} (${nameList(columns)}, "run_id") SELECT ${nameList(columns)}, ${quoteLiteral(runId)} FROM ${temporary}`

/**
 * The table's rows replaced by the run's in one commit, so it is never seen empty nor half
 * replaced, and a failure leaves it as it was. Athena's MERGE has no "not matched by source": the
 * source adds one marker row per run the table holds (a row of it, picked by min()), each target
 * row matches exactly its run's marker and is deleted, and the run's own rows, never matched, are
 * inserted.
 */
const replaceWithRun = (target: string, temporary: string, columns: ReadonlyArray<ColumnSpec>, runId: string) =>
  `MERGE INTO ${target} AS t USING (` +
  `SELECT ${nameList(columns)}, ${quoteLiteral(runId)} AS "run_id", false AS "estat_mcp_old_run" FROM ${temporary} ` +
  `UNION ALL SELECT ${columns.map((c) => `min(${quoteName(c.name)})`).join(", ")}, "run_id", true FROM ${target} GROUP BY "run_id"` +
  `) AS s ON s."estat_mcp_old_run" AND t."run_id" = s."run_id" ` +
  "WHEN MATCHED THEN DELETE " +
  `WHEN NOT MATCHED AND NOT s."estat_mcp_old_run" THEN INSERT (${nameList(columns)}, "run_id") VALUES (${nameList(columns, "s.")}, s."run_id")`

export interface AwsOptions {
  /** The client caller SQL runs on (the analysis role's); the server's own statements use `athena`. */
  readonly analysisAthena?: AthenaClient
}

/** Athena's answer when another writer committed to the Iceberg table first: nothing was committed, so trying again is safe. */
const commitConflict = (error: QueryFailed) => error.reason.startsWith("ICEBERG_COMMIT_ERROR")

/** Athena's answer to caller SQL naming a table the database lacks (the local engine refuses it before running). */
const missingTable = (error: unknown): error is QueryFailed => error instanceof QueryFailed && error.reason.startsWith("TABLE_NOT_FOUND")

export const make = (settings: AppSettings, athena: AthenaClient, glue: GlueClient, lock: TableLock, options: AwsOptions = {}) =>
  Effect.gen(function* () {
    const store = yield* ObjectStore
    const runner = makeAthena(settings, athena)
    const analysis = options.analysisAthena === undefined ? runner : makeAthena(settings, options.analysisAthena)
    const database = settings.glueDatabase
    const name = (table: string) => `${quoteName(database)}.${quoteName(table)}`
    const count = (sql: string) => Effect.map(runner.execute(sql, 1), (r) => Number(Object.values(r.rows[0] ?? {})[0] ?? 0))
    /** A statement that commits to an Iceberg table, tried again (with backoff) when a concurrent commit won. */
    const commit = (sql: string) =>
      runner.execute(sql, 0).pipe(Effect.retry({
        schedule: Schedule.exponential(settings.icebergCommitRetryBase).pipe(Schedule.jittered, Schedule.intersect(Schedule.recurs(4))),
        while: commitConflict
      }))

    type GlueFailure = { readonly name?: string; readonly message?: string }
    const glueError = (table: string, e: GlueFailure) =>
      new CatalogError({ table: `${database}.${table}`, reason: `Glue: ${e.name ?? "Error"}: ${e.message ?? ""}` })

    /** A Glue lookup: none when the entity does not exist. */
    const glueFind = <A>(table: string, call: (signal: AbortSignal) => Promise<A>): Effect.Effect<Option.Option<A>, CatalogError> =>
      Effect.tryPromise({ try: call, catch: (e) => e as GlueFailure }).pipe(
        Effect.map(Option.some),
        Effect.catchAll((e) => (e.name === "EntityNotFoundException" ? Effect.succeed(Option.none<A>()) : Effect.fail(glueError(table, e))))
      )

    const glueColumns = (table: string) =>
      Effect.map(glueFind(table, (abortSignal) => glue.send(new GetTableCommand({ DatabaseName: database, Name: table }), { abortSignal })),
        Option.map((out) => (out.Table?.StorageDescriptor?.Columns ?? []).map((c) => ({ name: c.Name ?? "", type: c.Type ?? "" }))))

    const glueCall = <A>(table: string, call: (signal: AbortSignal) => Promise<A>) =>
      Effect.tryPromise({ try: call, catch: (e) => glueError(table, e as GlueFailure) })

    /**
     * The Glue database, created when missing (the deploy stack creates it; a bare account may not
     * have it). A load of another table may create it at the same moment: AlreadyExists is success.
     */
    const ensureDatabase = (table: string) =>
      glueFind(table, (abortSignal) => glue.send(new GetDatabaseCommand({ Name: database }), { abortSignal })).pipe(
        Effect.flatMap(Option.match({
          onSome: () => Effect.void,
          onNone: () =>
            Effect.tryPromise({
              try: (abortSignal) =>
                glue.send(new CreateDatabaseCommand({ DatabaseInput: { Name: database, Description: "e-Stat datasets loaded by estat-mcp" } }), { abortSignal }),
              catch: (e) => e as GlueFailure
            }).pipe(Effect.catchAll((e) => (e.name === "AlreadyExistsException" ? Effect.void : Effect.fail(glueError(table, e)))))
        })),
        Effect.asVoid
      )

    const load = (table: string, run: RunToLoad, loadOptions: { readonly create: boolean; readonly mode: "append" | "replace" }) =>
      lock.withLock(table, loadLocked(table, run, loadOptions))

    const loadLocked = (table: string, run: RunToLoad, loadOptions: { readonly create: boolean; readonly mode: "append" | "replace" }) =>
      Effect.gen(function* () {
        const columns = withRunId(run.columns)
        yield* ensureDatabase(table)
        const existing = yield* glueColumns(table)
        if (Option.isNone(existing) && !loadOptions.create) {
          return yield* new TableNotFound({ table: `${database}.${table}`, hint: CREATE_HINT })
        }
        if (Option.isSome(existing)) {
          const have = existing.value.map((c) => `${c.name} ${c.type}`).join(", ")
          const want = columns.map((c) => `${c.name} ${icebergTypes[c.type]}`).join(", ")
          if (have !== want) return yield* new CatalogError({ table: `${database}.${table}`, reason: `the run's columns differ from the table's: table (${have}), run (${want})` })
        }
        // Exactly this run's parts: a symlink manifest, since the run folder also holds manifest.json.
        // Names of this load's own: a load of the same run into another table runs meanwhile.
        const loadId = randomBytes(4).toString("hex")
        const symlinks = `${runPrefix(run.statsDataId, run.runId)}_symlink/${loadId}/`
        yield* store.putBytes(`${symlinks}symlink.txt`, new TextEncoder().encode(run.parts.map((p) => store.uri(p.key)).join("\n") + "\n"), "text/plain")
        const temporary = `estat_tmp_${run.runId.toLowerCase().replace(/[^a-z0-9]/g, "_")}_${loadId}`
        const location = store.uri(`warehouse/${database}/${table}/`)
        const loadRun = Effect.gen(function* () {
          yield* runner.execute(
            `CREATE EXTERNAL TABLE \`${database}\`.\`${temporary}\` (${ddlColumns(run.columns)}) ` +
              "ROW FORMAT SERDE 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' " +
              "STORED AS INPUTFORMAT 'org.apache.hadoop.hive.ql.io.SymlinkTextInputFormat' " +
              "OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat' " +
              `LOCATION ${quoteLiteral(store.uri(symlinks))}`,
            0
          )
          if (Option.isNone(existing)) {
            yield* runner.execute(
              `CREATE TABLE \`${database}\`.\`${table}\` (${ddlColumns(columns)}) LOCATION ${quoteLiteral(location)} ` +
                "TBLPROPERTIES ('table_type'='ICEBERG', 'format'='parquet', 'write_compression'='zstd')",
              0
            )
          }
          const runRows = `SELECT count(*) FROM ${name(table)} WHERE run_id = ${quoteLiteral(run.runId)}`
          if (loadOptions.mode === "append" && (yield* count(runRows)) > 0) return { inserted: 0, alreadyLoaded: true }
          const statement = loadOptions.mode === "append" ? appendRun : replaceWithRun
          yield* commit(statement(name(table), name(temporary), run.columns, run.runId))
          return { inserted: yield* count(runRows), alreadyLoaded: false }
        }).pipe(Effect.ensuring(Effect.zipRight(
          // The temporary table and this load's symlink manifest go, also on failure (a leftover is logged, not fatal).
          Effect.ignoreLogged(runner.execute(`DROP TABLE IF EXISTS \`${database}\`.\`${temporary}\``, 0)),
          Effect.ignoreLogged(store.remove(`${symlinks}symlink.txt`))
        )))
        const loaded = yield* loadRun
        const total = yield* count(`SELECT count(*) FROM ${name(table)}`)
        const snapshot = yield* runner.execute(`SELECT snapshot_id FROM ${quoteName(database)}.${quoteName(`${table}$snapshots`)} ORDER BY committed_at DESC LIMIT 1`, 1)
        return {
          recordsLoaded: loaded.inserted,
          tableTotalRecords: total,
          snapshotId: String(Object.values(snapshot.rows[0] ?? {})[0] ?? ""),
          location,
          alreadyLoaded: loaded.alreadyLoaded
        }
      })

    const tables = glueCall("*", async (abortSignal) => {
      const names: Array<string> = []
      for await (const page of paginateGetTables({ client: glue }, { DatabaseName: database }, { abortSignal })) {
        for (const table of page.TableList ?? []) if (table.Name !== undefined && !table.Name.startsWith("estat_tmp_")) names.push(table.Name)
      }
      return names.sort()
    })

    return Lakehouse.of({
      engine: "athena",
      database,
      tables,
      load,
      columns: (table) =>
        Effect.flatMap(glueColumns(table), Option.match({
          onNone: () => tableNotFound(`${database}.${table}`, tables),
          onSome: Effect.succeed
        })),
      // A wrong table inside caller SQL is answered with the tables there are, as a wrong table_name is.
      query: (request) =>
        Effect.catchIf(analysis.engine.run(request), missingTable, (error) =>
          Effect.flatMap(Effect.option(tables), (names) =>
            Effect.fail(Option.isNone(names) ? error : new QueryFailed({ engine: error.engine, state: error.state, reason: `${error.reason}; ${theTables(names.value)}` }))))
    })
  })

/** An AWS SDK client destroyed with the scope. */
const managed = <C extends { readonly destroy: () => void }>(create: Effect.Effect<C>) =>
  Effect.acquireRelease(create, (client) => Effect.sync(() => client.destroy()))

/**
 * Loads wait for another load of the same table up to ATHENA_QUERY_TIMEOUT; a lock lives 2 minutes
 * unless renewed, so a task that died holding one blocks its table that long at most.
 */
const tableLockFor = (settings: AppSettings) =>
  Option.match(settings.s3Bucket, {
    onNone: () =>
      Effect.succeed<TableLock>({
        withLock: (table) => Effect.fail(new CatalogError({ table: `${settings.glueDatabase}.${table}`, reason: "S3_BUCKET is not set: loads need the bucket" }))
      }),
    onSome: (bucket) =>
      Effect.map(s3Client(settings), (client) =>
        makeS3TableLock(client, { bucket, prefix: keyPrefixOf(settings.s3Prefix), database: settings.glueDatabase }, {
          ttl: Duration.minutes(2),
          maxWait: settings.athenaQueryTimeout,
          retryBase: settings.loadLockRetryBase
        }))
  })

export const layer: Layer.Layer<Lakehouse, never, AppConfig | ObjectStore> = Layer.scoped(
  Lakehouse,
  Effect.gen(function* () {
    const settings = yield* AppConfig
    const endpointOf = (endpoint: Option.Option<string>) => Option.match(endpoint, { onNone: () => ({}), onSome: (url) => ({ endpoint: url }) })
    const athena = yield* managed(Effect.map(AthenaClientOverrides, (overrides) =>
      new AthenaClient({ region: settings.awsRegion, ...endpointOf(settings.athenaEndpoint), ...overrides })))
    const glue = yield* managed(Effect.map(GlueClientOverrides, (overrides) =>
      new GlueClient({ region: settings.awsRegion, ...endpointOf(settings.glueEndpoint), ...overrides })))
    const analysisAthena = yield* Option.match(settings.athenaQueryRoleArn, {
      onNone: () =>
        Effect.as(Effect.logWarning("ATHENA_QUERY_ROLE_ARN is not set: caller SQL runs on Athena with the server's own role"), undefined),
      onSome: (roleArn) =>
        Effect.gen(function* () {
          const sts = yield* managed(Effect.sync(() => new STSClient({ region: settings.awsRegion })))
          return yield* managed(Effect.map(AthenaClientOverrides, (overrides) =>
            new AthenaClient({
              region: settings.awsRegion,
              ...endpointOf(settings.athenaEndpoint),
              ...overrides,
              credentials: assumedRoleCredentials(sts, roleArn)
            })))
        })
    })
    const lock = yield* tableLockFor(settings)
    return yield* make(settings, athena, glue, lock, analysisAthena === undefined ? {} : { analysisAthena })
  })
)

