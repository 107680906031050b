import { HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { Effect, Either, Mailbox, Option, Ref, Stream } from "effect"
import { AppConfig } from "../config.js"
import { parseEventId } from "../mcp/eventLog.js"
import { classify, type JsonRpcMessage, type McpRequest, paramsOf, parseJson } from "../mcp/incoming.js"
import type { JsonRpcResponse } from "../mcp/jsonrpc.js"
import { InvalidRequest, rpcErrorResponse } from "../mcp/rpcErrors.js"
import { allowsBatches, defaultHttpVersion, isSupportedVersion, negotiateVersion } from "../mcp/protocol.js"
import { channel, McpServer } from "../mcp/server.js"
import { type Session, STANDALONE_STREAM } from "../mcp/session.js"
import { SessionStore } from "../mcp/sessions.js"
import { answerCall, sessionHeaders } from "./callAnswer.js"
import { refuseScope } from "./oauthResource.js"
import { readBody } from "./requestBody.js"
import { createSession } from "./sessionCreation.js"
import * as StatelessHttp from "./statelessHttp.js"
import { httpError, jsonRpc, TransportCode } from "./rpcResponses.js"
import { encodeEvent, sseHeaders, sseStream } from "./sse.js"

/**
 * The Streamable HTTP transport (MCP.md): POST carries client messages, GET opens the
 * session's standalone stream (or resumes one with Last-Event-ID), DELETE ends the session.
 */

const SESSION_HEADER = "mcp-session-id"

const accepts = (accept: string | undefined, type: string) =>
  (accept ?? "").split(",").some((part) => {
    const media = part.split(";")[0]?.trim().toLowerCase()
    return media === type || media === "*/*"
  })

/** Calls may send progress or log messages before their result (then they answer on an SSE stream). */
const streams = (request: McpRequest) => request.method === "tools/call"

/** Quick methods send nothing besides their response. */
const silent = channel(() => Effect.void)

/** Resolves the session a non-initialize request belongs to, or the HTTP error to answer. */
const requireSession = Effect.gen(function* () {
  const request = yield* HttpServerRequest.HttpServerRequest
  const store = yield* SessionStore
  const id = request.headers[SESSION_HEADER]
  if (id === undefined || id === "") {
    return Either.left(httpError(400, TransportCode.BadRequest, "Bad Request: Mcp-Session-Id header is required"))
  }
  const found = yield* store.resume(id)
  if (Option.isNone(found)) {
    return Either.left(httpError(404, TransportCode.SessionNotFound, "Session not found: it expired or was ended; initialize a new session"))
  }
  const session = found.value
  const header = request.headers["mcp-protocol-version"]
  const negotiated = yield* Ref.get(session.protocolVersion)
  const version = header ?? defaultHttpVersion
  if (!isSupportedVersion(version)) {
    return Either.left(httpError(400, TransportCode.BadRequest, `Bad Request: unsupported MCP-Protocol-Version ${version} (this session uses ${negotiated})`))
  }
  return Either.right(session)
})

const answerAsJson = (session: Session, request: McpRequest) =>
  Effect.gen(function* () {
    const server = yield* McpServer
    const response = yield* server.handleRequest(session, request, silent)
    return Option.match(response, {
      onNone: () => HttpServerResponse.empty({ status: 202 }),
      onSome: (body) => jsonRpc(body, 200, sessionHeaders(session))
    })
  })

const initialize = (request: McpRequest) =>
  Effect.gen(function* () {
    const http = yield* HttpServerRequest.HttpServerRequest
    const store = yield* SessionStore
    const server = yield* McpServer
    const existing = http.headers[SESSION_HEADER]
    if (existing !== undefined && Option.isSome(yield* store.get(existing))) {
      return httpError(400, InvalidRequest.code, "Invalid Request: this session is already initialized")
    }
    // Malformed params create no session: the error is the answer.
    const params = paramsOf(request, "initialize")
    if (Either.isLeft(params)) return jsonRpc(rpcErrorResponse(request.id, params.left), 400)
    const created = yield* createSession("streamable-http", negotiateVersion(params.right.protocolVersion))
    if (Either.isLeft(created)) return created.left
    const session = created.right
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
  const http = yield* HttpServerRequest.HttpServerRequest
  const server = yield* McpServer
  const accept = http.headers["accept"]
  if (!accepts(accept, "application/json") || !accepts(accept, "text/event-stream")) {
    return httpError(406, TransportCode.BadRequest, "Not Acceptable: the client must accept both application/json and text/event-stream")
  }
  const contentType = (http.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase()
  if (contentType !== "application/json") {
    return httpError(415, TransportCode.BadRequest, "Unsupported Media Type: Content-Type must be application/json")
  }
  const body = yield* readBody
  if (Either.isLeft(body)) return body.left
  const parsed = parseJson(body.right)
  if (Either.isLeft(parsed)) return jsonRpc(rpcErrorResponse(null, parsed.left), 400)
  // The version a request speaks decides the path: 2026-07-28 is stateless, older revisions keep sessions.
  if (StatelessHttp.isStateless(parsed.right, http.headers)) return yield* StatelessHttp.answer(parsed.right)

  if (Array.isArray(parsed.right)) {
    const session = yield* requireSession
    if (Either.isLeft(session)) return session.left
    const version = yield* Ref.get(session.right.protocolVersion)
    if (!allowsBatches(version) || parsed.right.length === 0) {
      return httpError(400, InvalidRequest.code, `Invalid Request: JSON-RPC batches are not part of MCP ${version}`)
    }
    const messages = parsed.right.map(classify)
    const invalid = messages.find(Either.isLeft)
    if (invalid !== undefined) return jsonRpc(rpcErrorResponse(invalid.left.id, invalid.left.error), 400)
    const refused = yield* refuseScope(messages.flatMap((m) => Either.isRight(m) && m.right._tag === "Request" ? [m.right.message] : []))
    if (Option.isSome(refused)) return refused.value
    return yield* handleBatch(session.right, messages.flatMap((m) => Either.isRight(m) ? [m.right] : []))
  }

  const message = classify(parsed.right)
  if (Either.isLeft(message)) return jsonRpc(rpcErrorResponse(message.left.id, message.left.error), 400)
  const m = message.right
  if (m._tag === "Request" && m.message.method === "initialize") return yield* initialize(m.message)

  const session = yield* requireSession
  if (Either.isLeft(session)) return session.left
  switch (m._tag) {
    case "Notification":
      yield* server.handleNotification(session.right, m.message)
      return HttpServerResponse.empty({ status: 202 })
    case "Response":
      return HttpServerResponse.empty({ status: 202 })
    case "Request": {
      const refused = yield* refuseScope([m.message])
      if (Option.isSome(refused)) return refused.value
      return yield* (streams(m.message) ? answerCall(session.right, m.message) : answerAsJson(session.right, m.message))
    }
  }
})

/** GET: the standalone stream, or the resumption of any stream after `Last-Event-ID`. */
export const get = Effect.gen(function* () {
  const http = yield* HttpServerRequest.HttpServerRequest
  const config = yield* AppConfig
  if (!accepts(http.headers["accept"], "text/event-stream")) {
    return httpError(406, TransportCode.BadRequest, "Not Acceptable: the client must accept text/event-stream")
  }
  const stateless = StatelessHttp.refuseSessionMethod(http.headers)
  if (Option.isSome(stateless)) return stateless.value
  const found = yield* requireSession
  if (Either.isLeft(found)) return found.left
  const session = found.right
  const lastEventIdHeader = http.headers["last-event-id"]

  if (lastEventIdHeader !== undefined) {
    // Only an id this session sent and still holds: anything else would replay nothing or the wrong stream.
    const lastEventId = parseEventId(lastEventIdHeader)
    if (Option.isNone(lastEventId) || !(yield* session.events.holds(lastEventId.value))) {
      return httpError(400, TransportCode.BadRequest, "Bad Request: Last-Event-ID is not an event of this session, or too old to replay")
    }
    const { seq, streamId } = lastEventId.value
    const frames = yield* Mailbox.make<Uint8Array>()
    const resumed = session.events.follow(streamId, seq, frames, (event) => event.end || event.detach ? undefined : encodeEvent(event))
    return HttpServerResponse.stream(sseStream(frames, config.sseKeepAlive, resumed), {
      contentType: "text/event-stream",
      headers: { ...sseHeaders, ...sessionHeaders(session) }
    })
  }

  // One standalone stream per session: a second one is refused, as the SDK's server does.
  const claimed = yield* Ref.modify(session.standaloneOpen, (open) => [!open, true] as const)
  if (!claimed) return httpError(409, TransportCode.BadRequest, "Conflict: this session already has an open GET stream")
  const frames = yield* Mailbox.make<Uint8Array>()
  const standalone = session.events.follow(STANDALONE_STREAM, 0, frames, (event) => encodeEvent(event))
  return HttpServerResponse.stream(sseStream(frames, config.sseKeepAlive, standalone).pipe(Stream.ensuring(Ref.set(session.standaloneOpen, false))), {
    contentType: "text/event-stream",
    headers: { ...sseHeaders, ...sessionHeaders(session) }
  })
})

export const del = Effect.gen(function* () {
  const store = yield* SessionStore
  const http = yield* HttpServerRequest.HttpServerRequest
  const stateless = StatelessHttp.refuseSessionMethod(http.headers)
  if (Option.isSome(stateless)) return stateless.value
  const found = yield* requireSession
  if (Either.isLeft(found)) return found.left
  yield* store.remove(found.right.id)
  return HttpServerResponse.empty({ status: 200 })
})
