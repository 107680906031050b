import { mkdtempSync, rmSync } from "node:fs"
import { createServer } from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { HttpRouter, HttpServer, HttpServerResponse } from "@effect/platform"
import { NodeContext, NodeHttpServer } from "@effect/platform-node"
import { Context, Effect, Exit, Layer, Scope } from "effect"
import { AccessTokens, type AppSettings, configLayer, defaultSettings, mcpLayer, RequestBodies, router, SessionStoreLive } from "../../src/index.js"

/** A DATA_DIR of the embedding's own, removed with it: a test never writes into the checkout (`./data`). */
const ownDataDir = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(join(tmpdir(), "estat-embedded-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

/**
 * The README's embedding recipe, from the package's public surface: a host service with a route
 * of its own (`GET /hello`) and estat-mcp's router mounted under `prefix`, on 127.0.0.1, with
 * `defaultSettings` and `overrides` on a temp DATA_DIR.
 */
export const startEmbedded = async (prefix: `/${string}`, overrides: Partial<AppSettings> = {}) => {
  const host = HttpRouter.empty.pipe(
    HttpRouter.get("/hello", HttpServerResponse.text("host service")),
    HttpRouter.mount(prefix, router)
  )
  const scope = await Effect.runPromise(Scope.make())
  const dataDir = await Effect.runPromise(Scope.extend(ownDataDir, scope))
  const settings: AppSettings = { ...defaultSettings, host: "127.0.0.1", port: 0, dataDir, ...overrides }
  const layer = HttpServer.serve(host).pipe(
    Layer.provide(Layer.mergeAll(SessionStoreLive, RequestBodies.layer, AccessTokens.layer)),
    Layer.provideMerge(mcpLayer),
    Layer.provideMerge(configLayer(settings)),
    Layer.provideMerge(NodeContext.layer),
    Layer.provideMerge(NodeHttpServer.layer(createServer, { host: "127.0.0.1", port: 0 }))
  )
  const context = await Effect.runPromise(Layer.buildWithScope(layer, scope))
  const address = Context.get(context, HttpServer.HttpServer).address
  if (address._tag !== "TcpAddress") throw new Error("expected a TCP address")
  return { port: address.port, close: () => Effect.runPromise(Scope.close(scope, Exit.void)) }
}
