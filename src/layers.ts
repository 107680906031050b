import { FetchHttpClient } from "@effect/platform"
import { Layer } from "effect"
import { AppConfig, type AppSettings, appSettingsConfig } from "./config.js"
import * as McpServer from "./mcp/server.js"
import { EStat } from "./services/EStat.js"
import { tools } from "./tools/registry.js"

/** The services tools run on, for one set of settings. */
export const servicesLayer = EStat.layer.pipe(Layer.provide(FetchHttpClient.layer))

/** The MCP protocol core with every registered tool and the services they need. */
export const mcpLayer = McpServer.layer(tools).pipe(Layer.provideMerge(servicesLayer))

export const configLayer = (settings: AppSettings) => Layer.succeed(AppConfig, settings)

export const configFromEnv = Layer.effect(AppConfig, appSettingsConfig)
