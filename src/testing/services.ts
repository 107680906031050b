import { FileSystem } from "@effect/platform"
import { NodeFileSystem } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import { type AppSettings, configLayer, defaultSettings } from "../config.js"
import { servicesLayerWith } from "../layers.js"
import { type CallToolResult, ToolContext } from "../mcp/tool.js"
import { tools } from "../tools/registry.js"
import * as EStatMemory from "./EStatMemory.js"

/**
 * Everything the tools run on, mocked: e-Stat in memory (`options.estat`, the sample tables by
 * default), and the local storage and lakehouse under a fresh temp DATA_DIR removed with the layer.
 * Needs no appId, no network and no cloud account.
 */
export const servicesLayer = (options: { readonly settings?: Partial<AppSettings>; readonly estat?: EStatMemory.EStatMemoryOptions } = {}) =>
  Layer.unwrapScoped(Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const dataDir = yield* fs.makeTempDirectoryScoped({ prefix: "estat-mcp-test-" })
    const settings: AppSettings = { ...defaultSettings, backend: "local", dataDir, ...options.settings }
    return servicesLayerWith(EStatMemory.layer(options.estat)).pipe(Layer.provideMerge(configLayer(settings)))
  })).pipe(Layer.provide(NodeFileSystem.layer))

type Services = Layer.Layer.Success<ReturnType<typeof servicesLayer>>

/** Runs the registered tool `name` as an MCP call would (arguments validated, failures as `isError`), without MCP. */
export const callTool = (name: string, args: unknown): Effect.Effect<CallToolResult, never, Services> => {
  const tool = tools.find((t) => t.definition.name === name)
  if (tool === undefined) return Effect.dieMessage(`no tool named ${name}; the tools are ${tools.map((t) => t.definition.name).join(", ")}`)
  return tool.call(args).pipe(Effect.provide(ToolContext.silent))
}

