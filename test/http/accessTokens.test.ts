import { Effect, Exit, Layer, Option, TestClock } from "effect"
import { describe, expect, it } from "@effect/vitest"
import { configLayer, defaultSettings } from "../../src/config.js"
import { AccessTokens } from "../../src/http/oauthTokens.js"
import { type LocalIssuer, makeKey, startIssuer } from "./localIssuer.js"

/** AccessTokens against a local issuer, on the TestClock: every refusal is InvalidAccessToken with jose's reason. */

const NOW = 1_800_000_000 // seconds
const AUDIENCE = "https://mcp.example.test/mcp"

const withIssuer = (metadataAt?: "oauth-authorization-server" | "openid-configuration") =>
  Effect.acquireRelease(Effect.promise(() => startIssuer(metadataAt)), (issuer) => Effect.promise(issuer.close))

const tokensOf = (issuer: LocalIssuer, cognito: { readonly scopePrefix: string; readonly clientIds: ReadonlyArray<string> } = { scopePrefix: "", clientIds: [] }) =>
  AccessTokens.layerWith({ jwksCooldown: 0 }).pipe(Layer.provide(configLayer({
    ...defaultSettings,
    oauth: Option.some({ issuer: issuer.issuer, audience: AUDIENCE, publicUrl: "https://mcp.example.test", ...cognito })
  })))

const claims = (issuer: LocalIssuer, overrides: Record<string, unknown> = {}) => ({
  iss: issuer.issuer,
  aud: AUDIENCE,
  sub: "user-1",
  scope: "estat:read estat:write",
  iat: NOW,
  exp: NOW + 300,
  ...overrides
})

/** The reason a token is refused, or "accepted". */
const verdict = (token: string) =>
  Effect.flatMap(AccessTokens, (tokens) => tokens.verify(token)).pipe(
    Effect.exit,
    Effect.map(Exit.match({
      onSuccess: () => "accepted",
      onFailure: (cause) => (cause._tag === "Fail" ? `${cause.error._tag}: ${cause.error.reason}` : "defect")
    }))
  )

const atNow = TestClock.setTime(NOW * 1000)

