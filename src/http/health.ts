import { FileSystem, HttpServerResponse, Path } from "@effect/platform"
import { Effect, Option } from "effect"
import { AppConfig } from "../config.js"

/** Liveness: constant work, never waits on tools or backends. */
export const health = Effect.sync(() =>
  HttpServerResponse.unsafeJson({ status: "healthy", timestamp: new Date().toISOString() })
)

interface Check {
  readonly name: string
  readonly ok: boolean
  readonly detail: string
}

const localStorageCheck = Effect.gen(function* () {
  const config = yield* AppConfig
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const probe = path.join(config.dataDir, `.ready-${process.pid}`)
  return yield* fs.makeDirectory(config.dataDir, { recursive: true }).pipe(
    Effect.zipRight(fs.writeFileString(probe, "ok")),
    Effect.zipRight(fs.remove(probe)),
    Effect.as<Check>({ name: "storage", ok: true, detail: `DATA_DIR ${path.resolve(config.dataDir)} is writable` }),
    Effect.catchAll((error) => Effect.succeed<Check>({ name: "storage", ok: false, detail: `DATA_DIR is not writable: ${error.message}` }))
  )
})

const awsStorageCheck = Effect.map(AppConfig, (config): Check =>
  Option.match(config.s3Bucket, {
    onNone: () => ({ name: "storage", ok: false, detail: "ESTAT_MCP_BACKEND=aws needs S3_BUCKET" }),
    onSome: (bucket) => ({ name: "storage", ok: true, detail: `S3 bucket ${bucket} configured` })
  })
)

/** Readiness: the configured backend can store data; e-Stat access is reported, not required. */
export const ready = Effect.gen(function* () {
  const config = yield* AppConfig
  const storage = yield* (config.backend === "local" ? localStorageCheck : awsStorageCheck)
  const estat: Check = Option.isSome(config.estatAppId)
    ? { name: "estat", ok: true, detail: "ESTAT_APP_ID is set" }
    : { name: "estat", ok: true, detail: "ESTAT_APP_ID is not set: e-Stat tools will fail until it is" }
  const checks = [storage, estat]
  const ok = checks.every((c) => c.ok)
  return HttpServerResponse.unsafeJson(
    { status: ok ? "ready" : "not_ready", backend: config.backend, checks, timestamp: new Date().toISOString() },
    { status: ok ? 200 : 503 }
  )
})
