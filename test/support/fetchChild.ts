/**
 * A run in a child process, for tests that kill it (test/pipeline/crashSafeRuns.test.ts). Run it
 * with the project's tsx or as a bundle (scripts/bundle.mjs); settings come as JSON in FETCH_CHILD. Events go to stdout, one JSON line each:
 * `{"event":"progress","pagesDone":n}` after each stored page, `{"event":"final-manifest"}` when
 * the run's last manifest is about to be written (with `holdFinalManifest` it then never is: the
 * process waits there to be killed), `{"event":"done",…}` or `{"event":"failed",…}` at the end.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Duration, Effect, Layer, Option, Redacted } from "effect"
import { configLayer, defaultSettings } from "../../src/config.js"
import { servicesLayer } from "../../src/layers.js"
import { fetchDataset } from "../../src/pipeline/fetchDataset.js"
import { ObjectStore } from "../../src/services/storage/ObjectStore.js"
import { S3ClientOverrides } from "../../src/services/storage/S3.js"
import { FAKE_APP_ID } from "../fakes/estatServer.js"

export interface FetchChildSettings {
  readonly baseUrl: string
  readonly dataDir: string
  /** The aws backend on this S3 endpoint (bucket estat-test, prefix lake), else the local one. */
  readonly s3: { readonly endpoint: string; readonly accessKeyId: string; readonly secretAccessKey: string } | null
  readonly statsDataId: string
  readonly pageSize: number
  readonly concurrency: number
  readonly resumeRunId: string | null
  readonly holdFinalManifest: boolean
}

const settings = JSON.parse(process.env["FETCH_CHILD"] ?? "{}") as FetchChildSettings

const emit = (event: Record<string, unknown>) => Effect.sync(() => void process.stdout.write(JSON.stringify(event) + "\n"))

/** The live store, except that the run's last manifest (status complete) is announced, and held when asked. */
const announcingFinalManifest = Effect.map(ObjectStore, (store) =>
  ObjectStore.of({
    ...store,
    putBytes: (key, bytes, contentType) => {
      const final = key.endsWith("/manifest.json") && new TextDecoder().decode(bytes).includes('"status": "complete"')
      if (!final) return store.putBytes(key, bytes, contentType)
      return emit({ event: "final-manifest" }).pipe(Effect.zipRight(settings.holdFinalManifest ? Effect.never : store.putBytes(key, bytes, contentType)))
    }
  }))

const program = Effect.gen(function* () {
  const store = yield* announcingFinalManifest
  const outcome = yield* fetchDataset({
    statsDataId: settings.statsDataId,
    narrowing: {},
    maxRecords: null,
    pageSize: settings.pageSize,
    concurrency: settings.concurrency,
    withLabels: true,
    store: true,
    resumeRunId: settings.resumeRunId,
    onProgress: (progress) => (progress.waiting === true ? Effect.void : emit({ event: "progress", pagesDone: progress.pagesDone }))
  }).pipe(Effect.provideService(ObjectStore, store))
  yield* emit({ event: "done", runId: outcome.runId, recordsFetched: outcome.recordsFetched })
}).pipe(
  Effect.catchAll((error) => emit({ event: "failed", tag: error._tag, message: error.message })),
  Effect.provide(servicesLayer.pipe(
    Layer.provide(Layer.succeed(S3ClientOverrides, settings.s3 === null ? {} : { credentials: settings.s3 })),
    Layer.provideMerge(configLayer({
      ...defaultSettings,
      ...(settings.s3 === null
        ? { backend: "local" as const }
        : { backend: "aws" as const, s3Bucket: Option.some("estat-test"), s3Prefix: "lake", s3Endpoint: Option.some(settings.s3.endpoint) }),
      dataDir: settings.dataDir,
      estatBaseUrl: settings.baseUrl,
      estatAppId: Option.some(Redacted.make(FAKE_APP_ID)),
      estatRetryBase: Duration.millis(5),
      estatRetries: 2
    }))
  ))
)

NodeRuntime.runMain(program)
