import { IncomingMessage } from "node:http"
import { Readable } from "node:stream"
import { HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { type Duration, Effect, Exit, Runtime, Scope, Stream } from "effect"
import { eventId, type EventSink, type SseEvent } from "../mcp/eventLog.js"

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

/**
 * The frames of one SSE response, in order, from whoever writes the stream (the session's event
 * log, a call, the keep-alive) to the response's body. Frames offered before the body takes them
 * wait here; after, each goes straight to it: a Node response's `Readable` is pushed to by the
 * offer itself, no fiber moves frames. Offered after the end, a frame is dropped.
 */
export class SseFrames implements EventSink<Uint8Array> {
  private waiting: Array<Uint8Array> = []
  private ended = false
  private taker: ((frame: Uint8Array | null) => void) | undefined = undefined

  static readonly make: Effect.Effect<SseFrames> = Effect.sync(() => new SseFrames())

  readonly unsafeOffer = (frame: Uint8Array): boolean => {
    if (this.ended) return false
    if (this.taker === undefined) this.waiting.push(frame)
    else this.taker(frame)
    return true
  }

  readonly unsafeDone = (_exit: Exit.Exit<void> = Exit.void): boolean => {
    if (this.ended) return false
    this.ended = true
    this.taker?.(null)
    return true
  }

  readonly offer = (frame: Uint8Array): Effect.Effect<boolean> => Effect.sync(() => this.unsafeOffer(frame))
  readonly end: Effect.Effect<boolean> = Effect.sync(() => this.unsafeDone(Exit.void))

  /** The one taker: the frames waiting, then each later one as it is offered, then `null` at the end. */
  readonly unsafeTake = (taker: (frame: Uint8Array | null) => void): void => {
    const waiting = this.waiting
    this.waiting = []
    for (const frame of waiting) taker(frame)
    if (this.ended) taker(null)
    else this.taker = taker
  }
}

/** A comment every `every` among the frames; offered after their end, a comment is simply dropped. */
const keepAlive = (frames: SseFrames, every: Duration.DurationInput) =>
  Effect.forever(Effect.zipRight(Effect.sleep(every), frames.offer(keepAliveFrame)))

/**
 * An SSE body as a `Stream`: the open frame, the frames as they come, and a comment every `every`
 * so proxies and load balancers keep an idle stream open; `alongside` runs while the stream is
 * read (what offers the frames, say) and stops with it.
 */
export const sseStream = (
  frames: SseFrames,
  every: Duration.DurationInput,
  alongside: Effect.Effect<unknown, never, Scope.Scope> = Effect.void
): Stream.Stream<Uint8Array> =>
  Stream.concat(
    Stream.make(openFrame),
    Stream.unwrapScoped(Effect.gen(function* () {
      yield* alongside
      // The fiber ends with the stream.
      yield* Effect.forkScoped(keepAlive(frames, every))
      return Stream.async<Uint8Array>((emit) => {
        frames.unsafeTake((frame) => frame === null ? void emit.end() : void emit.single(frame))
        // A reader that stopped takes nothing more: later frames are dropped, not kept.
        return Effect.sync(() => frames.unsafeDone(Exit.void))
      }, "unbounded")
    }))
  )

/**
 * The frames as a Node `Readable`, pushed to as they are offered (Node buffers what the socket
 * does not take yet, as a mailbox would) and ended with them. Its scope (what `alongside` holds and
 * the keep-alive) closes when the body closes: ended, or destroyed because the client went away.
 * One fiber per open stream, the keep-alive's: a pump fiber beside it (with its latch and mailbox)
 * held ~8 KB of heap per open stream and ~25 run-loop steps to open.
 */
const nodeBody = (
  message: IncomingMessage,
  frames: SseFrames,
  every: Duration.DurationInput,
  alongside: Effect.Effect<unknown, never, Scope.Scope>
) =>
  Effect.flatMap(Scope.make(), (scope) =>
    Effect.gen(function* () {
      const runtime = yield* Effect.runtime<never>()
      const body = new Readable({ read: () => undefined })
      // A connection gone before the body was piped to it (the request interrupted as it returned) ends it too.
      const gone = () => body.destroy()
      message.socket.once("close", gone)
      body.once("close", () => {
        message.socket.off("close", gone)
        frames.unsafeDone(Exit.void)
        Runtime.runFork(runtime)(Scope.close(scope, Exit.void))
      })
      body.push(openFrame)
      frames.unsafeTake((frame) => void body.push(frame))
      // Interruptible whatever the caller's region (the platform runs an app uninterruptibly): the
      // scope's close interrupts them.
      yield* Scope.extend(Effect.interruptible(alongside), scope)
      yield* Effect.forkIn(Effect.interruptible(keepAlive(frames, every)), scope)
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
  frames: SseFrames,
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
