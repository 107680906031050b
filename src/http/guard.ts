import { HttpMiddleware, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { Context, Effect, Option } from "effect"
import { AppConfig } from "../config.js"
import { currentSubject } from "../mcp/session.js"
import { authorize, currentScopes, metadataPaths, metadataResponse } from "./oauthResource.js"
import { answerFailures, Forbidden, Unauthorized } from "./httpFailures.js"
import { authRequired, corsHeaders, hostAllowed, originAllowed } from "./security.js"

/** The request target without its query: exactly as sent, never decoded or normalised. */
export const pathOf = (url: string) => {
  const query = url.indexOf("?")
  return query < 0 ? url : url.slice(0, query)
}

/**
 * The only paths answered without the bearer token, compared with the path exactly as sent:
 * every other path, and every other spelling of these (`/HEALTH`, `/health/`, `/%68ealth`), is
 * protected. Failing closed means no spelling a router might match can skip the token.
 */
const publicPaths: ReadonlySet<string> = new Set(["/health", "/ready"])

/**
 * Runs once per request, before routing, whatever the path: DNS-rebinding and Origin checks
 * (403), CORS for allow-listed browser origins, preflights (204, they never carry credentials),
 * and the bearer token on everything but the public paths (401 with WWW-Authenticate): the shared
 * MCP_AUTH_TOKEN, or in OAuth mode an access token, whose subject the request then runs as (its
 * sessions are bound to it, its logs name it) and whose metadata documents are public.
 */
export const guard = HttpMiddleware.make((app) =>
  // The request and the settings in one step: the guard runs for every request, quick calls included.
  Effect.contextWithEffect((context: Context.Context<HttpServerRequest.HttpServerRequest | AppConfig>) => {
    const request = Context.get(context, HttpServerRequest.HttpServerRequest)
    const config = Context.get(context, AppConfig)
    const origin = request.headers["origin"]
    if (!hostAllowed(request.headers["host"], config.host)) {
      return Effect.fail(new Forbidden({ reason: "Host header is not allowed (DNS rebinding protection)" }))
    }
    if (origin !== undefined && !originAllowed(origin, config.allowedOrigins)) {
      return Effect.fail(new Forbidden({ reason: `Origin ${origin} is not allowed; add it to MCP_ALLOWED_ORIGINS` }))
    }
    const cors = origin === undefined ? undefined : corsHeaders(origin)
    const withCors = <E, R>(response: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>) =>
      cors === undefined ? response : Effect.map(response, (answer) => HttpServerResponse.setHeaders(answer, cors))
    if (request.method === "OPTIONS") return Effect.succeed(HttpServerResponse.empty({ status: 204, headers: cors ?? {} }))
    const path = pathOf(request.url)
    if (Option.isSome(config.oauth)) {
      const oauth = config.oauth.value
      if (request.method === "GET" && metadataPaths.has(path)) return Effect.succeed(metadataResponse(oauth, cors ?? {}))
      if (publicPaths.has(path)) return withCors(app)
      return withCors(Effect.flatMap(authorize(request, oauth, cors ?? {}), (grant) =>
        app.pipe(
          Effect.locally(currentSubject, Option.some(grant.subject)),
          Effect.locally(currentScopes, Option.some(grant.scopes)),
          Effect.annotateLogs("subject", grant.subject)
        )))
    }
    if (!publicPaths.has(path) && authRequired(config.authToken, request.headers["authorization"])) {
      return Effect.fail(new Unauthorized({ reason: "send Authorization: Bearer <MCP_AUTH_TOKEN>", challenge: 'Bearer realm="estat-mcp"', cors: cors ?? {} }))
    }
    return withCors(app)
  }).pipe(answerFailures)
)
