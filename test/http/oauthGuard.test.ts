import { HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { Effect, FiberRef, HashMap, Layer, Logger, Option } from "effect"
import { describe, expect, it } from "@effect/vitest"
import { configLayer, defaultSettings } from "../../src/config.js"
import { guard } from "../../src/http/guard.js"
import { challenge, protectedResourceMetadata, Scope } from "../../src/http/oauthResource.js"
import { AccessTokens, InvalidAccessToken } from "../../src/http/oauthTokens.js"
import { currentSubject } from "../../src/mcp/session.js"

/** The guard in OAuth mode with AccessTokens swapped for a stub: what the request runs as, and what its logs say. */

const GOOD = "good-token-value"
const BAD = "bad-token-value"

const tokens = Layer.succeed(AccessTokens, {
  verify: (token) =>
    token === GOOD
      ? Effect.succeed({ subject: "alice", scopes: new Set(["estat:read"]) })
      : Effect.fail(new InvalidAccessToken({ reason: "signature verification failed" }))
})

const settings = configLayer({
  ...defaultSettings,
  oauth: Option.some({ issuer: "https://issuer.example.test", audience: "https://mcp.example.test/mcp", publicUrl: "https://mcp.example.test", scopePrefix: "", clientIds: [] })
})

/** The app behind the guard: logs a line and answers with the subject it runs as. */
const app = Effect.gen(function* () {
  yield* Effect.logInfo("handling")
  const subject = yield* FiberRef.get(currentSubject)
  return HttpServerResponse.text(Option.getOrElse(subject, () => "nobody"))
}).pipe(guard)

const run = (token: string) =>
  Effect.gen(function* () {
    const lines: Array<string> = []
    const capture = Logger.make(({ annotations, message }) => {
      lines.push(`${JSON.stringify(message)} ${JSON.stringify(Object.fromEntries(HashMap.toEntries(annotations)))}`)
    })
    const request = HttpServerRequest.fromWeb(new Request("http://127.0.0.1:8080/mcp", {
      method: "POST",
      headers: { host: "127.0.0.1:8080", authorization: `Bearer ${token}` }
    }))
    const response = yield* app.pipe(
      Effect.provideService(HttpServerRequest.HttpServerRequest, request),
      Effect.provide(Logger.replace(Logger.defaultLogger, capture))
    )
    return { status: response.status, body: response.body, lines }
  }).pipe(Effect.provide(Layer.merge(tokens, settings)))

describe("guard, MCP_AUTH_MODE=oauth", () => {
  it.effect("runs the request as the token's subject and annotates its logs with it, never with the token", () =>
    Effect.gen(function* () {
      const { body, lines, status } = yield* run(GOOD)
      expect(status).toBe(200)
      expect(body._tag === "Uint8Array" ? new TextDecoder().decode(body.body) : body._tag).toBe("alice")
      expect(lines).toEqual(['["handling"] {"subject":"alice"}'])
    }))

  it.effect("refuses an invalid token before the app runs, logging the reason but not the token", () =>
    Effect.gen(function* () {
      const { lines, status } = yield* run(BAD)
      expect(status).toBe(401)
      expect(lines).toHaveLength(1)
      expect(lines[0]).toContain("signature verification failed")
      expect(lines.join("\n")).not.toContain(BAD)
    }))
})

describe("OAuth names scopes as the authorization server issues them", () => {
  const cognito = {
    issuer: "https://cognito-idp.ap-northeast-1.amazonaws.com/ap-northeast-1_Example",
    audience: "https://mcp.example.test/mcp",
    publicUrl: "https://mcp.example.test",
    scopePrefix: "https://mcp.example.test/mcp/",
    clientIds: ["client-a"]
  }

  it("the metadata and the challenges carry the prefix, so a client asks for scopes that exist", () => {
    expect(protectedResourceMetadata(cognito).scopes_supported).toEqual([
      "https://mcp.example.test/mcp/estat:read",
      "https://mcp.example.test/mcp/estat:write"
    ])
    expect(challenge(cognito, { code: "insufficient_scope", description: "load_to_iceberg needs estat:write" }, [Scope.read, Scope.write])).toBe(
      'Bearer resource_metadata="https://mcp.example.test/.well-known/oauth-protected-resource", '
        + 'scope="https://mcp.example.test/mcp/estat:read https://mcp.example.test/mcp/estat:write", '
        + 'error="insufficient_scope", error_description="load_to_iceberg needs estat:write"'
    )
    expect(challenge({ ...cognito, scopePrefix: "" })).toBe(
      'Bearer resource_metadata="https://mcp.example.test/.well-known/oauth-protected-resource", scope="estat:read"'
    )
  })
})
