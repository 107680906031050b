import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { HttpServer } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { Context, Effect, Exit, Layer, Scope } from "effect"
import { type AppSettings, configLayer, defaultSettings } from "../../src/config.js"
import { mcpLayerFor } from "../../src/layers.js"
import type { Tool } from "../../src/mcp/tool.js"
import { tools, type ToolRequirements } from "../../src/tools/registry.js"
import { httpServerLayer } from "../../src/server.js"
import { S3ClientOverrides } from "../../src/services/storage/S3.js"
import { s3rverCredentials } from "./s3rver.js"

export interface RunningServer {
  readonly url: string
  readonly mcpUrl: URL
  readonly close: () => Promise<void>
}

const ownDataDir = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(join(tmpdir(), "estat-server-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

/** The real server (HTTP, sessions, tools, live EStat layer) on 127.0.0.1 and a free port. */
export const startTestServer = (
  overrides: Partial<AppSettings> = {},
  toolset: ReadonlyArray<Tool<ToolRequirements>> = tools
): Promise<RunningServer> =>
  Effect.runPromise(
    Effect.gen(function* () {
      const scope = yield* Scope.make()
      // A DATA_DIR of its own unless given: what one test stores (runs, cached metadata) never reaches another.
      const dataDir = overrides.dataDir ?? (yield* Scope.extend(ownDataDir, scope))
      const settings: AppSettings = { ...defaultSettings, host: "127.0.0.1", port: 0, dataDir, ...overrides }
      const layer = httpServerLayer(settings).pipe(
        Layer.provideMerge(mcpLayerFor(toolset)),
        Layer.provide(Layer.succeed(S3ClientOverrides, { credentials: s3rverCredentials })),
        Layer.provideMerge(configLayer(settings)),
        Layer.provideMerge(NodeContext.layer)
      )
      const context = yield* Layer.buildWithScope(layer, scope)
      const server = Context.get(context, HttpServer.HttpServer)
      const address = server.address
      if (address._tag !== "TcpAddress") return yield* Effect.dieMessage("expected a TCP address")
      const url = `http://127.0.0.1:${address.port}`
      return {
        url,
        mcpUrl: new URL(`${url}/mcp`),
        close: () => Effect.runPromise(Scope.close(scope, Exit.void))
      }
    })
  )
