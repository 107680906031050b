import { createServer } from "node:http"
import { HttpServer } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { Layer } from "effect"
import { type AppSettings } from "./config.js"
import { httpApp } from "./http/app.js"
import { RequestBodies } from "./http/requestBody.js"
import { SessionStoreLive } from "./mcp/sessions.js"

/** Node's HTTP server, with keep-alive longer than a load balancer's idle timeout (300 s). */
const nodeServer = () => {
  const server = createServer()
  server.keepAliveTimeout = 310_000
  server.headersTimeout = 320_000
  return server
}

/** The HTTP server on `settings.host:settings.port` (port 0 picks a free one). Needs McpServer and AppConfig. */
export const httpServerLayer = (settings: Pick<AppSettings, "host" | "port">) =>
  HttpServer.serve(httpApp).pipe(
    HttpServer.withLogAddress,
    Layer.provide(Layer.mergeAll(SessionStoreLive, RequestBodies.layer)),
    Layer.provideMerge(NodeHttpServer.layer(nodeServer, { host: settings.host, port: settings.port }))
  )
