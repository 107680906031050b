import { tmpdir } from "node:os"
import { join } from "node:path"
import { Config, type ConfigError, Effect, Layer, Option } from "effect"
import { type AppSettings, appSettingsConfig } from "../config.js"
import { mcpLayerFor } from "../layers.js"
import { tools } from "../tools/registry.js"
import * as EStatMemory from "./EStatMemory.js"
import { MockedLayers } from "./mocked.js"

/**
 * `estat-mcp --mock` (`npm run demo`): the server on mocked layers, for trying it without an
 * e-Stat appId, a network or a cloud account. PORT, HOST and DATA_DIR are read as usual.
 */

/** Without DATA_DIR, runs of sample tables go to a folder of their own, never among real data. */
const demoDataDir = join(tmpdir(), "estat-mcp-demo")

/** The settings from the environment, on the local backend (no cloud), DATA_DIR defaulting to the demo's folder. */
export const settings: Effect.Effect<AppSettings, ConfigError.ConfigError> = Effect.gen(function* () {
  const read = yield* appSettingsConfig
  const dataDir = yield* Config.option(Config.string("DATA_DIR"))
  return { ...read, backend: "local", dataDir: Option.getOrElse(dataDir, () => demoDataDir) } satisfies AppSettings
})

/** The MCP core with every tool, e-Stat in memory, and a log line saying so when it starts. */
export const layer = (settings: AppSettings) => {
  const tables = EStatMemory.mockTables()
  const what = {
    estat: `in memory: ${tables.length} sample tables, no appId, no network`,
    storage: `local files under ${settings.dataDir}`
  }
  return mcpLayerFor(tools, EStatMemory.layer({ tables })).pipe(
    Layer.merge(Layer.succeed(MockedLayers, what)),
    Layer.tap(() => Effect.logInfo("mock mode: the layers are mocked").pipe(Effect.annotateLogs({ estat: what.estat, storage: what.storage })))
  )
}
