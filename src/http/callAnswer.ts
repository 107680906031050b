import { randomUUID } from "node:crypto"
import { HttpServerResponse } from "@effect/platform"
import { type Duration, Effect, Option, Ref } from "effect"
import type { McpRequest } from "../mcp/incoming.js"
import type { JsonRpcNotification, JsonRpcResponse } from "../mcp/jsonrpc.js"
import type { McpServer } from "../mcp/server.js"
import type { Session } from "../mcp/session.js"
import { unsafeMakeOneShot } from "./oneShot.js"
import { jsonRpc } from "./rpcResponses.js"
import { encodeEvent, SseFrames, sseResponse } from "./sse.js"

/** Reconnect delay suggested to clients on SSE streams (the SSE `retry` field). */
const RETRY_MILLIS = 1000

/** The header every answer within a session carries. */
export const sessionHeaders = (session: Session) => ({ "mcp-session-id": session.id })

/** A call's SSE stream, opened by the first message the call sends before its result. */
interface OpenStream {
  readonly streamId: string
  readonly connection: SseFrames
  /** False once the call closed its connection (SSE polling): later events only reach the log. */
  readonly attached: Ref.Ref<boolean>
}

/** How the HTTP request is answered: the response as JSON (the call sent nothing first), or a stream. */
type Answer =
  | { readonly _tag: "Json"; readonly response: Option.Option<JsonRpcResponse> }
  | { readonly _tag: "Stream"; readonly stream: OpenStream }

/**
 * Answers a session's call that may send messages before its result. The call runs detached
 * (McpServer.runDetached: it outlives the HTTP connection if the client drops it). Whatever happens
 * first decides the answer, with no timer: the result (plain JSON: the quick, common case costs
 * no stream, no event log entry, no keep-alive) or a first message (progress, a log line), which
 * opens an SSE stream: every event of it is also kept in the session's event log, so the client
 * can resume the stream with Last-Event-ID. A call of a tool that may run for minutes streams at
 * once (McpServer.runsLong): its keep-alive comments hold the connection through idle timeouts.
 */
export const answerCall = (session: Session, request: McpRequest, server: McpServer["Type"], keepAlive: Duration.Duration) =>
  // Made in one step, and not a generator (see requireSession in streamableHttp.ts): a quick call's whole cost is in steps and objects like these.
  Effect.suspend(() => {
    const answer = unsafeMakeOneShot<Answer>()
    const opened = unsafeMakeOneShot<OpenStream>()
    // Pending until the result or a first message comes; the one that flips it decides the answer.
    const pending = Ref.unsafeMake(true)

    const publish = (stream: OpenStream, data: string | undefined, retry?: number) =>
      session.events.publish(stream.streamId, data).pipe(
        Effect.flatMap((event) =>
          Effect.flatMap(Ref.get(stream.attached), (live) => live ? Effect.asVoid(stream.connection.offer(encodeEvent(event, retry))) : Effect.void)
        )
      )
    const open = Effect.gen(function* () {
      const stream: OpenStream = { streamId: randomUUID(), connection: yield* SseFrames.make, attached: yield* Ref.make(true) }
      // 2025-11-25 clients are primed with an event id at once, so they can resume the stream.
      if ((yield* Ref.get(session.protocolVersion)) >= "2025-11-25") yield* publish(stream, undefined, RETRY_MILLIS)
      yield* opened.set(stream)
      yield* answer.set({ _tag: "Stream", stream })
      return stream
    })
    /** The call's stream: opened by whoever comes first, awaited by the rest. */
    const stream = Effect.flatMap(Ref.getAndSet(pending, false), (first) => first ? open : opened.await)
    const send = (message: JsonRpcNotification | JsonRpcResponse) => Effect.flatMap(stream, (s) => publish(s, JSON.stringify(message)))
    const closeStream = Effect.flatMap(stream, (s) =>
      Ref.set(s.attached, false).pipe(Effect.zipRight(session.events.detach(s.streamId)), Effect.zipRight(s.connection.end))
    )
    const finish = (response: Option.Option<JsonRpcResponse>): Effect.Effect<void> =>
      Effect.flatMap(Ref.getAndSet(pending, false), (first) =>
        first
          ? answer.set({ _tag: "Json", response })
          : Effect.flatMap(opened.await, (s) =>
            Option.match(response, { onNone: () => Effect.void, onSome: (body) => publish(s, JSON.stringify(body)) }).pipe(
              Effect.zipRight(session.events.end(s.streamId)),
              Effect.zipRight(s.connection.end)
            ))
      )

    // Cancelled or interrupted (the session ended): no response, and the HTTP answer is not left waiting.
    const detached = server.runDetached(session, request, { send, closeStream }, finish)
    return (server.runsLong(request) ? Effect.zipRight(stream, detached) : detached).pipe(
      Effect.zipRight(answer.await),
      Effect.flatMap((decided) =>
        decided._tag === "Json"
          ? Effect.succeed(Option.match(decided.response, {
            onNone: () => HttpServerResponse.empty({ status: 202 }),
            onSome: (body) => jsonRpc(body, 200, sessionHeaders(session))
          }))
          // Keep-alive comments only while a stream is open: JSON answers set up no timer.
          : sseResponse(decided.stream.connection, keepAlive, Effect.void, sessionHeaders(session))
      )
    )
  })
