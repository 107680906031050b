import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { AthenaClient } from "@aws-sdk/client-athena"
import { GlueClient } from "@aws-sdk/client-glue"
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3"
import { DuckDBInstance } from "@duckdb/node-api"
import { Duration, Effect, Option } from "effect"
import { runPrefix } from "../../src/domain/runs.js"
import { make } from "../../src/services/lakehouse/aws.js"
import type { RunToLoad } from "../../src/services/lakehouse/Lakehouse.js"
import { makeS3TableLock } from "../../src/services/lakehouse/tableLock.js"
import { ObjectStore } from "../../src/services/storage/ObjectStore.js"
import { pipelineContext } from "../support/pipeline.js"
import { s3rver, s3rverCredentials, TEST_BUCKET } from "../support/s3rver.js"
import { type FakeAthenaOptions, startFakeAthena } from "./athena/server.js"
import { conditionalS3 } from "./conditionalS3.js"

/**
 * The aws lakehouse's live code against fakes only: s3rver behind S3's conditional writes, and the
 * fake Athena + Glue reading the symlink manifests and Parquet parts from it. The workgroup enforces
 * its result location, as the deploy stack's does.
 */

const region = "ap-northeast-1"
/** The server's own statements sign as the task role. */
const credentials = { accessKeyId: "TASKROLE", secretAccessKey: "test" }

const managed = <C extends { readonly destroy: () => void }>(create: () => C) => Effect.acquireRelease(Effect.sync(create), (c) => Effect.sync(() => c.destroy()))

export const fakeAwsLake = (options: Omit<FakeAthenaOptions, "readObject" | "workgroups"> = {}) =>
  Effect.gen(function* () {
    const s3 = yield* s3rver
    const conditional = yield* conditionalS3(s3.endpoint)
    const direct = yield* managed(() => new S3Client({ region, endpoint: s3.endpoint, forcePathStyle: true, credentials: s3rverCredentials }))
    const readObject = async (uri: string) => {
      const [, bucket, key] = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri) ?? []
      const out = await direct.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
      return out.Body!.transformToByteArray()
    }
    const workgroups = { "estat-wg": { outputLocation: `s3://${TEST_BUCKET}/lake/athena-results/`, enforce: true } }
    const fake = yield* Effect.acquireRelease(Effect.promise(() => startFakeAthena({ ...options, readObject, workgroups })), (f) => Effect.promise(() => f.close()))
    // Short waits between looks at the fake (its queries take milliseconds): real time, it is an HTTP fake.
    const { context, settings } = yield* pipelineContext("aws", {}, {
      s3Endpoint: Option.some(conditional.endpoint),
      athenaWorkgroup: "estat-wg",
      athenaPollInterval: Duration.millis(5),
      loadLockRetryBase: Duration.millis(20),
      icebergCommitRetryBase: Duration.millis(10)
    })
    const athena = yield* managed(() => new AthenaClient({ region, endpoint: fake.endpoint, credentials }))
    const glue = yield* managed(() => new GlueClient({ region, endpoint: fake.endpoint, credentials }))
    // Caller SQL signs as the analysis role, as ATHENA_QUERY_ROLE_ARN makes it.
    const analysisAthena = yield* managed(() => new AthenaClient({ region, endpoint: fake.endpoint, credentials: { accessKeyId: "ANALYSISROLE", secretAccessKey: "test" } }))
    const lockClient = yield* managed(() => new S3Client({ region, endpoint: conditional.endpoint, forcePathStyle: true, credentials: s3rverCredentials }))
    const lock = makeS3TableLock(lockClient, { bucket: TEST_BUCKET, prefix: "lake/", database: settings.glueDatabase }, {
      ttl: "1 minute", maxWait: "30 seconds", retryBase: settings.loadLockRetryBase
    })
    const lakehouse = yield* make(settings, athena, glue, lock, { analysisAthena }).pipe(Effect.provide(context))
    const store = yield* Effect.provide(ObjectStore, context)
    return { lakehouse, fake, store, conditional, settings }
  })

/** A run of `rows` rows (area_code, value) in two Parquet parts, stored under its run folder. */
export const storedRun = (statsDataId: string, runId: string, rows: number) =>
  Effect.gen(function* () {
    const store = yield* ObjectStore
    const folder = mkdtempSync(join(tmpdir(), "aws-lake-run-"))
    yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(folder, { recursive: true, force: true })))
    const half = Math.floor(rows / 2)
    const ranges: Array<[number, number]> = [[0, half], [half, rows]]
    const parts = yield* Effect.forEach(ranges, ([from, to], i) =>
      Effect.gen(function* () {
        const file = join(folder, `part-${i}.parquet`)
        yield* Effect.promise(async () => {
          const db = await DuckDBInstance.create(":memory:")
          const connection = await db.connect()
          await connection.run(`COPY (SELECT 'a' || (i % 47) AS area_code, i * 0.5 AS value FROM range(${from}, ${to}) t(i)) TO '${file}' (FORMAT parquet)`)
          connection.closeSync()
          db.closeSync()
        })
        const key = `${runPrefix(statsDataId, runId)}part-${String(i + 1).padStart(5, "0")}.parquet`
        yield* store.putFile(key, file, "application/vnd.apache.parquet")
        return { key, rows: to - from }
      }))
    return {
      statsDataId, runId, parts,
      columns: [{ name: "area_code", type: "VARCHAR" as const }, { name: "value", type: "DOUBLE" as const }]
    } satisfies RunToLoad
  })
