import { FetchHttpClient } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import { AppConfig, type AppSettings, appSettingsConfig } from "./config.js"
import * as McpServer from "./mcp/server.js"
import type { Tool } from "./mcp/tool.js"
import { DataEngine } from "./services/DataEngine.js"
import { EStat } from "./services/EStat.js"
import * as AwsLakehouse from "./services/lakehouse/aws.js"
import * as LocalLakehouse from "./services/lakehouse/local.js"
import { RunSlots } from "./services/RunSlots.js"
import * as LocalFs from "./services/storage/LocalFs.js"
import * as S3 from "./services/storage/S3.js"
import { tools, type ToolRequirements } from "./tools/registry.js"
import { storedFiles } from "./tools/storedFiles.js"

/** Storage of the configured backend: S3 (`aws`) or files under DATA_DIR (`local`). */
export const objectStoreLayer = Layer.unwrapEffect(
  Effect.map(AppConfig, (settings) => (settings.backend === "aws" ? S3.layer : LocalFs.layer))
)

/** Iceberg tables and SQL over them: Athena + Glue (`aws`) or local Iceberg + DuckDB (`local`). */
export const lakehouseLayer = Layer.unwrapEffect(
  Effect.map(AppConfig, (settings) => (settings.backend === "aws" ? AwsLakehouse.layer : LocalLakehouse.layer))
)

const baseServices = Layer.mergeAll(
  EStat.layer.pipe(Layer.provide(FetchHttpClient.layer)),
  objectStoreLayer,
  DataEngine.layer,
  RunSlots.layer
)

/** The services tools run on, for one set of settings. */
export const servicesLayer = lakehouseLayer.pipe(
  Layer.provideMerge(baseServices),
  Layer.provideMerge(NodeContext.layer)
)

/** The MCP protocol core serving `toolset` and the stored files as resources, with the services they need. */
export const mcpLayerFor = (toolset: ReadonlyArray<Tool<ToolRequirements>>) =>
  McpServer.layer(toolset, storedFiles).pipe(Layer.provideMerge(servicesLayer))

/** The MCP protocol core with every registered tool. */
export const mcpLayer = mcpLayerFor(tools)

export const configLayer = (settings: AppSettings) => Layer.succeed(AppConfig, settings)

export const configFromEnv = Layer.effect(AppConfig, appSettingsConfig)
