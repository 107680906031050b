import { Duration, Stream } from "effect"
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

/** Comments at an interval, so proxies and load balancers keep an idle stream open. */
export const withKeepAlive = (frames: Stream.Stream<Uint8Array>, every: Duration.Duration): Stream.Stream<Uint8Array> =>
  Stream.concat(
    Stream.make(openFrame),
    Stream.merge(frames, Stream.tick(every).pipe(Stream.drop(1), Stream.as(keepAliveFrame)), { haltStrategy: "left" })
  )

export const sseHeaders = {
  "cache-control": "no-cache, no-transform",
  connection: "keep-alive",
  "x-accel-buffering": "no"
} as const
