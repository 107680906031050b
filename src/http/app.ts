import { HttpRouter, HttpServerRequest } from "@effect/platform"
import { Chunk, Effect } from "effect"
import { guard, pathOf } from "./guard.js"
import { health, ready } from "./health.js"
import * as LegacySse from "./legacySse.js"
import { closeUnreadBodies } from "./requestBody.js"
import { answerFailures, PathNotFound } from "./httpFailures.js"
import * as StreamableHttp from "./streamableHttp.js"

const routes = HttpRouter.empty.pipe(
  HttpRouter.get("/health", health),
  HttpRouter.get("/ready", ready),
  HttpRouter.post("/mcp", StreamableHttp.post),
  HttpRouter.get("/mcp", StreamableHttp.get),
  HttpRouter.del("/mcp", StreamableHttp.del),
  HttpRouter.get("/sse", LegacySse.openStream),
  HttpRouter.post("/messages", LegacySse.postMessage)
)

/** The paths above, as written: the router sees no other. */
const canonicalPaths: ReadonlySet<string> = new Set(Chunk.toReadonlyArray(routes.routes).map((route) => route.path))


/**
 * Routing on exact paths only. Any other spelling of a route (case, trailing or doubled slashes,
 * `;params`, percent-encoding, dot segments, backslashes, look-alike letters) is 404, so what the
 * guard decided about a path is what the router serves.
 */
const routed = Effect.gen(function* () {
  const request = yield* HttpServerRequest.HttpServerRequest
  if (!canonicalPaths.has(pathOf(request.url))) return yield* new PathNotFound()
  return yield* routes
}).pipe(
  Effect.catchTag("RouteNotFound", () => new PathNotFound()),
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
