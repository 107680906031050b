import { spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import { Duration, Effect, Layer, Option, Redacted } from "effect"
import { type AppSettings, configLayer, defaultSettings } from "../src/config.js"
import { servicesLayer } from "../src/layers.js"
import type { GeneratedTableOptions } from "../test/fakes/estat/generated.js"
import { FAKE_APP_ID } from "../test/fakes/estat/server.js"

/**
 * The fake e-Stat in a process of its own (bundled next to the bench as fakeEStatProcess.mjs),
 * without this process's heap flags; `warm`: every page encoded before the run. Stopped with the scope.
 */
export const startFakeProcess = (table: GeneratedTableOptions, latencyMs: number, warm: boolean) =>
  Effect.acquireRelease(
    Effect.async<{ readonly baseUrl: string; readonly child: ReturnType<typeof spawn> }>((resume) => {
      const fakeProcess = fileURLToPath(new URL("./fakeEStatProcess.mjs", import.meta.url))
      const { NODE_OPTIONS: _heapCapOfThisProcess, ...env } = process.env
      const child = spawn(process.execPath, [fakeProcess, JSON.stringify(table), String(latencyMs), warm ? "warm" : "cold"], {
        stdio: ["pipe", "pipe", "inherit"],
        env
      })
      createInterface({ input: child.stdout! }).once("line", (baseUrl) => resume(Effect.succeed({ baseUrl, child })))
    }),
    ({ child }) => Effect.sync(() => child.stdin!.end())
  )

/** The server's services against the fake at `baseUrl`, on a temp DATA_DIR removed with the scope. */
export const benchServices = (baseUrl: string, overrides: Partial<AppSettings> = {}) =>
  Effect.gen(function* () {
    const dataDir = mkdtempSync(join(tmpdir(), "estat-bench-"))
    yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dataDir, { recursive: true, force: true })))
    const settings: AppSettings = {
      ...defaultSettings,
      estatBaseUrl: baseUrl,
      estatAppId: Option.some(Redacted.make(FAKE_APP_ID)),
      estatTimeout: Duration.minutes(2),
      estatRequestsPerSecond: 100,
      dataDir,
      ...overrides
    }
    return { settings, context: yield* Layer.build(servicesLayer.pipe(Layer.provideMerge(configLayer(settings)))) }
  })
