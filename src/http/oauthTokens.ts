import { FetchHttpClient, HttpClient, HttpClientResponse } from "@effect/platform"
import { Clock, Context, Duration, Effect, Layer, Option, Schema, SynchronizedRef } from "effect"
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from "jose"
import { AppConfig, type OAuthSettings, secureOrLoopback } from "../config.js"

/** What a verified access token grants: whom it acts for and its scopes. */
export interface AccessGrant {
  readonly subject: string
  readonly scopes: ReadonlySet<string>
}

/** The token is not one this resource server accepts (401 `invalid_token`); `reason` never holds the token. */
export class InvalidAccessToken extends Schema.TaggedError<InvalidAccessToken>()("InvalidAccessToken", {
  reason: Schema.String
}) {}

/** The issuer's metadata or keys could not be read: no token can be checked now (503). */
export class AuthorizationServerUnavailable extends Schema.TaggedError<AuthorizationServerUnavailable>()("AuthorizationServerUnavailable", {
  issuer: Schema.String,
  reason: Schema.String
}) {}

/** Signatures by the issuer's public keys only: `none` and shared-secret HS* are never accepted. */
export const acceptedAlgorithms = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519"]

const ServerMetadata = Schema.Struct({ issuer: Schema.String, jwks_uri: Schema.String })

/** RFC 8414's address (well-known inserted before the issuer's path), then OpenID Connect's (appended). */
export const metadataAddresses = (issuer: string): ReadonlyArray<string> => {
  const url = new URL(issuer)
  const path = url.pathname.replace(/\/+$/, "")
  return [`${url.origin}/.well-known/oauth-authorization-server${path}`, `${url.origin}${path}/.well-known/openid-configuration`]
}

/** The token's scopes for this server: with a prefix (Cognito's `<identifier>/`), only those carrying it, without it. */
export const scopesOf = (payload: JWTPayload, prefix: string): ReadonlySet<string> => {
  const scope = payload["scope"]
  const scp = payload["scp"]
  const named = typeof scope === "string" ? scope.split(" ") : Array.isArray(scp) ? scp.filter((s): s is string => typeof s === "string") : []
  return new Set(named.filter((s) => s !== "" && s.startsWith(prefix) && s.length > prefix.length).map((s) => s.slice(prefix.length)))
}

/**
 * The token names this resource: `aud` lists it, or (no `aud` at all) `client_id` is one of the
 * clients allowed to present audience-less tokens. A Cognito ID token (`token_use: id`, `aud` its
 * client) is never an access token.
 */
const audienceProblem = (payload: JWTPayload, oauth: OAuthSettings): string | undefined => {
  const use = payload["token_use"]
  if (use !== undefined && use !== "access") return `"token_use" is ${JSON.stringify(use)}, not "access"`
  if (payload.aud !== undefined) {
    const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud]
    return audiences.includes(oauth.audience) ? undefined : `unexpected "aud" claim value`
  }
  const client = payload["client_id"]
  if (typeof client === "string" && oauth.clientIds.includes(client)) return undefined
  return oauth.clientIds.length === 0
    ? `missing required "aud" claim`
    : `no "aud" claim, and "client_id" is not one of MCP_OAUTH_CLIENT_IDS`
}

/** jose's failures: a bad token is the client's; a key set that cannot be fetched is the issuer's. */
const refusal = (issuer: string) => (error: unknown): InvalidAccessToken | AuthorizationServerUnavailable =>
  error instanceof errors.JOSEError && !(error instanceof errors.JWKSTimeout) && !(error instanceof errors.JWKSInvalid)
    ? new InvalidAccessToken({ reason: error.message })
    : new AuthorizationServerUnavailable({ issuer, reason: error instanceof Error ? error.message : String(error) })

/** Checks OAuth access tokens (JWTs) for this resource server: signature, issuer, audience, expiry. */
export class AccessTokens extends Context.Tag("estat-mcp/AccessTokens")<AccessTokens, {
  readonly verify: (token: string) => Effect.Effect<AccessGrant, InvalidAccessToken | AuthorizationServerUnavailable>
}>() {
  /**
   * `jwksCooldown`: after fetching the key set, how long an unknown `kid` is refused before it is
   * fetched again (jose's guard against a flood of made-up kids forcing fetches).
   */
  static readonly layerWith = (options: { readonly jwksCooldown: Duration.DurationInput }) =>
    Layer.effect(AccessTokens, Effect.gen(function* () {
      const config = yield* AppConfig
      const client = (yield* HttpClient.HttpClient).pipe(HttpClient.filterStatusOk)
      // Discovered once, when the first token arrives: an issuer down at start does not stop the server.
      const keySet = yield* SynchronizedRef.make(Option.none<JWTVerifyGetKey>())

      const discover = (oauth: OAuthSettings) =>
        Effect.firstSuccessOf(metadataAddresses(oauth.issuer).map((address) =>
          client.get(address).pipe(Effect.flatMap(HttpClientResponse.schemaBodyJson(ServerMetadata)), Effect.scoped)
        )).pipe(
          Effect.timeout(Duration.seconds(10)),
          Effect.mapError((error) => new AuthorizationServerUnavailable({ issuer: oauth.issuer, reason: `metadata: ${error.message}` })),
          Effect.filterOrFail(
            (metadata) => metadata.issuer === oauth.issuer && secureOrLoopback(metadata.jwks_uri),
            () => new AuthorizationServerUnavailable({ issuer: oauth.issuer, reason: "metadata names another issuer or an insecure jwks_uri" })
          ),
          Effect.map((metadata) => createRemoteJWKSet(new URL(metadata.jwks_uri), { cooldownDuration: Duration.toMillis(options.jwksCooldown) })),
          Effect.withSpan("AccessTokens.discover")
        )

      const keysOf = (oauth: OAuthSettings) =>
        SynchronizedRef.modifyEffect(keySet, Option.match({
          onSome: (keys) => Effect.succeed([keys, Option.some(keys)] as const),
          onNone: () => Effect.map(discover(oauth), (keys) => [keys, Option.some(keys)] as const)
        }))

      const verify = (token: string) =>
        Effect.gen(function* () {
          if (Option.isNone(config.oauth)) return yield* new InvalidAccessToken({ reason: "OAuth is not configured (MCP_AUTH_MODE)" })
          const oauth = config.oauth.value
          const keys = yield* keysOf(oauth)
          const now = yield* Clock.currentTimeMillis
          const { payload } = yield* Effect.tryPromise({
            try: () => jwtVerify(token, keys, {
              issuer: oauth.issuer,
              algorithms: acceptedAlgorithms,
              requiredClaims: ["sub", "exp"],
              currentDate: new Date(now)
            }),
            catch: refusal(oauth.issuer)
          })
          // Sessions and logs key on the subject: an empty one names nobody.
          if (payload.sub === undefined || payload.sub === "") return yield* new InvalidAccessToken({ reason: 'empty "sub" claim' })
          const wrongAudience = audienceProblem(payload, oauth)
          if (wrongAudience !== undefined) return yield* new InvalidAccessToken({ reason: wrongAudience })
          return { subject: payload.sub, scopes: scopesOf(payload, oauth.scopePrefix) }
        }).pipe(Effect.withSpan("AccessTokens.verify"))
      return { verify }
    })).pipe(Layer.provide(FetchHttpClient.layer))

  static readonly layer = AccessTokens.layerWith({ jwksCooldown: Duration.seconds(30) })
}
