import { createServer, type Server } from "node:http"
import { HttpMiddleware, HttpServer } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { Context, Deferred, Duration, Effect, Fiber, Layer } from "effect"
import type { AppSettings } from "./config.js"
import { httpApp } from "./http/app.js"
import { AccessTokens } from "./http/oauthTokens.js"
import { RequestBodies } from "./http/requestBody.js"
import { SessionStore, SessionStoreLive } from "./mcp/sessions.js"

/** Node's HTTP server, with keep-alive longer than a load balancer's idle timeout (300 s). */
const nodeServer = () => {
  const server = createServer()
  server.keepAliveTimeout = 310_000
  server.headersTimeout = 320_000
  return server
}

const ANSWER_FLUSH = Duration.seconds(1)

/**
 * Runs the server until this fiber is interrupted (SIGTERM when ECS stops the task, after the load
 * balancer has drained it; SIGINT). Then running tool calls get `grace` (MCP_SHUTDOWN_GRACE) to
 * finish while everything still runs and requests are still served; only then is anything
 * released: the sessions close — calls still running are interrupted (a run is recorded partial)
 * and their streams end, so clients resume elsewhere — then the services and the server. The
 * server lives in a fiber of its own: an interruption of this one reaches none of its fibers.
 */
export const serveUntilInterrupted = <E, R>(server: Layer.Layer<SessionStore, E, R>, grace: Duration.Duration) =>
  Effect.gen(function* () {
    const stop = yield* Deferred.make<void>()
    const serving = yield* Effect.forkDaemon(Effect.scoped(Effect.gen(function* () {
      const store = Context.get(yield* Layer.build(server), SessionStore)
      yield* Deferred.await(stop)
      yield* Effect.logInfo("shutting down: waiting for running tool calls")
      const { left, running: awaited } = yield* store.drain(grace)
      // A call's answer is written on its stream just after the call ends: let it reach the client.
      if (awaited > left) yield* Effect.sleep(ANSWER_FLUSH)
      yield* left === 0
        ? Effect.logInfo("shutting down: no tool call running")
        : Effect.logWarning(`shutting down: ${left} tool call(s) still running after MCP_SHUTDOWN_GRACE are interrupted`)
    })))
    return yield* Fiber.join(serving).pipe(Effect.onInterrupt(() => Effect.zipRight(Deferred.succeed(stop, undefined), Fiber.await(serving))))
  })

/** The HTTP server on `settings.host:settings.port` (port 0 picks a free one), with its sessions. Needs McpServer and AppConfig. */
export const httpServerLayer = (settings: Pick<AppSettings, "host" | "port">) => {
  let server: Server | undefined
  // Released after the sessions (their streams ended), before the server closes: a client that
  // reconnects meanwhile reaches no handler any more, and Node would wait for its connection.
  const cutConnections = Layer.scopedDiscard(Effect.addFinalizer(() => Effect.sync(() => server?.closeAllConnections())))
  // No span per HTTP request: attributes for every header and a parsed URL cost more than a quick call.
  // MCP requests have spans of their own (mcp.<method>; a 2026-07-28 one parented by its traceparent).
  return HttpServer.serve(httpApp).pipe(
    HttpMiddleware.withTracerDisabledWhen(() => true),
    HttpServer.withLogAddress,
    Layer.provideMerge(Layer.mergeAll(SessionStoreLive, RequestBodies.layer, AccessTokens.layer)),
    Layer.provideMerge(cutConnections),
    Layer.provideMerge(NodeHttpServer.layer(() => (server = nodeServer()), { host: settings.host, port: settings.port }))
  )
}
