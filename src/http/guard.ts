import { HttpMiddleware, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { Effect } from "effect"
import { AppConfig } from "../config.js"
import { httpError, TransportCode } from "./rpcResponses.js"
import { authRequired, corsHeaders, hostAllowed, originAllowed } from "./security.js"

const protectedPath = (url: string) => {
  const path = url.split("?")[0] ?? ""
  return path === "/mcp" || path === "/sse" || path === "/messages"
}

/**
 * Every request: DNS-rebinding and Origin checks (403), CORS for allow-listed browser origins,
 * preflights, and the bearer token on the MCP endpoints (401 with WWW-Authenticate).
 */
export const guard = HttpMiddleware.make((app) =>
  Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    const config = yield* AppConfig
    const origin = request.headers["origin"]
    if (!hostAllowed(request.headers["host"], config.host)) {
      return httpError(403, TransportCode.BadRequest, "Forbidden: Host header is not allowed (DNS rebinding protection)")
    }
    if (origin !== undefined && !originAllowed(origin, config.allowedOrigins)) {
      return httpError(403, TransportCode.BadRequest, `Forbidden: Origin ${origin} is not allowed; add it to MCP_ALLOWED_ORIGINS`)
    }
    const cors = origin === undefined ? {} : corsHeaders(origin)
    if (request.method === "OPTIONS") return HttpServerResponse.empty({ status: 204, headers: cors })
    if (protectedPath(request.url) && authRequired(config.authToken, request.headers["authorization"])) {
      return httpError(401, TransportCode.BadRequest, "Unauthorized: send Authorization: Bearer <MCP_AUTH_TOKEN>", {
        ...cors,
        "www-authenticate": 'Bearer realm="estat-mcp"'
      })
    }
    const response = yield* app
    return HttpServerResponse.setHeaders(response, cors)
  })
)
