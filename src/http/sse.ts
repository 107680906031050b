import { IncomingMessage } from "node:http"
import { Readable } from "node:stream"
import { HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { type Duration, Effect, Exit, Mailbox, Runtime, Scope, Stream } from "effect"
import { eventId, type SseEvent } from "../mcp/eventLog.js"

const encoder = new TextEncoder()

/** One SSE frame. `retry` tells the client how long to wait before reconnecting. */
export const encodeFrame = (frame: {
  readonly id?: string | undefined
  readonly event?: string | undefined
  readonly data: string
  readonly retry?: number | undefined
}): Uint8Array => {
  let text = ""
  if (frame.id !== undefined) text += `id: ${frame.id}\n`
  if (frame.event !== undefined) text += `event: ${frame.event}\n`
  if (frame.retry !== undefined) text += `retry: ${frame.retry}\n`
  text += frame.data.split("\n").map((line) => `data: ${line}\n`).join("")
  return encoder.encode(`${text}\n`)
}

/** An event of the session log as it goes on the wire (a priming event has empty data). */
export const encodeEvent = (event: SseEvent, retry?: number): Uint8Array =>
  encodeFrame({
    id: eventId(event),
    event: event.data === undefined ? undefined : "message",
    data: event.data ?? "",
    retry
  })

export const keepAliveFrame = encoder.encode(": ping\n\n")
/** Sent first, so the response headers go out at once even when no event is ready. */
export const openFrame = encoder.encode(": stream open\n\n")

/** A comment every `every` into the mailbox; offered after the mailbox is done, a comment is simply dropped. */
const keepAlive = (frames: Mailbox.Mailbox<Uint8Array>, every: Duration.DurationInput) =>
  Effect.forever(Effect.zipRight(Effect.sleep(every), frames.offer(keepAliveFrame)))

/**
 * An SSE body read from a mailbox of frames: the open frame, the frames as they come, and a
 * comment every `every` so proxies and load balancers keep an idle stream open; `alongside` runs
 * while the stream is read (what fills the mailbox, say) and stops with it. One stream straight
 * off the mailbox and one sleeping fiber: an open stream costs tens of KB of heap, where a ticker
 * merged into a pipeline of stream operators cost ~120 KB (`npm run bench:mcp`, memory part).
 */
export const sseStream = (
  frames: Mailbox.Mailbox<Uint8Array>,
  every: Duration.DurationInput,
  alongside: Effect.Effect<unknown, never, Scope.Scope> = Effect.void
): Stream.Stream<Uint8Array> =>
  Stream.concat(
    Stream.make(openFrame),
    Stream.unwrapScoped(Effect.gen(function* () {
      yield* alongside
      // The fiber ends with the stream.
      yield* Effect.forkScoped(keepAlive(frames, every))
      return Mailbox.toStream(frames)
    }))
  )

/**
 * The frames as a Node `Readable`: taken from the mailbox while the socket wants more (its buffer
 * under the high-water mark), ended with the mailbox. Its scope (what `alongside` holds, the
 * keep-alive and the pump) closes when the body closes: ended, or destroyed because the client went away.
 */
const nodeBody = (
  message: IncomingMessage,
  frames: Mailbox.Mailbox<Uint8Array>,
  every: Duration.DurationInput,
  alongside: Effect.Effect<unknown, never, Scope.Scope>
) =>
  Effect.flatMap(Scope.make(), (scope) =>
    Effect.gen(function* () {
      const runtime = yield* Effect.runtime<never>()
      const wanted = yield* Effect.makeLatch(true)
      const body = new Readable({ read: () => wanted.unsafeOpen() })
      // A connection gone before the body was piped to it (the request interrupted as it returned) ends it too.
      const gone = () => body.destroy()
      message.socket.once("close", gone)
      body.once("close", () => {
        message.socket.off("close", gone)
        Runtime.runFork(runtime)(Scope.close(scope, Exit.void))
      })
      body.push(openFrame)
      const pump = Effect.gen(function* () {
        while (true) {
          yield* wanted.await
          const [chunk, done] = yield* frames.takeAll
          for (const frame of chunk) if (!body.push(frame)) wanted.unsafeClose()
          if (done) return body.push(null)
        }
      })
      // Interruptible whatever the caller's region (the platform runs an app uninterruptibly): the
      // scope's close interrupts them.
      yield* Scope.extend(Effect.interruptible(alongside), scope)
      yield* Effect.forkIn(Effect.interruptible(keepAlive(frames, every)), scope)
      yield* Effect.forkIn(Effect.interruptible(pump), scope)
      return body
    }).pipe(Effect.onError((cause) => Scope.close(scope, Exit.failCause(cause))))
  )

/**
 * An SSE response of `sseStream`'s frames. For a request Node received, its body is a Node
 * `Readable` the platform pipes to the socket: a `Stream` body starts a channel executor per
 * response, ~1.8 ms of CPU to open one (200 clients opening their GET streams at once queue their
 * first calls behind ~0.4 s of it). Elsewhere (a web request) the `Stream`.
 */
export const sseResponse = (
  frames: Mailbox.Mailbox<Uint8Array>,
  every: Duration.DurationInput,
  alongside: Effect.Effect<unknown, never, Scope.Scope>,
  headers: Readonly<Record<string, string>>
): Effect.Effect<HttpServerResponse.HttpServerResponse, never, HttpServerRequest.HttpServerRequest> =>
  Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
    const options = { contentType: "text/event-stream", headers: { ...sseHeaders, ...headers } }
    return request.source instanceof IncomingMessage
      ? Effect.map(nodeBody(request.source, frames, every, alongside), (body) => HttpServerResponse.raw(body, options))
      : Effect.succeed(HttpServerResponse.stream(sseStream(frames, every, alongside), options))
  })

export const sseHeaders = {
  "cache-control": "no-cache, no-transform",
  connection: "keep-alive",
  "x-accel-buffering": "no"
} as const
