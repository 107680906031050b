import { type HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { Duration, Effect, FiberRef, Option } from "effect"
import { AppConfig, type OAuthSettings } from "../config.js"
import { type McpRequest, toolNameOf } from "../mcp/incoming.js"
import { Forbidden, Unauthorized, Unavailable } from "./httpFailures.js"
import { AccessTokens } from "./oauthTokens.js"

/**
 * MCP_AUTH_MODE=oauth: the server as an OAuth 2.1 resource server (MCP authorization spec,
 * RFC 9728 metadata, RFC 6750 challenges).
 */

export const Scope = { read: "estat:read", write: "estat:write" } as const

/** What every request to a protected path needs. */
const REQUIRED_SCOPE = Scope.read

/** A scope as the authorization server names it (clients ask for these), e.g. Cognito's `<identifier>/estat:read`. */
export const issuedScope = (oauth: OAuthSettings, scope: string) => `${oauth.scopePrefix}${scope}`

/**
 * Tools that write to the lake or to files: `estat:write` on top. The fetch tools store their run
 * too, but that is their cache, part of reading a table.
 */
export const writingTools: ReadonlySet<string> = new Set(["load_to_iceberg", "save_dataset_as_csv", "transform_to_parquet"])

/** The scopes of the request's access token (set by the guard); none when no OAuth token is checked. */
export const currentScopes = FiberRef.unsafeMake<Option.Option<ReadonlySet<string>>>(Option.none())

const METADATA_PATH = "/.well-known/oauth-protected-resource"

/** The metadata's addresses: at the root, and under the MCP path as RFC 9728 §3.1 derives it for `/mcp`. */
export const metadataPaths: ReadonlySet<string> = new Set([METADATA_PATH, `${METADATA_PATH}/mcp`])

/** RFC 9728 Protected Resource Metadata. */
export const protectedResourceMetadata = (oauth: OAuthSettings) => ({
  resource: oauth.audience,
  authorization_servers: [oauth.issuer],
  scopes_supported: [issuedScope(oauth, Scope.read), issuedScope(oauth, Scope.write)],
  bearer_methods_supported: ["header"],
  resource_name: "estat-mcp"
})

/** RFC 6750 allows no `"` or `\` in a parameter: replaced, not escaped. */
const quoted = (value: string) => `"${value.replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, "'")}"`

/** `WWW-Authenticate` pointing the client at the metadata, with the RFC 6750 error when there is one. */
export const challenge = (
  oauth: OAuthSettings,
  error?: { readonly code: "invalid_token" | "insufficient_scope"; readonly description: string },
  scopes: ReadonlyArray<string> = [REQUIRED_SCOPE]
) =>
  [
    "Bearer " + `resource_metadata=${quoted(`${oauth.publicUrl}${METADATA_PATH}`)}`,
    `scope=${quoted(scopes.map((scope) => issuedScope(oauth, scope)).join(" "))}`,
    ...(error === undefined ? [] : [`error=${quoted(error.code)}`, `error_description=${quoted(error.description)}`])
  ].join(", ")

const bearerOf = (authorization: string | undefined) => /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "")?.[1]

/** The request's grant; refused 401 without a valid token, 403 without the scope, 503 when keys cannot be read. */
export const authorize = (request: HttpServerRequest.HttpServerRequest, oauth: OAuthSettings, cors: Record<string, string>) =>
  Effect.gen(function* () {
    const tokens = yield* AccessTokens
    const token = bearerOf(request.headers["authorization"])
    if (token === undefined) {
      return yield* new Unauthorized({ reason: "send an OAuth access token (Authorization: Bearer)", challenge: challenge(oauth), cors })
    }
    const grant = yield* tokens.verify(token).pipe(
      Effect.catchTags({
        InvalidAccessToken: (error) =>
          Effect.zipRight(
            Effect.logInfo("access token refused", { reason: error.reason }),
            new Unauthorized({
              reason: `invalid access token (${error.reason})`,
              challenge: challenge(oauth, { code: "invalid_token", description: error.reason }),
              cors
            })
          ),
        AuthorizationServerUnavailable: (error) =>
          Effect.zipRight(
            Effect.logWarning("authorization server unavailable", { issuer: error.issuer, reason: error.reason }),
            new Unavailable({ reason: "the authorization server's keys cannot be read", retryAfter: Duration.seconds(5), cors })
          )
      })
    )
    if (!grant.scopes.has(REQUIRED_SCOPE)) {
      return yield* new Forbidden({
        reason: `the access token lacks the scope ${issuedScope(oauth, REQUIRED_SCOPE)}`,
        challenge: challenge(oauth, { code: "insufficient_scope", description: `needs ${issuedScope(oauth, REQUIRED_SCOPE)}` }),
        cors
      })
    }
    return grant
  })

export const metadataResponse = (oauth: OAuthSettings, cors: Record<string, string>) =>
  HttpServerResponse.unsafeJson(protectedResourceMetadata(oauth), { headers: { ...cors, "cache-control": "max-age=3600" } })

/**
 * Refused 403 `insufficient_scope` when the request's token may not make one of these calls (a writing
 * tool without `estat:write`), naming every scope a new token needs so the client can step up.
 */
export const refuseScope = (requests: ReadonlyArray<McpRequest>) =>
  // Scopes are set only in OAuth mode: without them (or with the write scope) there is nothing to refuse.
  Effect.flatMap(FiberRef.get(currentScopes), (scopes) =>
    Option.isNone(scopes) || scopes.value.has(Scope.write) ? Effect.void : Effect.gen(function* () {
      const oauth = (yield* AppConfig).oauth
      if (Option.isNone(oauth)) return
      const tool = requests.map(toolNameOf).find((name) => name !== undefined && writingTools.has(name))
      if (tool === undefined) return
      const write = issuedScope(oauth.value, Scope.write)
      return yield* new Forbidden({
        reason: `${tool} needs the scope ${write}`,
        challenge: challenge(oauth.value, { code: "insufficient_scope", description: `${tool} needs ${write}` }, [Scope.read, Scope.write])
      })
    }))
