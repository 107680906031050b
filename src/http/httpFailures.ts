import { HttpServerResponse } from "@effect/platform"
import { Duration, Effect, Schema } from "effect"
import { RequestId } from "../mcp/jsonrpc.js"
import { type RpcErrorLike, rpcErrorResponse } from "../mcp/rpcErrors.js"
import type { TooManySessions, TooManySessionsFromClient } from "../mcp/sessions.js"

/**
 * Why an HTTP request is refused, as typed failures: each carries the HTTP status and the JSON-RPC
 * code it is answered with (and its headers: WWW-Authenticate, Retry-After, Allow, CORS). Routes
 * and the guard fail with them; `httpAnswerOf` is the one place that writes the answer.
 */

/** Codes the SDK's own transport uses for transport failures. */
export const TransportCode = {
  BadRequest: -32000,
  SessionNotFound: -32001
} as const

const Headers = Schema.Record({ key: Schema.String, value: Schema.String })
const noHeaders: Readonly<Record<string, string>> = {}

export class NotAcceptable extends Schema.TaggedError<NotAcceptable>()("NotAcceptable", { needs: Schema.String }) {
  readonly status = 406
  readonly code = TransportCode.BadRequest
  readonly headers = noHeaders
  override get message() {
    return `Not Acceptable: the client must accept ${this.needs}`
  }
}

export class UnsupportedMediaType extends Schema.TaggedError<UnsupportedMediaType>()("UnsupportedMediaType", {}) {
  readonly status = 415
  readonly code = TransportCode.BadRequest
  readonly headers = noHeaders
  override get message() {
    return "Unsupported Media Type: Content-Type must be application/json"
  }
}

/** A request the transport cannot take as it is (400): a header or query parameter missing or wrong. */
export class BadRequest extends Schema.TaggedError<BadRequest>()("BadRequest", { problem: Schema.String }) {
  readonly status = 400
  readonly code = TransportCode.BadRequest
  readonly headers = noHeaders
  override get message() {
    return `Bad Request: ${this.problem}`
  }
}

/** No live session of the requester's has this id (404, -32001); `remedy` says how to get one. */
export class SessionNotFound extends Schema.TaggedError<SessionNotFound>()("SessionNotFound", { remedy: Schema.String }) {
  readonly status = 404
  readonly code = TransportCode.SessionNotFound
  readonly headers = noHeaders
  override get message() {
    return `Session not found: ${this.remedy}`
  }
}

/** A path the server does not serve (404). */
export class PathNotFound extends Schema.TaggedError<PathNotFound>()("PathNotFound", {}) {
  readonly status = 404
  readonly code = TransportCode.BadRequest
  readonly headers = noHeaders
  override get message() {
    return "Not Found: the MCP endpoint is /mcp (legacy: /sse)"
  }
}

/** The session already has its one standalone GET stream (409). */
export class StreamAlreadyOpen extends Schema.TaggedError<StreamAlreadyOpen>()("StreamAlreadyOpen", {}) {
  readonly status = 409
  readonly code = TransportCode.BadRequest
  readonly headers = noHeaders
  override get message() {
    return "Conflict: this session already has an open GET stream"
  }
}

/** No credentials, or ones that do not hold (401); `challenge` is the WWW-Authenticate to answer with. */
export class Unauthorized extends Schema.TaggedError<Unauthorized>()("Unauthorized", {
  reason: Schema.String,
  challenge: Schema.String,
  cors: Headers
}) {
  readonly status = 401
  readonly code = TransportCode.BadRequest
  override get message() {
    return `Unauthorized: ${this.reason}`
  }
  get headers() {
    return { ...this.cors, "www-authenticate": this.challenge }
  }
}

/** Not allowed (403): a Host or Origin refused, or a token without the scope a call needs (then with its challenge). */
export class Forbidden extends Schema.TaggedError<Forbidden>()("Forbidden", {
  reason: Schema.String,
  challenge: Schema.optional(Schema.String),
  cors: Schema.optionalWith(Headers, { default: () => ({}) })
}) {
  readonly status = 403
  readonly code = TransportCode.BadRequest
  override get message() {
    return `Forbidden: ${this.reason}`
  }
  get headers() {
    return this.challenge === undefined ? this.cors : { ...this.cors, "www-authenticate": this.challenge }
  }
}

/** The server cannot take the request now (503, with Retry-After when it knows how long). */
export class Unavailable extends Schema.TaggedError<Unavailable>()("Unavailable", {
  reason: Schema.String,
  retryAfter: Schema.optional(Schema.Duration),
  cors: Schema.optionalWith(Headers, { default: () => ({}) })
}) {
  readonly status = 503
  readonly code = TransportCode.BadRequest
  override get message() {
    return `Service Unavailable: ${this.reason}`
  }
  get headers() {
    return this.retryAfter === undefined ? this.cors : { ...this.cors, "retry-after": retryAfterOf(this.retryAfter) }
  }
}

