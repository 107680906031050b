import { HttpRouter, HttpServerResponse } from "@effect/platform"
import { Effect } from "effect"
import { guard } from "./guard.js"
import { health, ready } from "./health.js"
import * as LegacySse from "./legacySse.js"
import { httpError, TransportCode } from "./rpcResponses.js"
import * as StreamableHttp from "./streamableHttp.js"

/**
 * All routes of the server, each behind the guard: mount it in another HttpRouter to embed the
 * MCP endpoint. The guard runs per route so that it sees the path below the mount prefix.
 */
export const router = HttpRouter.empty.pipe(
  HttpRouter.get("/health", health),
  HttpRouter.get("/ready", ready),
  HttpRouter.post("/mcp", StreamableHttp.post),
  HttpRouter.get("/mcp", StreamableHttp.get),
  HttpRouter.del("/mcp", StreamableHttp.del),
  HttpRouter.get("/sse", LegacySse.openStream),
  HttpRouter.post("/messages", LegacySse.postMessage),
  HttpRouter.options("*", Effect.succeed(HttpServerResponse.empty({ status: 204 }))),
  HttpRouter.use(guard)
)

export const httpApp = router.pipe(
  Effect.catchTag("RouteNotFound", () =>
    Effect.succeed(httpError(404, TransportCode.BadRequest, "Not Found: the MCP endpoint is /mcp (legacy: /sse)"))
  )
)
