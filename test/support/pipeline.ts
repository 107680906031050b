import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Duration, Effect, Layer, Option, Redacted, type Scope } from "effect"
import { type AppSettings, configLayer, defaultSettings } from "../../src/config.js"
import type { Manifest } from "../../src/domain/runs.js"
import { servicesLayer } from "../../src/layers.js"
import { type FetchRequest } from "../../src/pipeline/fetchDataset.js"
import { DataEngine, quoteLiteral } from "../../src/services/DataEngine.js"
import { S3ClientOverrides } from "../../src/services/storage/S3.js"
import { ObjectStore } from "../../src/services/storage/ObjectStore.js"
import { type EStatMemory, type FakeTable, servicesLayer as mockedServices } from "../../src/testing/index.js"
import { FAKE_APP_ID, fakeEStat, type FakeEStatOptions } from "../fakes/estatServer.js"
import { s3rver, s3rverCredentials, TEST_BUCKET } from "./s3rver.js"

export type Backend = "local" | "aws"

/**
 * The live services (EStat against the fake e-Stat, storage, DuckDB) on a temp DATA_DIR
 * (`local`) or on s3rver (`aws`), with short retry delays.
 */
export const pipelineContext = (backend: Backend, fakeOptions: FakeEStatOptions = {}, overrides: Partial<AppSettings> = {}) =>
  Effect.gen(function* () {
    const fake = yield* fakeEStat(fakeOptions)
    const s3 = backend === "aws" ? yield* s3rver : null
    const dataDir = mkdtempSync(join(tmpdir(), "estat-pipeline-"))
    yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dataDir, { recursive: true, force: true })))
    const settings: AppSettings = {
      ...defaultSettings,
      estatBaseUrl: fake.baseUrl,
      estatAppId: Option.some(Redacted.make(FAKE_APP_ID)),
      estatRetryBase: Duration.millis(5),
      estatRetries: 2,
      dataDir,
      backend,
      ...(s3 === null ? {} : { s3Bucket: Option.some(TEST_BUCKET), s3Prefix: "lake", s3Endpoint: Option.some(s3.endpoint) }),
      ...overrides
    }
    const layer = servicesLayer.pipe(
      Layer.provide(Layer.succeed(S3ClientOverrides, { credentials: s3rverCredentials })),
      Layer.provideMerge(configLayer(settings))
    )
    const context = yield* Layer.build(layer)
    return { fake, settings, context }
  })

/**
 * The services on the mocked layers (estat-mcp/testing): e-Stat in memory with `tables`, every
 * request it receives recorded, and the local store on a temp DATA_DIR. For pipeline and tool
 * logic, where neither the e-Stat wire nor the store's backend is what is tested.
 */
export const mockedContext = (tables: ReadonlyArray<FakeTable>, settings: Partial<AppSettings> = {}) =>
  Effect.gen(function* () {
    const requests: Array<EStatMemory.EStatRequest> = []
    const record = (request: EStatMemory.EStatRequest) => Effect.sync(() => void requests.push(request))
    const context = yield* Layer.build(mockedServices({ estat: { tables, onRequest: record }, settings }))
    return { context, requests }
  })

export const baseRequest = (statsDataId: string, overrides: Partial<FetchRequest> = {}): FetchRequest => ({
  statsDataId,
  narrowing: {},
  maxRecords: null,
  pageSize: 100,
  concurrency: 4,
  withLabels: true,
  store: true,
  resumeRunId: null,
  onProgress: () => Effect.void,
  ...overrides
})

/** SQL over stored Parquet files (`FROM run`), read where they are (local) or from scoped downloads (S3). */
export const queryKeys = (keys: ReadonlyArray<string>, sql: string): Effect.Effect<ReadonlyArray<Record<string, unknown>>, unknown, ObjectStore | DataEngine | Scope.Scope> =>
  Effect.gen(function* () {
    const store = yield* ObjectStore
    const engine = yield* DataEngine
    const files = yield* Effect.forEach(keys, store.localFile)
    const source = files.length === 0 ? "(SELECT 1 WHERE false)" : `read_parquet([${files.map(quoteLiteral).join(", ")}])`
    const result = yield* engine.query(sql.replaceAll("FROM run", `FROM ${source}`))
    return result.rows
  })

/** SQL over a run's parts. */
export const queryRun = (manifest: Manifest, sql: string) => queryKeys(manifest.pages.map((p) => p.key), sql)
