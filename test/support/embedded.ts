import { createServer } from "node:http"
import { HttpRouter, HttpServer, HttpServerResponse } from "@effect/platform"
import { NodeContext, NodeHttpServer } from "@effect/platform-node"
import { Context, Effect, Exit, Layer, Scope } from "effect"
import { AccessTokens, type AppSettings, configLayer, mcpLayer, RequestBodies, router, SessionStoreLive } from "../../src/index.js"

/**
 * The README's embedding recipe, from the package's public surface: a host service with a route
 * of its own (`GET /hello`) and estat-mcp's router mounted under `prefix`, on 127.0.0.1.
 */
export const startEmbedded = async (prefix: `/${string}`, settings: AppSettings) => {
  const host = HttpRouter.empty.pipe(
    HttpRouter.get("/hello", HttpServerResponse.text("host service")),
    HttpRouter.mount(prefix, router)
  )
  const scope = await Effect.runPromise(Scope.make())
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
