import { Headers, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { type Context, Effect, Either, Option } from "effect"
import { AppConfig } from "../config.js"
import { classify, idOf, type McpRequest } from "../mcp/incoming.js"
import type { JsonRpcNotification, JsonRpcResponse } from "../mcp/jsonrpc.js"
import { channel, McpServer } from "../mcp/server.js"
import {
  claimedVersion,
  admit,
  claimsStateless,
  type Envelope,
  HeaderMismatch,
  InvalidEnvelope,
  InvalidStatelessRequest,
  MetaKey,
  type MirroredArgument,
  readEnvelope,
  type StatelessOffer,
  type StatelessRefusal,
  statelessVersion,
  statelessVersions
} from "../mcp/stateless.js"
import { RejectedMessage } from "./httpFailures.js"
import { refuseScope } from "./oauthResource.js"
import { jsonRpc } from "./rpcResponses.js"
import { encodeFrame, SseFrames, sseResponse } from "./sse.js"

/**
 * MCP 2026-07-28 on `/mcp`: every POST is answered from what it carries, with no session id
 * issued or read, so any server process answers any request. The version a request speaks
 * decides: a body whose `_meta` claims a stateless revision (or, without one, an
 * `MCP-Protocol-Version` header naming it) comes here; everything else keeps its session.
 */

const VERSION_HEADER = "mcp-protocol-version"

/** A header's value without the optional whitespace around it (RFC 9110 §5.5). */
const headerOf = (headers: Headers.Headers, name: string): Option.Option<string> =>
  Option.map(Headers.get(headers, name), (value) => value.replace(/^[ \t]+|[ \t]+$/g, ""))

const namesStatelessVersion = (headers: Headers.Headers) =>
  Option.exists(headerOf(headers, VERSION_HEADER), (version) => statelessVersions.includes(version))

const paramsOf = (value: unknown) => {
  if (typeof value !== "object" || value === null) return undefined
  const params = (value as { readonly params?: unknown }).params
  return typeof params === "object" && params !== null && !Array.isArray(params) ? params as Record<string, unknown> : undefined
}

const isMessage = (value: unknown) => typeof value === "object" && value !== null && !Array.isArray(value) && "method" in value

/** Whether a POST body is 2026-07-28 traffic (body first; the header decides only for a body without a claim). */
export const isStateless = (body: unknown, headers: Headers.Headers): boolean =>
  Array.isArray(body)
    ? body.some((element) => claimsStateless(paramsOf(element)))
    : isMessage(body) && (claimsStateless(paramsOf(body)) || namesStatelessVersion(headers))

/** `Mcp-Name` mirrors this body field on these methods (streamable-http, "Standard Request Headers"). */
const nameSources: Readonly<Record<string, "name" | "uri" | "taskId">> = {
  "tools/call": "name",
  "prompts/get": "name",
  "resources/read": "uri",
  // The Tasks extension (SEP-2663): a proxy routes every request for a task to where it lives.
  "tasks/get": "taskId",
  "tasks/update": "taskId",
  "tasks/cancel": "taskId"
}

const BASE64_VALUE = /^=\?base64\?([A-Za-z0-9+/]*={0,2})\?=$/
const utf8 = new TextDecoder("utf-8", { fatal: true })

/** A header value as sent, or decoded from the `=?base64?…?=` form; None when that form is broken. */
export const decodeHeaderValue = (value: string): Option.Option<string> => {
  if (!value.startsWith("=?base64?") || !value.endsWith("?=")) return Option.some(value)
  const encoded = BASE64_VALUE.exec(value)?.[1]
  if (encoded === undefined || encoded.length % 4 !== 0) return Option.none()
  return Either.getRight(Either.try(() => utf8.decode(Buffer.from(encoded, "base64"))))
}

/** What `Mcp-Name` must say: the decoded name, URI or task id of the request (none when its params did not decode). */
const nameOf = (request: McpRequest): string | undefined => {
  const call = request.call
  if (call._tag !== "Decoded") return undefined
  switch (call.method) {
    case "tools/call":
    case "prompts/get":
      return call.params.name
    case "resources/read":
      return call.params.uri
    case "tasks/get":
    case "tasks/update":
    case "tasks/cancel":
      return call.params.taskId
    default:
      return undefined
  }
}

const checkName = (request: McpRequest, headers: Headers.Headers): Either.Either<void, HeaderMismatch> => {
  const field = Object.hasOwn(nameSources, request.method) ? nameSources[request.method] : undefined
  if (field === undefined) return Either.void
  const bodyValue = Option.fromNullable(nameOf(request))
  const header = headerOf(headers, "mcp-name")
  if (Option.isNone(header)) {
    return Option.isSome(bodyValue)
      ? Either.left(new HeaderMismatch({ header: "Mcp-Name", problem: `is required on ${request.method} (params.${field} is "${bodyValue.value}")` }))
      : Either.void
  }
  const decoded = decodeHeaderValue(header.value)
  if (Option.isNone(decoded)) return Either.left(new HeaderMismatch({ header: "Mcp-Name", problem: "carries a malformed =?base64?…?= value" }))
  return Option.isSome(bodyValue) && decoded.value !== bodyValue.value
    ? Either.left(new HeaderMismatch({ header: "Mcp-Name", problem: `names "${decoded.value}" but params.${field} is "${bodyValue.value}"` }))
    : Either.void
}

/**
 * An argument the tool mirrors into `Mcp-Param-<header>` (SEP-2243): the header is required when
 * the argument is there, and must say the same (plain, or in the `=?base64?…?=` form).
 */
const checkMirrored = (request: McpRequest, headers: Headers.Headers, { argument, header }: MirroredArgument): Either.Either<void, HeaderMismatch> => {
  const name = `Mcp-Param-${header}`
  const args = request.call._tag === "Decoded" && request.call.method === "tools/call" ? request.call.params.arguments : undefined
  const value = typeof args === "object" && args !== null ? (args as Readonly<Record<string, unknown>>)[argument] : undefined
  const bodyValue = value === undefined || value === null ? Option.none() : Option.some(typeof value === "string" ? value : JSON.stringify(value))
  return Option.match(headerOf(headers, name), {
    onNone: () =>
      Option.isSome(bodyValue) ? Either.left(new HeaderMismatch({ header: name, problem: `is required: arguments.${argument} is present` })) : Either.void,
    onSome: (sent) =>
      Option.match(decodeHeaderValue(sent), {
        onNone: () => Either.left(new HeaderMismatch({ header: name, problem: "carries a malformed =?base64?…?= value" })),
        onSome: (decoded) =>
          Option.isSome(bodyValue) && decoded !== bodyValue.value
            ? Either.left(new HeaderMismatch({ header: name, problem: `says "${decoded}" but arguments.${argument} is "${bodyValue.value}"` }))
            : Either.void
      })
  })
}

type Validated =
  | { readonly _tag: "Notification"; readonly message: JsonRpcNotification }
  | { readonly _tag: "Request"; readonly request: McpRequest; readonly envelope: Envelope }

/**
 * The checks the revision asks for, in the order SDK v2's ladder applies them: one JSON-RPC
 * message; headers that agree with the body; a revision we speak; a complete envelope; the
 * required headers present; a method we serve; the client capabilities it needs.
 */
const validate = (body: unknown, headers: Headers.Headers, offer: StatelessOffer): Either.Either<Validated, StatelessRefusal> =>
  Either.gen(function* () {
    if (Array.isArray(body)) return yield* Either.left(new InvalidStatelessRequest({ problem: `JSON-RPC batches cannot carry MCP ${statelessVersion} messages` }))
    const message = yield* classify(body).pipe(Either.mapLeft(() => new InvalidStatelessRequest({ problem: "not a JSON-RPC request or notification" })))
    if (message._tag === "Notification") return { _tag: "Notification", message: message.message } as const
    if (message._tag === "Response") return yield* Either.left(new InvalidStatelessRequest({ problem: `MCP ${statelessVersion} clients post no responses` }))
    const request = message.message
    const versionHeader = headerOf(headers, VERSION_HEADER)
    const methodHeader = headerOf(headers, "mcp-method")
    const claim = claimedVersion(request.params)
    if (Option.isNone(claim)) {
      return yield* Either.left(
        request.method === "initialize"
          ? new HeaderMismatch({ header: "MCP-Protocol-Version", problem: `names ${statelessVersion} on an initialize request; ${statelessVersion} has no handshake (call server/discover)` })
          : new InvalidEnvelope({ key: MetaKey.protocolVersion, problem: `is required: the MCP-Protocol-Version header names ${statelessVersion}` })
      )
    }
    if (typeof claim.value === "string" && Option.isSome(versionHeader) && versionHeader.value !== claim.value) {
      return yield* Either.left(new HeaderMismatch({ header: "MCP-Protocol-Version", problem: `is ${versionHeader.value} but _meta names ${claim.value}` }))
    }
    if (Option.isSome(methodHeader) && methodHeader.value !== request.method) {
      return yield* Either.left(new HeaderMismatch({ header: "Mcp-Method", problem: `is ${methodHeader.value} but the body's method is ${request.method}` }))
    }
    const envelope = yield* readEnvelope(request.params)
    if (Option.isNone(versionHeader)) return yield* Either.left(new HeaderMismatch({ header: "MCP-Protocol-Version", problem: "is required on every request" }))
    if (Option.isNone(methodHeader)) return yield* Either.left(new HeaderMismatch({ header: "Mcp-Method", problem: "is required on every request" }))
    yield* checkName(request, headers)
    for (const mirrored of offer.mirroredArguments(request)) yield* checkMirrored(request, headers, mirrored)
    yield* admit(request, envelope, offer)
    return { _tag: "Request", request, envelope } as const
  })

/**
 * Only a call that asked for progress or log messages can have anything to say before its result;
 * a call that may run for minutes streams anyway, so keep-alive comments hold it open through
 * idle timeouts (the load balancer's 310 s) — unless it becomes a task (McpServer.runsLong).
 */
const streams = (request: McpRequest, envelope: Envelope, server: Context.Tag.Service<McpServer>) =>
  request.method === "tools/call" &&
  (envelope.progressToken !== undefined || envelope[MetaKey.logLevel] !== undefined || server.runsLong(request, envelope))

/**
 * The answer on an SSE stream of its own: notifications, then the response. The call belongs to
 * the stream: a client that closes it cancels the call (the revision's cancellation on HTTP).
 * No event ids: 2026-07-28 streams are not resumable.
 */
const answerOnStream = (request: McpRequest, envelope: Envelope) =>
  Effect.gen(function* () {
    const server = yield* McpServer
    const config = yield* AppConfig
    const frames = yield* SseFrames.make
    const send = (message: JsonRpcNotification | JsonRpcResponse) =>
      Effect.asVoid(frames.offer(encodeFrame({ event: "message", data: JSON.stringify(message) })))
    const call = server.handleStateless(request, envelope, channel(send)).pipe(
      Effect.flatMap(Option.match({ onNone: () => Effect.void, onSome: send })),
      Effect.ensuring(frames.end)
    )
    return yield* sseResponse(frames, config.sseKeepAlive, Effect.forkScoped(call), {})
  })

const answerAsJson = (request: McpRequest, envelope: Envelope) =>
  Effect.gen(function* () {
    const server = yield* McpServer
    const response = yield* server.handleStateless(request, envelope, channel(() => Effect.void))
    return Option.match(response, {
      onNone: () => HttpServerResponse.empty({ status: 202 }),
      onSome: (body) => jsonRpc(body)
    })
  })

/** The trace a request belongs to: its `_meta.traceparent`, else the HTTP `traceparent` header (W3C Trace Context). */
const withTraceHeader = (envelope: Envelope, headers: Headers.Headers): Envelope =>
  envelope.traceparent !== undefined
    ? envelope
    : Option.match(headerOf(headers, "traceparent"), { onNone: () => envelope, onSome: (traceparent) => ({ ...envelope, traceparent }) })

/** Answers one 2026-07-28 POST (its body parsed); refusals go out with the status the revision gives them. */
export const answer = (body: unknown) =>
  Effect.gen(function* () {
    const http = yield* HttpServerRequest.HttpServerRequest
    const server = yield* McpServer
    const valid = yield* Either.mapLeft(
      validate(body, http.headers, server),
      (refusal) => RejectedMessage.of(idOf(body), refusal.status, refusal)
    )
    // The revision defines no client notifications on HTTP: accepted, and there is nothing to do.
    if (valid._tag === "Notification") return HttpServerResponse.empty({ status: 202 })
    yield* refuseScope([valid.request])
    const envelope = withTraceHeader(valid.envelope, http.headers)
    return yield* (streams(valid.request, envelope, server) ? answerOnStream(valid.request, envelope) : answerAsJson(valid.request, envelope))
  })

/** GET and DELETE are session operations: a 2026-07-28 client without a session is refused 405 (POST only). */
export const refuseSessionMethod = (headers: Headers.Headers): Effect.Effect<void, RejectedMessage> =>
  namesStatelessVersion(headers) && Option.isNone(Headers.get(headers, "mcp-session-id"))
    ? RejectedMessage.of(
      null,
      405,
      new InvalidStatelessRequest({ problem: `MCP ${statelessVersion} has no GET stream or DELETE: send each request as a POST` }),
      "POST"
    )
    : Effect.void