describe("AccessTokens", () => {
  it.scoped("accepts a valid token: its subject and scopes (scope string or scp array)", () =>
    Effect.gen(function* () {
      yield* atNow
      const issuer = yield* withIssuer()
      const grant = yield* Effect.flatMap(AccessTokens, (t) => Effect.flatMap(Effect.promise(() => issuer.sign(claims(issuer))), t.verify)).pipe(
        Effect.provide(tokensOf(issuer))
      )
      expect(grant.subject).toBe("user-1")
      expect([...grant.scopes]).toEqual(["estat:read", "estat:write"])
      const scp = yield* Effect.flatMap(AccessTokens, (t) =>
        Effect.flatMap(Effect.promise(() => issuer.sign(claims(issuer, { scope: undefined, scp: ["estat:read"] }))), t.verify)
      ).pipe(Effect.provide(tokensOf(issuer)))
      expect([...scp.scopes]).toEqual(["estat:read"])
    }))

  it.scoped("refuses expired, wrong-audience, wrong-issuer, wrong-signature, alg none, HS256 and subject-less tokens", () =>
    Effect.gen(function* () {
      yield* atNow
      const issuer = yield* withIssuer()
      const stranger = yield* Effect.promise(() => makeKey("key-1"))
      const sign = (overrides: Record<string, unknown>) => Effect.promise(() => issuer.sign(claims(issuer, overrides)))
      const verdicts = yield* Effect.all({
        valid: Effect.flatMap(sign({}), verdict),
        expired: Effect.flatMap(sign({ iat: NOW - 600, exp: NOW - 1 }), verdict),
        notYet: Effect.flatMap(sign({ nbf: NOW + 60 }), verdict),
        noExpiry: Effect.flatMap(sign({ exp: undefined }), verdict),
        otherAudience: Effect.flatMap(sign({ aud: "https://other.example.test/mcp" }), verdict),
        noAudience: Effect.flatMap(sign({ aud: undefined, client_id: "cognito-client" }), verdict),
        otherIssuer: Effect.flatMap(sign({ iss: "https://evil.example.test" }), verdict),
        noSubject: Effect.flatMap(sign({ sub: undefined }), verdict),
        emptySubject: Effect.flatMap(sign({ sub: "" }), verdict),
        otherKey: Effect.flatMap(Effect.promise(() => issuer.sign(claims(issuer), stranger)), verdict),
        none: verdict(issuer.unsigned(claims(issuer))),
        hs256: Effect.flatMap(Effect.promise(() => issuer.signedWithPublicKeyAsSecret(claims(issuer))), verdict),
        garbage: verdict("not.a.jwt")
      }).pipe(Effect.provide(tokensOf(issuer)))
      expect(verdicts).toEqual({
        valid: "accepted",
        expired: 'InvalidAccessToken: "exp" claim timestamp check failed',
        notYet: 'InvalidAccessToken: "nbf" claim timestamp check failed',
        noExpiry: 'InvalidAccessToken: missing required "exp" claim',
        otherAudience: 'InvalidAccessToken: unexpected "aud" claim value',
        noAudience: 'InvalidAccessToken: missing required "aud" claim',
        otherIssuer: 'InvalidAccessToken: unexpected "iss" claim value',
        noSubject: 'InvalidAccessToken: missing required "sub" claim',
        emptySubject: 'InvalidAccessToken: empty "sub" claim',
        otherKey: "InvalidAccessToken: signature verification failed",
        none: 'InvalidAccessToken: "alg" (Algorithm) Header Parameter value not allowed',
        hs256: 'InvalidAccessToken: "alg" (Algorithm) Header Parameter value not allowed',
        garbage: "InvalidAccessToken: JWS Protected Header is invalid"
      })
    }))

  it.scoped("Cognito's shape: prefixed scopes count without their prefix, audience-less tokens only from the listed clients, never an ID token", () =>
    Effect.gen(function* () {
      yield* atNow
      const issuer = yield* withIssuer("openid-configuration")
      const prefix = "https://mcp.example.test/mcp/"
      const sign = (overrides: Record<string, unknown>) => Effect.promise(() => issuer.sign(claims(issuer, overrides)))
      const cognito = tokensOf(issuer, { scopePrefix: prefix, clientIds: ["client-a"] })
      const scopesOf = (overrides: Record<string, unknown>) =>
        Effect.flatMap(AccessTokens, (tokens) => Effect.flatMap(sign(overrides), tokens.verify)).pipe(Effect.map((grant) => [...grant.scopes]))
      const scopes = yield* Effect.all({
        prefixed: scopesOf({ scope: `${prefix}estat:read ${prefix}estat:write openid` }),
        bare: scopesOf({ scope: "estat:read estat:write" }),
        otherServer: scopesOf({ scope: "https://other.example.test/estat:read" }),
        prefixAlone: scopesOf({ scope: prefix })
      }).pipe(Effect.provide(cognito))
      expect(scopes).toEqual({ prefixed: ["estat:read", "estat:write"], bare: [], otherServer: [], prefixAlone: [] })

      const verdicts = yield* Effect.all({
        listedClient: Effect.flatMap(sign({ aud: undefined, client_id: "client-a", token_use: "access" }), verdict),
        otherClient: Effect.flatMap(sign({ aud: undefined, client_id: "client-b", token_use: "access" }), verdict),
        noClient: Effect.flatMap(sign({ aud: undefined }), verdict),
        boundResource: Effect.flatMap(sign({ client_id: "client-b", token_use: "access" }), verdict),
        otherResource: Effect.flatMap(sign({ aud: "https://other.example.test", client_id: "client-a" }), verdict),
        idToken: Effect.flatMap(sign({ aud: "client-a", token_use: "id" }), verdict),
        idTokenOfResource: Effect.flatMap(sign({ token_use: "id" }), verdict),
        clientAsList: Effect.flatMap(sign({ aud: undefined, client_id: ["client-a"] }), verdict),
        emptyAudience: Effect.flatMap(sign({ aud: [], client_id: "client-a" }), verdict)
      }).pipe(Effect.provide(cognito))
      expect(verdicts).toEqual({
        listedClient: "accepted",
        otherClient: 'InvalidAccessToken: no "aud" claim, and "client_id" is not one of MCP_OAUTH_CLIENT_IDS',
        noClient: 'InvalidAccessToken: no "aud" claim, and "client_id" is not one of MCP_OAUTH_CLIENT_IDS',
        boundResource: "accepted",
        otherResource: 'InvalidAccessToken: unexpected "aud" claim value',
        idToken: 'InvalidAccessToken: "token_use" is "id", not "access"',
        idTokenOfResource: 'InvalidAccessToken: "token_use" is "id", not "access"',
        // Look-alikes of a listed client: a list holding it, an empty audience beside it.
        clientAsList: 'InvalidAccessToken: no "aud" claim, and "client_id" is not one of MCP_OAUTH_CLIENT_IDS',
        emptyAudience: 'InvalidAccessToken: unexpected "aud" claim value'
      })
    }))

  it.scoped("a token that was valid expires on the clock", () =>
    Effect.gen(function* () {
      yield* atNow
      const issuer = yield* withIssuer()
      const token = yield* Effect.promise(() => issuer.sign(claims(issuer)))
      const [before, after] = yield* Effect.zip(verdict(token), Effect.zipRight(TestClock.adjust("301 seconds"), verdict(token))).pipe(
        Effect.provide(tokensOf(issuer))
      )
      expect(before).toBe("accepted")
      expect(after).toBe('InvalidAccessToken: "exp" claim timestamp check failed')
    }))

  it.scoped("keys rotate: a kid published after the first fetch is fetched, known kids are not refetched", () =>
    Effect.gen(function* () {
      yield* atNow
      const issuer = yield* withIssuer()
      const next = yield* Effect.promise(() => makeKey("key-2"))
      const result = yield* Effect.gen(function* () {
        const first = yield* verdict(yield* Effect.promise(() => issuer.sign(claims(issuer))))
        const again = yield* verdict(yield* Effect.promise(() => issuer.sign(claims(issuer))))
        const fetchesBefore = issuer.jwksFetches()
        issuer.publish(next)
        const rotated = yield* verdict(yield* Effect.promise(() => issuer.sign(claims(issuer), next)))
        return { first, again, fetchesBefore, rotated, fetchesAfter: issuer.jwksFetches() }
      }).pipe(Effect.provide(tokensOf(issuer)))
      expect(result).toEqual({ first: "accepted", again: "accepted", fetchesBefore: 1, rotated: "accepted", fetchesAfter: 2 })
    }))

  it.scoped("discovery falls back to openid-configuration (Cognito serves only that)", () =>
    Effect.gen(function* () {
      yield* atNow
      const issuer = yield* withIssuer("openid-configuration")
      const token = yield* Effect.promise(() => issuer.sign(claims(issuer)))
      expect(yield* verdict(token).pipe(Effect.provide(tokensOf(issuer)))).toBe("accepted")
    }))

  it.scoped("an issuer that cannot be reached is AuthorizationServerUnavailable, not an invalid token", () =>
    Effect.gen(function* () {
      yield* atNow
      const issuer = yield* withIssuer()
      const token = yield* Effect.promise(() => issuer.sign(claims(issuer)))
      yield* Effect.promise(issuer.close)
      const result = yield* verdict(token).pipe(Effect.provide(tokensOf(issuer)))
      expect(result).toMatch(/^AuthorizationServerUnavailable: metadata: /)
    }))
})
