import { type Duration, Effect, Mailbox, type Scope, Stream } from "effect"
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
      // Offered after the mailbox is done, a comment is simply dropped; the fiber ends with the stream.
      yield* Effect.forkScoped(Effect.forever(Effect.zipRight(Effect.sleep(every), frames.offer(keepAliveFrame))))
      return Mailbox.toStream(frames)
    }))
  )

export const sseHeaders = {
  "cache-control": "no-cache, no-transform",
  connection: "keep-alive",
  "x-accel-buffering": "no"
} as const
