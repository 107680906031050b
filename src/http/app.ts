import { HttpRouter, HttpServerRequest, type HttpServerResponse } from "@effect/platform"
import { Effect } from "effect"
import { guard, pathOf } from "./guard.js"
import { health, ready } from "./health.js"
import * as LegacySse from "./legacySse.js"
import { closeUnreadBodies } from "./requestBody.js"
import { answerFailures, PathNotFound } from "./httpFailures.js"
import * as StreamableHttp from "./streamableHttp.js"

/** The routes, by method and path exactly as sent (its query aside). */
const routeOf = (method: string, path: string) => {
  switch (`${method} ${path}`) {
    case "GET /health": return health
    case "GET /ready": return ready
    case "POST /mcp": return StreamableHttp.post
    case "GET /mcp": return StreamableHttp.get
    case "DELETE /mcp": return StreamableHttp.del
    case "GET /sse": return LegacySse.openStream
    case "POST /messages": return LegacySse.postMessage
    default: return undefined
  }
}

/**
 * Routing on exact paths only, by a lookup (no router: a pattern matcher and a route context cost
 * more than the quick call they route). Any other spelling of a route (case, trailing or doubled
 * slashes, `;params`, percent-encoding, dot segments, backslashes, look-alike letters) is 404, so
 * what the guard decided about a path is what is served.
 */
type Route = NonNullable<ReturnType<typeof routeOf>>

const routed = Effect.flatMap(
  HttpServerRequest.HttpServerRequest,
  (request): Effect.Effect<HttpServerResponse.HttpServerResponse, Effect.Effect.Error<Route> | PathNotFound, Effect.Effect.Context<Route>> =>
    routeOf(request.method, pathOf(request.url)) ?? Effect.fail(new PathNotFound())
).pipe(
  // The platform runs an app uninterruptibly; a route is interruptible, as HttpRouter makes it: a
  // client that goes away interrupts it, and a body read can be cut at its deadline.
  Effect.interruptible,
  // Answered here, inside the guard, so that refusals carry the CORS headers the guard adds.
  answerFailures
)

/** The whole server: the guard runs once per request, before routing, for every path. */
export const httpApp = routed.pipe(guard, closeUnreadBodies)

/**
 * The server as one catch-all route, to mount under a prefix of another router
 * (`HttpRouter.mount("/estat", router)`): every request below the prefix, whatever its
 * spelling, reaches the guard before any of our routes.
 */
export const router = HttpRouter.empty.pipe(HttpRouter.all("/*", httpApp))