const retryAfterOf = (wait: Duration.Duration) => String(Math.ceil(Duration.toSeconds(wait)))

/**
 * A body refused before reading (413 over the declared cap, answered in JSON) or cut while read
 * (413, 408, 400: a status and no body, for the platform has destroyed the socket, and a body
 * written to it would never finish, holding the request's fiber and memory for good).
 */
export class UnreadBody extends Schema.TaggedError<UnreadBody>()("UnreadBody", {
  problem: Schema.Literal("declared-too-large", "too-large", "timed-out", "unreadable"),
  maxBytes: Schema.Number
}) {
  readonly code = TransportCode.BadRequest
  readonly headers = noHeaders
  get status() {
    return this.problem === "timed-out" ? 408 : this.problem === "unreadable" ? 400 : 413
  }
  get bodiless() {
    return this.problem !== "declared-too-large"
  }
  override get message() {
    return `Payload Too Large: the body exceeds ${this.maxBytes} bytes`
  }
}

/**
 * A JSON-RPC error answered with an HTTP status: a body that is not JSON or not JSON-RPC, a batch
 * or an initialize refused, a 2026-07-28 refusal; `id` is the request's when it could be read.
 */
export class RejectedMessage extends Schema.TaggedError<RejectedMessage>()("RejectedMessage", {
  id: Schema.NullOr(RequestId),
  status: Schema.Number,
  error: Schema.Struct({ code: Schema.Number, message: Schema.String, data: Schema.optional(Schema.Unknown) }),
  allow: Schema.optional(Schema.String)
}) {
  /** The error's wire fields, read here: a class keeps `message` and `data` as getters, which the struct would not copy. */
  static readonly of = (id: RequestId | null, status: number, error: RpcErrorLike, allow?: string) =>
    new RejectedMessage({
      id,
      status,
      error: { code: error.code, message: error.message, ...(error.data === undefined ? {} : { data: error.data }) },
      ...(allow === undefined ? {} : { allow })
    })
  get code() {
    return this.error.code
  }
  override get message() {
    return this.error.message
  }
  get headers() {
    return this.allow === undefined ? noHeaders : { allow: this.allow }
  }
}

export type HttpFailure =
  | NotAcceptable
  | UnsupportedMediaType
  | BadRequest
  | SessionNotFound
  | PathNotFound
  | StreamAlreadyOpen
  | Unauthorized
  | Forbidden
  | Unavailable
  | UnreadBody
  | RejectedMessage
  | TooManySessions
  | TooManySessionsFromClient

const jsonError = (status: number, id: RequestId | null, error: { readonly code: number; readonly message: string; readonly data?: unknown }, headers: Readonly<Record<string, string>>) =>
  HttpServerResponse.unsafeJson(rpcErrorResponse(id, error), { status, headers })

/** The one place a refused HTTP request gets its answer. */
export const httpAnswerOf = (failure: HttpFailure): HttpServerResponse.HttpServerResponse => {
  switch (failure._tag) {
    case "UnreadBody":
      return failure.bodiless ? HttpServerResponse.empty({ status: failure.status }) : jsonError(failure.status, null, failure, failure.headers)
    case "RejectedMessage":
      return jsonError(failure.status, failure.id, failure.error, failure.headers)
    // The session store's own refusals: at the cap (503), or a client over its rate (429).
    case "TooManySessions":
      return jsonError(503, null, { code: TransportCode.BadRequest, message: failure.message }, noHeaders)
    case "TooManySessionsFromClient":
      return jsonError(429, null, { code: TransportCode.BadRequest, message: failure.message }, { "retry-after": retryAfterOf(failure.retryAfter) })
    default:
      return jsonError(failure.status, null, failure, failure.headers)
  }
}

/** Answers a handler's refusals; other failures go on. */
export const answerFailures = <A, E, R>(handler: Effect.Effect<A, E | HttpFailure, R>) =>
  Effect.catchIf(handler, isHttpFailure, (failure) => Effect.succeed(httpAnswerOf(failure)))

const failureTags: ReadonlySet<string> = new Set<HttpFailure["_tag"]>([
  "NotAcceptable", "UnsupportedMediaType", "BadRequest", "SessionNotFound", "PathNotFound", "StreamAlreadyOpen", "Unauthorized",
  "Forbidden", "Unavailable", "UnreadBody", "RejectedMessage", "TooManySessions", "TooManySessionsFromClient"
])

const isHttpFailure = <E>(error: E | HttpFailure): error is HttpFailure =>
  typeof error === "object" && error !== null && "_tag" in error && typeof error._tag === "string" && failureTags.has(error._tag)
