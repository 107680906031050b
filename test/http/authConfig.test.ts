import { ConfigProvider, Effect, Either, Option, Redacted } from "effect"
import { describe, expect, it } from "@effect/vitest"
import { appSettingsConfig } from "../../src/config.js"

/** MCP_AUTH_MODE and its settings: what each combination reads as, and the ones refused with the variable named. */

const read = (env: Record<string, string>) =>
  Effect.withConfigProvider(appSettingsConfig, ConfigProvider.fromMap(new Map(Object.entries(env)))).pipe(
    Effect.map((settings) => ({ token: Option.map(settings.authToken, Redacted.value), oauth: settings.oauth })),
    Effect.either
  )

const refusal = (env: Record<string, string>) =>
  Effect.map(read(env), Either.match({ onLeft: (error) => String(error), onRight: () => "accepted" }))

const ISSUER = "https://cognito-idp.ap-northeast-1.amazonaws.com/ap-northeast-1_abc"

describe("MCP_AUTH_MODE", () => {
  it.effect("defaults to token when MCP_AUTH_TOKEN is set, else none (as before)", () =>
    Effect.gen(function* () {
      expect(yield* read({})).toEqual(Either.right({ token: Option.none(), oauth: Option.none() }))
      expect(yield* read({ MCP_AUTH_TOKEN: "t" })).toEqual(Either.right({ token: Option.some("t"), oauth: Option.none() }))
      expect(yield* read({ MCP_AUTH_MODE: "token", MCP_AUTH_TOKEN: "t" })).toEqual(Either.right({ token: Option.some("t"), oauth: Option.none() }))
    }))

  it.effect("oauth: the audience defaults to MCP_PUBLIC_URL + /mcp; an http issuer only on loopback", () =>
    Effect.gen(function* () {
      expect(yield* read({ MCP_AUTH_MODE: "oauth", MCP_OAUTH_ISSUER: ISSUER, MCP_PUBLIC_URL: "https://mcp.example.com/" })).toEqual(
        Either.right({ token: Option.none(), oauth: Option.some({ issuer: ISSUER, audience: "https://mcp.example.com/mcp", publicUrl: "https://mcp.example.com", scopePrefix: "", clientIds: [] }) })
      )
      const local = yield* read({
        MCP_AUTH_MODE: "oauth",
        MCP_OAUTH_ISSUER: "http://127.0.0.1:9000",
        MCP_OAUTH_AUDIENCE: "urn:estat",
        MCP_PUBLIC_URL: "http://localhost:8080"
      })
      expect(local).toEqual(Either.right({
        token: Option.none(),
        oauth: Option.some({ issuer: "http://127.0.0.1:9000", audience: "urn:estat", publicUrl: "http://localhost:8080", scopePrefix: "", clientIds: [] })
      }))
    }))

  it.effect("oauth with Cognito: a scope prefix and the app clients whose tokens may lack aud (comma-separated)", () =>
    Effect.gen(function* () {
      const cognito = yield* read({
        MCP_AUTH_MODE: "oauth",
        MCP_OAUTH_ISSUER: ISSUER,
        MCP_PUBLIC_URL: "https://mcp.example.com",
        MCP_OAUTH_SCOPE_PREFIX: "https://mcp.example.com/mcp/",
        MCP_OAUTH_CLIENT_IDS: " client-a, client-b ,,"
      })
      expect(cognito).toEqual(Either.right({
        token: Option.none(),
        oauth: Option.some({
          issuer: ISSUER,
          audience: "https://mcp.example.com/mcp",
          publicUrl: "https://mcp.example.com",
          scopePrefix: "https://mcp.example.com/mcp/",
          clientIds: ["client-a", "client-b"]
        })
      }))
    }))

  it.effect("refuses combinations that would protect less than asked, naming the variable", () =>
    Effect.gen(function* () {
      const oauth = { MCP_AUTH_MODE: "oauth", MCP_OAUTH_ISSUER: ISSUER, MCP_PUBLIC_URL: "https://mcp.example.com" }
      const cases: ReadonlyArray<readonly [Record<string, string>, string]> = [
        [{ MCP_AUTH_MODE: "token" }, "MCP_AUTH_TOKEN"],
        [{ MCP_AUTH_MODE: "none", MCP_AUTH_TOKEN: "t" }, "MCP_AUTH_MODE"],
        [{ MCP_AUTH_MODE: "basic" }, "MCP_AUTH_MODE"],
        [{ MCP_OAUTH_ISSUER: ISSUER }, "MCP_OAUTH_ISSUER"],
        [{ MCP_AUTH_TOKEN: "t", MCP_OAUTH_AUDIENCE: "urn:estat" }, "MCP_OAUTH_AUDIENCE"],
        [{ MCP_OAUTH_SCOPE_PREFIX: "https://mcp.example.com/mcp/" }, "MCP_OAUTH_SCOPE_PREFIX"],
        [{ MCP_AUTH_TOKEN: "t", MCP_OAUTH_CLIENT_IDS: "abc" }, "MCP_OAUTH_CLIENT_IDS"],
        [{ ...oauth, MCP_OAUTH_SCOPE_PREFIX: "a b/" }, "MCP_OAUTH_SCOPE_PREFIX"],
        [{ MCP_AUTH_MODE: "oauth", MCP_PUBLIC_URL: "https://mcp.example.com" }, "MCP_OAUTH_ISSUER"],
        [{ ...oauth, MCP_OAUTH_ISSUER: "http://issuer.example.com" }, "MCP_OAUTH_ISSUER"],
        [{ ...oauth, MCP_OAUTH_ISSUER: "not a url" }, "MCP_OAUTH_ISSUER"],
        [{ MCP_AUTH_MODE: "oauth", MCP_OAUTH_ISSUER: ISSUER }, "MCP_PUBLIC_URL"],
        [{ ...oauth, MCP_PUBLIC_URL: "ftp://mcp.example.com" }, "MCP_PUBLIC_URL"],
        [{ ...oauth, MCP_AUTH_TOKEN: "t" }, "MCP_AUTH_TOKEN"]
      ]
      for (const [env, variable] of cases) {
        expect(yield* refusal(env), JSON.stringify(env)).toContain(variable)
        expect(yield* refusal(env)).not.toBe("accepted")
      }
    }))
})
