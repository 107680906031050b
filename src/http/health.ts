import { HttpServerResponse } from "@effect/platform"
import { Clock, Effect, Option } from "effect"
import { AppConfig } from "../config.js"
import { ObjectStore } from "../services/storage/ObjectStore.js"
import { MockedLayers } from "../testing/mocked.js"

/** Liveness: constant work, never waits on tools or backends. */
export const health = Effect.map(Clock.currentTimeMillis, (now) =>
  HttpServerResponse.unsafeJson({ status: "healthy", timestamp: new Date(now).toISOString() })
)

interface Check {
  readonly name: string
  readonly ok: boolean
  readonly detail: string
}

/** A write and a delete through the configured storage: DATA_DIR writable, or the S3 bucket reachable and writable. */
const storageCheck = Effect.gen(function* () {
  const store = yield* ObjectStore
  const probe = `.ready/${process.pid}-${yield* Clock.currentTimeMillis}`
  return yield* store.putBytes(probe, new TextEncoder().encode("ok"), "text/plain").pipe(
    Effect.zipRight(store.remove(probe)),
    Effect.timeoutFail({ duration: "5 seconds", onTimeout: () => new Error("no answer within 5 s") }),
    Effect.as<Check>({ name: "storage", ok: true, detail: `${store.root} is writable` }),
    Effect.catchAll((error) => Effect.succeed<Check>({ name: "storage", ok: false, detail: `${store.root} is not writable: ${error.message}` }))
  )
})

/** Readiness: the configured backend can store data; e-Stat access is reported, not required. */
export const ready = Effect.gen(function* () {
  const config = yield* AppConfig
  const mocked = yield* Effect.serviceOption(MockedLayers)
  const storage = yield* storageCheck
  const now = yield* Clock.currentTimeMillis
  const estat: Check = Option.isSome(mocked)
    ? { name: "estat", ok: true, detail: `mocked: ${mocked.value.estat}` }
    : Option.isSome(config.estatAppId)
    ? { name: "estat", ok: true, detail: "ESTAT_APP_ID is set" }
    : { name: "estat", ok: true, detail: "ESTAT_APP_ID is not set: e-Stat tools will fail until it is" }
  const checks = [storage, estat]
  const ok = checks.every((c) => c.ok)
  return HttpServerResponse.unsafeJson(
    {
      status: ok ? "ready" : "not_ready",
      backend: config.backend,
      // Only in mock mode: a client or a person can tell the answers are samples.
      ...Option.match(mocked, { onNone: () => ({}), onSome: (layers) => ({ mocked: true, layers }) }),
      checks,
      timestamp: new Date(now).toISOString()
    },
    { status: ok ? 200 : 503 }
  )
})
