import { HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { Effect, Either, Option } from "effect"
import { AppConfig } from "../config.js"
import { classify, parseJson } from "../mcp/incoming.js"
import { rpcErrorResponse } from "../mcp/rpcErrors.js"
import { channel, McpServer } from "../mcp/server.js"
import { LEGACY_STREAM } from "../mcp/session.js"
import { SessionStore } from "../mcp/sessions.js"
import { refuseScope } from "./oauthResource.js"
import { readBody } from "./requestBody.js"
import { createSession } from "./sessionCreation.js"
import { BadRequest, SessionNotFound } from "./httpFailures.js"
import { encodeFrame, SseFrames, sseResponse } from "./sse.js"

/**
 * The 2024-11-05 HTTP+SSE transport: `GET /sse` opens the session's only stream (its first
 * event names the POST endpoint); messages POSTed to `/messages?sessionId=` get `202` and
 * their responses travel on that stream. The session lives as long as the stream.
 */


export const openStream = Effect.gen(function* () {
  const store = yield* SessionStore
  const config = yield* AppConfig
  const session = yield* createSession("legacy-sse", "2024-11-05")
  // Relative to the /sse URL, so the endpoint stays right when the router is mounted under a prefix.
  const endpoint = encodeFrame({ event: "endpoint", data: `messages?sessionId=${encodeURIComponent(session.id)}` })
  const frames = yield* SseFrames.make
  yield* frames.offer(endpoint)
  const messages = session.events.follow(LEGACY_STREAM, 0, frames, (event) => event.data === undefined ? undefined : encodeFrame({ event: "message", data: event.data }))
  // The session ends with its stream.
  return yield* sseResponse(frames, config.sseKeepAlive, Effect.zipRight(messages, Effect.addFinalizer(() => store.remove(session.id))), {})
})

export const postMessage = Effect.gen(function* () {
  const http = yield* HttpServerRequest.HttpServerRequest
  const store = yield* SessionStore
  const server = yield* McpServer
  const id = new URL(http.url, "http://localhost").searchParams.get("sessionId")
  if (id === null) return yield* new BadRequest({ problem: "sessionId query parameter is required" })
  const found = yield* store.get(id)
  if (Option.isNone(found) || found.value.kind !== "legacy-sse") {
    return yield* new SessionNotFound({ remedy: "open a new stream with GET /sse" })
  }
  const session = found.value
  const body = yield* readBody
  const send = (message: unknown) => Effect.asVoid(session.events.publish(LEGACY_STREAM, JSON.stringify(message)))
  const message = Either.flatMap(
    Either.mapLeft(parseJson(body), (error) => ({ id: null, error })),
    classify
  )
  if (Either.isLeft(message)) {
    yield* send(rpcErrorResponse(message.left.id, message.left.error))
    return HttpServerResponse.text("Accepted", { status: 202 })
  }
  const m = message.right
  switch (m._tag) {
    case "Request": {
      yield* refuseScope([m.message])
      yield* server.handleRequest(session, m.message, channel(send)).pipe(
        Effect.flatMap(Option.match({ onNone: () => Effect.void, onSome: send })),
        Effect.forkIn(session.scope)
      )
      break
    }
    case "Notification":
      yield* server.handleNotification(session, m.message)
      break
    case "Response":
      break
  }
  return HttpServerResponse.text("Accepted", { status: 202 })
})
