import { FetchHttpClient } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import { AppConfig } from "./config.js"
import * as McpServer from "./mcp/server.js"
import { scratchSweptLayer } from "./pipeline/leftovers.js"
import { RunIndexMemory } from "./pipeline/runIndexMemory.js"
import type { Tool } from "./mcp/tool.js"
import { CpuPacer } from "./services/CpuPacer.js"
import { DataEngine } from "./services/DataEngine.js"
import { EStat } from "./services/estat/EStat.js"
import { PageWriter } from "./services/pageWriter/PageWriter.js"
import { cachedMetadata } from "./services/estat/metadataCache.js"
import * as LocalLakehouse from "./services/lakehouse/local.js"
import { RunSlots } from "./services/RunSlots.js"
import * as LocalFs from "./services/storage/LocalFs.js"
import { tools, type ToolRequirements } from "./tools/registry.js"
import { appsAware } from "./resources/explorerApp.js"
import { storedFiles } from "./resources/storedFiles.js"
import * as TaskRunner from "./tasks/TaskRunner.js"

// The AWS SDK is loaded only for the aws backend: on the local one it would be ~20 MB of idle code.

/** Storage of the configured backend: S3 (`aws`) or files under DATA_DIR (`local`). */
export const objectStoreLayer = Layer.unwrapEffect(
  Effect.flatMap(AppConfig, (settings) =>
    settings.backend === "aws" ? Effect.promise(() => import("./services/storage/S3.js")).pipe(Effect.map((m) => m.layer)) : Effect.succeed(LocalFs.layer))
)

/** Iceberg tables and SQL over them: Athena + Glue (`aws`) or local Iceberg + DuckDB (`local`). */
export const lakehouseLayer = Layer.unwrapEffect(
  Effect.flatMap(AppConfig, (settings) =>
    settings.backend === "aws"
      ? Effect.promise(() => import("./services/lakehouse/aws.js")).pipe(Effect.map((m) => m.layer))
      : Effect.succeed(LocalLakehouse.layer))
)

/** e-Stat over the network. */
const liveEStat = EStat.layer.pipe(Layer.provide(FetchHttpClient.layer))

/** The services tools run on, for one set of settings, with `estat` as e-Stat (`estat-mcp/testing` has one in memory). */
export const servicesLayerWith = (estat: Layer.Layer<EStat, never, AppConfig>) =>
  lakehouseLayer.pipe(
    Layer.provideMerge(Layer.mergeAll(
      cachedMetadata.pipe(Layer.provide(Layer.merge(estat, objectStoreLayer))),
      objectStoreLayer,
      // Page conversion keeps under the process's CPU budget, if it has one (CpuPacer).
      Layer.merge(DataEngine.layer, PageWriter.layer).pipe(Layer.provide(CpuPacer.layer)),
      RunSlots.layer,
      // Search's stored-run notes without a storage read per hit per search.
      RunIndexMemory.layer,
      scratchSweptLayer
    )),
    Layer.provideMerge(NodeContext.layer)
  )

/** The services tools run on, for one set of settings. */
export const servicesLayer = servicesLayerWith(liveEStat)

/**
 * The MCP protocol core serving `toolset`, the stored files as resources and the explorer app
 * (MCP_APPS), with the services they need, and tasks (long calls that outlive their connection)
 * kept in the same storage.
 */
export const mcpLayerFor = (toolset: ReadonlyArray<Tool<ToolRequirements>>, estat: Layer.Layer<EStat, never, AppConfig> = liveEStat) =>
  Layer.unwrapEffect(Effect.flatMap(AppConfig, (settings) => appsAware(settings.mcpApps, toolset, storedFiles)).pipe(
    Effect.map(({ extensions, resources, tools }) => McpServer.layer(tools, resources, extensions))
  )).pipe(
    Layer.provideMerge(TaskRunner.layer),
    Layer.provideMerge(servicesLayerWith(estat))
  )

/** The MCP protocol core with every registered tool. */
export const mcpLayer = mcpLayerFor(tools)
