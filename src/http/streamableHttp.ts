import { HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { Context, Effect, Either, Option, Ref } from "effect"
import { AppConfig } from "../config.js"
import { parseEventId } from "../mcp/eventLog.js"
import { classify, type JsonRpcMessage, type McpRequest, paramsOf, parseJson, type Unclassified } from "../mcp/incoming.js"
import type { JsonRpcResponse, RequestId } from "../mcp/jsonrpc.js"
import { type InvalidParams, InvalidRequest } from "../mcp/rpcErrors.js"
import { allowsBatches, defaultHttpVersion, isSupportedVersion, negotiateVersion } from "../mcp/protocol.js"
import { channel, McpServer } from "../mcp/server.js"
import { type Session, STANDALONE_STREAM } from "../mcp/session.js"
import { SessionStore } from "../mcp/sessions.js"
import { answerCall, sessionHeaders } from "./callAnswer.js"
import { refuseScope } from "./oauthResource.js"
import { RequestBodies } from "./requestBody.js"
import { createSession } from "./sessionCreation.js"
import * as StatelessHttp from "./statelessHttp.js"
import { BadRequest, NotAcceptable, RejectedMessage, SessionNotFound, StreamAlreadyOpen, UnsupportedMediaType } from "./httpFailures.js"
import { jsonRpc } from "./rpcResponses.js"
import { encodeEvent, SseFrames, sseResponse } from "./sse.js"

/**
 * The Streamable HTTP transport (MCP.md): POST carries client messages, GET opens the
 * session's standalone stream (or resumes one with Last-Event-ID), DELETE ends the session.
 */

const SESSION_HEADER = "mcp-session-id"

/** A JSON-RPC error answered 400 (the message or its params cannot be taken). */
const rejected = (id: RequestId | null, error: InvalidRequest | InvalidParams) => RejectedMessage.of(id, 400, error)

const unclassified = ({ error, id }: Unclassified) => rejected(id, error)

const accepts = (accept: string | undefined, type: string) =>
  (accept ?? "").split(",").some((part) => {
    const media = part.split(";")[0]?.trim().toLowerCase()
    return media === type || media === "*/*"
  })

/** Calls may send progress or log messages before their result (then they answer on an SSE stream). */
const streams = (request: McpRequest) => request.method === "tools/call"

/** Quick methods send nothing besides their response. */
const silent = channel(() => Effect.void)

/** The services a request to `/mcp` reads, taken in one step: a quick call's whole cost is in steps like these. */
const mcpServices = Effect.contextWith((context: Context.Context<HttpServerRequest.HttpServerRequest | McpServer | SessionStore | AppConfig | RequestBodies>) => ({
  http: Context.get(context, HttpServerRequest.HttpServerRequest),
  server: Context.get(context, McpServer),
  store: Context.get(context, SessionStore),
  config: Context.get(context, AppConfig),
  bodies: Context.get(context, RequestBodies)
}))

/**
 * The session a non-initialize request belongs to; refused 400 without an id or with a version we do not speak, 404 for an unknown one.
 * Not a generator, nor answerAsJson: a generator run inside `post`'s kept a quick request's objects alive in V8's young
 * generation long enough to be promoted (a `ping` ~5.4 → 1.1 KB promoted, measured), and old space filled ~5× faster.
 */
const requireSession = ({ http, store }: Effect.Effect.Success<typeof mcpServices>): Effect.Effect<Session, BadRequest | SessionNotFound> => {
  const id = http.headers[SESSION_HEADER]
  if (id === undefined || id === "") return Effect.fail(new BadRequest({ problem: "Mcp-Session-Id header is required" }))
  return Effect.flatMap(store.resume(id), (found): Effect.Effect<Session, BadRequest | SessionNotFound> => {
    if (Option.isNone(found)) return Effect.fail(new SessionNotFound({ remedy: "it expired or was ended; initialize a new session" }))
    const session = found.value
    const version = http.headers["mcp-protocol-version"] ?? defaultHttpVersion
    if (isSupportedVersion(version)) return Effect.succeed(session)
    return Effect.flatMap(Ref.get(session.protocolVersion), (negotiated) =>
      Effect.fail(new BadRequest({ problem: `unsupported MCP-Protocol-Version ${version} (this session uses ${negotiated})` })))
  })
}

const answerAsJson = (session: Session, request: McpRequest, server: McpServer["Type"]) =>
  Effect.map(server.handleRequest(session, request, silent), Option.match({
    onNone: () => HttpServerResponse.empty({ status: 202 }),
    onSome: (body) => jsonRpc(body, 200, sessionHeaders(session))
  }))

const initialize = (request: McpRequest) =>
  Effect.gen(function* () {
    const http = yield* HttpServerRequest.HttpServerRequest
    const store = yield* SessionStore
    const server = yield* McpServer
    const existing = http.headers[SESSION_HEADER]
    if (existing !== undefined && Option.isSome(yield* store.get(existing))) {
      return yield* rejected(null, new InvalidRequest({ message: "Invalid Request: this session is already initialized" }))
    }
    // Malformed params create no session: the error is the answer.
    const params = paramsOf(request, "initialize")
    if (Either.isLeft(params)) return yield* rejected(request.id, params.left)
    const session = yield* createSession("streamable-http", negotiateVersion(params.right.protocolVersion))
    const response = yield* server.handleRequest(session, request, silent)
    return Option.match(response, {
      onNone: () => HttpServerResponse.empty({ status: 202 }),
      onSome: (body) => jsonRpc(body, 200, sessionHeaders(session))
    })
  })

const handleBatch = (session: Session, messages: ReadonlyArray<JsonRpcMessage>) =>
  Effect.gen(function* () {
    const server = yield* McpServer
    const responses = yield* Effect.forEach(messages, (m): Effect.Effect<Option.Option<JsonRpcResponse>> => {
      switch (m._tag) {
        case "Request":
          return server.handleRequest(session, m.message, silent)
        case "Notification":
          return Effect.as(server.handleNotification(session, m.message), Option.none())
        case "Response":
          return Effect.succeed(Option.none())
      }
    }, { concurrency: "unbounded" })
    const answered = responses.flatMap(Option.toArray)
    return answered.length === 0 ? HttpServerResponse.empty({ status: 202 }) : jsonRpc(answered, 200, sessionHeaders(session))
  })

export const post = Effect.gen(function* () {
  const services = yield* mcpServices
  const { http, server } = services
  const accept = http.headers["accept"]
  if (!accepts(accept, "application/json") || !accepts(accept, "text/event-stream")) {
    return yield* new NotAcceptable({ needs: "both application/json and text/event-stream" })
  }
  const contentType = (http.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase()
  if (contentType !== "application/json") {
    return yield* new UnsupportedMediaType()
  }
  const body = yield* services.bodies.read(http)
  const parsed = yield* Either.mapLeft(parseJson(body), (error) => RejectedMessage.of(null, 400, error))
  // The version a request speaks decides the path: 2026-07-28 is stateless, older revisions keep sessions.
  if (StatelessHttp.isStateless(parsed, http.headers)) return yield* StatelessHttp.answer(parsed)

  if (Array.isArray(parsed)) {
    const session = yield* requireSession(services)
    const version = yield* Ref.get(session.protocolVersion)
    if (!allowsBatches(version) || parsed.length === 0) {
      return yield* rejected(null, new InvalidRequest({ message: `Invalid Request: JSON-RPC batches are not part of MCP ${version}` }))
    }
    const messages = yield* Effect.forEach(parsed, (element) => Either.mapLeft(classify(element), unclassified))
    yield* refuseScope(messages.flatMap((m) => m._tag === "Request" ? [m.message] : []))
    return yield* handleBatch(session, messages)
  }

  const m = yield* Either.mapLeft(classify(parsed), unclassified)
  if (m._tag === "Request" && m.message.method === "initialize") return yield* initialize(m.message)

  const session = yield* requireSession(services)
  switch (m._tag) {
    case "Notification":
      yield* server.handleNotification(session, m.message)
      return HttpServerResponse.empty({ status: 202 })
    case "Response":
      return HttpServerResponse.empty({ status: 202 })
    case "Request": {
      yield* refuseScope([m.message])
      return yield* (streams(m.message) ? answerCall(session, m.message, server, services.config.sseKeepAlive) : answerAsJson(session, m.message, server))
    }
  }
})

/** GET: the standalone stream, or the resumption of any stream after `Last-Event-ID`. */
export const get = Effect.gen(function* () {
  const http = yield* HttpServerRequest.HttpServerRequest
  const config = yield* AppConfig
  if (!accepts(http.headers["accept"], "text/event-stream")) {
    return yield* new NotAcceptable({ needs: "text/event-stream" })
  }
  yield* StatelessHttp.refuseSessionMethod(http.headers)
  const session = yield* requireSession(yield* mcpServices)
  const lastEventIdHeader = http.headers["last-event-id"]

  if (lastEventIdHeader !== undefined) {
    // Only an id this session sent and still holds: anything else would replay nothing or the wrong stream.
    const lastEventId = parseEventId(lastEventIdHeader)
    if (Option.isNone(lastEventId) || !(yield* session.events.holds(lastEventId.value))) {
      return yield* new BadRequest({ problem: "Last-Event-ID is not an event of this session, or too old to replay" })
    }
    const { seq, streamId } = lastEventId.value
    const frames = yield* SseFrames.make
    const resumed = session.events.follow(streamId, seq, frames, (event) => event.end || event.detach ? undefined : encodeEvent(event))
    return yield* sseResponse(frames, config.sseKeepAlive, resumed, sessionHeaders(session))
  }

  // One standalone stream per session: a second one is refused, as the SDK's server does.
  const claimed = yield* Ref.modify(session.standaloneOpen, (open) => [!open, true] as const)
  if (!claimed) return yield* new StreamAlreadyOpen()
  const frames = yield* SseFrames.make
  const standalone = session.events.follow(STANDALONE_STREAM, 0, frames, (event) => encodeEvent(event))
  // Given back when the stream ends.
  const released = Effect.zipRight(standalone, Effect.addFinalizer(() => Ref.set(session.standaloneOpen, false)))
  return yield* sseResponse(frames, config.sseKeepAlive, released, sessionHeaders(session))
})

export const del = Effect.gen(function* () {
  const store = yield* SessionStore
  const http = yield* HttpServerRequest.HttpServerRequest
  yield* StatelessHttp.refuseSessionMethod(http.headers)
  const session = yield* requireSession(yield* mcpServices)
  yield* store.remove(session.id)
  return HttpServerResponse.empty({ status: 200 })
})
