import { FetchHttpClient } from "@effect/platform"
import { Layer } from "effect"
import { AppConfig, type AppSettings, appSettingsConfig } from "./config.js"
import * as McpServer from "./mcp/server.js"
import type { Tool } from "./mcp/tool.js"
import { EStat } from "./services/EStat.js"
import { tools, type ToolRequirements } from "./tools/registry.js"

/** The services tools run on, for one set of settings. */
export const servicesLayer = EStat.layer.pipe(Layer.provide(FetchHttpClient.layer))

/** The MCP protocol core serving `toolset`, with the services the tools need. */
export const mcpLayerFor = (toolset: ReadonlyArray<Tool<ToolRequirements>>) =>
  McpServer.layer(toolset).pipe(Layer.provideMerge(servicesLayer))

/** The MCP protocol core with every registered tool. */
export const mcpLayer = mcpLayerFor(tools)

export const configLayer = (settings: AppSettings) => Layer.succeed(AppConfig, settings)

export const configFromEnv = Layer.effect(AppConfig, appSettingsConfig)
