import type { HttpServerResponse } from "@effect/platform"
import { Duration, Effect, Either } from "effect"
import { describe, expect, it } from "@effect/vitest"
import {
  answerFailures,
  BadRequest,
  Forbidden,
  type HttpFailure,
  httpAnswerOf,
  NotAcceptable,
  PathNotFound,
  RejectedMessage,
  SessionNotFound,
  StreamAlreadyOpen,
  Unauthorized,
  Unavailable,
  UnreadBody,
  UnsupportedMediaType
} from "../../src/http/httpFailures.js"
import { InvalidParams } from "../../src/mcp/rpcErrors.js"
import { TooManySessions, TooManySessionsFromClient } from "../../src/mcp/sessions.js"
import { MissingRequiredClientCapability } from "../../src/mcp/stateless.js"

const bodyOf = (response: HttpServerResponse.HttpServerResponse): unknown =>
  response.body._tag === "Uint8Array" ? JSON.parse(new TextDecoder().decode(response.body.body)) : undefined

const error = (code: number, message: string, id: string | number | null = null, data?: unknown) =>
  ({ jsonrpc: "2.0", id, error: data === undefined ? { code, message } : { code, message, data } })

const cors = { "access-control-allow-origin": "http://localhost:6274" }

/** Every refusal through the one mapping: its status, its headers, its body, as the transport tests pin them on the wire. */
const cases: ReadonlyArray<readonly [string, HttpFailure, number, Readonly<Record<string, string>>, unknown]> = [
  ["406", new NotAcceptable({ needs: "text/event-stream" }), 406, {}, error(-32000, "Not Acceptable: the client must accept text/event-stream")],
  ["415", new UnsupportedMediaType(), 415, {}, error(-32000, "Unsupported Media Type: Content-Type must be application/json")],
  ["400 header", new BadRequest({ problem: "Mcp-Session-Id header is required" }), 400, {}, error(-32000, "Bad Request: Mcp-Session-Id header is required")],
  ["404 session", new SessionNotFound({ remedy: "open a new stream with GET /sse" }), 404, {}, error(-32001, "Session not found: open a new stream with GET /sse")],
  ["404 path", new PathNotFound(), 404, {}, error(-32000, "Not Found: the MCP endpoint is /mcp (legacy: /sse)")],
  ["409", new StreamAlreadyOpen(), 409, {}, error(-32000, "Conflict: this session already has an open GET stream")],
  [
    "401",
    new Unauthorized({ reason: "send Authorization: Bearer <MCP_AUTH_TOKEN>", challenge: 'Bearer realm="estat-mcp"', cors }),
    401,
    { ...cors, "www-authenticate": 'Bearer realm="estat-mcp"' },
    error(-32000, "Unauthorized: send Authorization: Bearer <MCP_AUTH_TOKEN>")
  ],
  ["403 origin", new Forbidden({ reason: "Origin http://evil.example is not allowed" }), 403, {}, error(-32000, "Forbidden: Origin http://evil.example is not allowed")],
  [
    "403 scope",
    new Forbidden({ reason: "load_to_iceberg needs the scope estat:write", challenge: 'Bearer error="insufficient_scope"' }),
    403,
    { "www-authenticate": 'Bearer error="insufficient_scope"' },
    error(-32000, "Forbidden: load_to_iceberg needs the scope estat:write")
  ],
  [
    "503 keys",
    new Unavailable({ reason: "the authorization server's keys cannot be read", retryAfter: Duration.seconds(5), cors }),
    503,
    { ...cors, "retry-after": "5" },
    error(-32000, "Service Unavailable: the authorization server's keys cannot be read")
  ],
  ["413 declared", new UnreadBody({ problem: "declared-too-large", maxBytes: 1024 }), 413, {}, error(-32000, "Payload Too Large: the body exceeds 1024 bytes")],
  ["503 cap", new TooManySessions({ max: 2 }), 503, {}, error(-32000, "The server already holds its maximum of 2 sessions; try again later.")],
  [
    "429",
    new TooManySessionsFromClient({ retryAfter: Duration.millis(2_500) }),
    429,
    { "retry-after": "3" },
    error(-32000, "Too many new sessions from this client; retry in 3 s.")
  ],
  [
    "400 params",
    RejectedMessage.of(7, 400, new InvalidParams({ message: "Invalid params for initialize: params.protocolVersion is missing" })),
    400,
    {},
    error(-32602, "Invalid params for initialize: params.protocolVersion is missing", 7)
  ],
  [
    "400 -32021 keeps data",
    RejectedMessage.of(3, 400, new MissingRequiredClientCapability({ method: "tools/call", required: { sampling: {} } })),
    400,
    {},
    error(
      -32021,
      `Missing required client capability: tools/call needs sampling declared in _meta["io.modelcontextprotocol/clientCapabilities"]`,
      3,
      { requiredCapabilities: { sampling: {} } }
    )
  ],
  [
    "405",
    new RejectedMessage({ id: null, status: 405, error: { code: -32600, message: "Invalid Request: POST only" }, allow: "POST" }),
    405,
    { allow: "POST" },
    error(-32600, "Invalid Request: POST only")
  ]
]

describe("HTTP refusals, answered in one place", () => {
  it.each(cases)("%s: status, headers and JSON-RPC body", (_name, failure, status, headers, body) => {
    const response = httpAnswerOf(failure)
    expect(response.status).toBe(status)
    for (const [name, value] of Object.entries(headers)) expect(response.headers[name]).toBe(value)
    expect(bodyOf(response)).toEqual(body)
  })

  it.each([["too-large", 413], ["timed-out", 408], ["unreadable", 400]] as const)("a body cut while read (%s) is %i with no body", (problem, status) => {
    const response = httpAnswerOf(new UnreadBody({ problem, maxBytes: 1024 }))
    expect(response.status).toBe(status)
    expect(response.body._tag).toBe("Empty")
  })

  it.effect("answerFailures answers refusals and lets other failures through", () =>
    Effect.gen(function* () {
      const refused = yield* answerFailures(Effect.fail(new StreamAlreadyOpen()))
      expect(refused.status).toBe(409)
      class Other { readonly _tag = "Other" }
      const other = yield* Effect.either(answerFailures(Effect.fail(new Other())))
      expect(Either.isLeft(other) && other.left._tag).toBe("Other")
    }))
})
