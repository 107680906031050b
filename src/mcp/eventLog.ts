import { Effect, Option, PubSub, Stream } from "effect"

/**
 * The server-to-client events of one session, for every SSE stream it has (each POST
 * stream, the standalone GET stream, the legacy /sse stream). Events get ids unique within
 * the session (`<streamId>_<seq>`) and the newest `capacity` are kept, so a client that lost
 * its connection can resume a stream with `Last-Event-ID`.
 */
export interface SseEvent {
  readonly streamId: string
  readonly seq: number
  /** undefined for the priming event and for the markers. */
  readonly data: string | undefined
  /** The stream is finished. */
  readonly end: boolean
  /** The server closes the current connection of the stream; the client resumes it with Last-Event-ID. */
  readonly detach: boolean
}

export const eventId = (event: Pick<SseEvent, "streamId" | "seq">) => `${event.streamId}_${event.seq}`

/** The inverse of eventId, for ids spelled exactly as eventId spells them (seq from 1, in plain decimal). */
export const parseEventId = (id: string): Option.Option<{ readonly streamId: string; readonly seq: number }> => {
  const at = id.lastIndexOf("_")
  const digits = id.slice(at + 1)
  if (at <= 0 || !/^[1-9][0-9]{0,15}$/.test(digits)) return Option.none()
  const seq = Number(digits)
  return Number.isSafeInteger(seq) ? Option.some({ streamId: id.slice(0, at), seq }) : Option.none()
}

export interface EventLog {
  /** Appends a message to a stream (buffered and delivered to whoever listens to it). */
  readonly publish: (streamId: string, data: string | undefined) => Effect.Effect<SseEvent>
  /** Marks a stream finished: listeners end after the events before it. */
  readonly end: (streamId: string) => Effect.Effect<void>
  /** Ends the stream's current connection only (SSE polling): later resumptions go on past it. */
  readonly detach: (streamId: string) => Effect.Effect<void>
  /** Events of `streamId` after `afterSeq` still in the buffer, then live ones until the stream ends. */
  readonly listen: (streamId: string, afterSeq: number) => Stream.Stream<SseEvent>
  /** Whether the buffer still holds this event, as sent to a client: the only `Last-Event-ID`s a stream resumes after. */
  readonly holds: (id: { readonly streamId: string; readonly seq: number }) => Effect.Effect<boolean>
  readonly shutdown: Effect.Effect<void>
}

const sizeOf = (event: SseEvent) => event.data?.length ?? 0

export const makeEventLog = (capacity: number, maxBytes = 8 * 1024 * 1024): Effect.Effect<EventLog> =>
  Effect.gen(function* () {
    const hub = yield* PubSub.unbounded<SseEvent>()
    // Plain mutable state: every access is one synchronous step, so it cannot interleave.
    const buffer: Array<SseEvent> = []
    let seq = 0
    let bytes = 0

    const append = (streamId: string, data: string | undefined, marker?: "end" | "detach") =>
      Effect.sync(() => {
        seq += 1
        const event: SseEvent = { streamId, seq, data, end: marker === "end", detach: marker === "detach" }
        buffer.push(event)
        bytes += sizeOf(event)
        while (buffer.length > 1 && (buffer.length > capacity || bytes > maxBytes)) {
          bytes -= sizeOf(buffer.shift()!)
        }
        return event
      }).pipe(Effect.tap((event) => PubSub.publish(hub, event)))

    const listen = (streamId: string, afterSeq: number): Stream.Stream<SseEvent> =>
      Stream.unwrapScoped(
        Effect.gen(function* () {
          // Subscribe before reading the buffer, so nothing published in between is lost.
          const live = yield* PubSub.subscribe(hub)
          // A detach already in the buffer closed an earlier connection, not this one.
          const replay = buffer.filter((e) => e.streamId === streamId && e.seq > afterSeq && !e.detach)
          const lastReplayed = replay.at(-1)?.seq ?? afterSeq
          const rest = replay.some((e) => e.end)
            ? Stream.empty
            : Stream.fromQueue(live).pipe(
              Stream.filter((e) => e.streamId === streamId && e.seq > lastReplayed),
              Stream.takeUntil((e) => e.end || e.detach)
            )
          return Stream.concat(Stream.fromIterable(replay), rest).pipe(Stream.takeUntil((e) => e.end))
        })
      )

    return {
      publish: (streamId, data) => append(streamId, data),
      end: (streamId) => Effect.asVoid(append(streamId, undefined, "end")),
      detach: (streamId) => Effect.asVoid(append(streamId, undefined, "detach")),
      listen,
      holds: ({ seq, streamId }) => Effect.sync(() => buffer.some((e) => e.streamId === streamId && e.seq === seq && !e.detach)),
      shutdown: PubSub.shutdown(hub)
    }
  })
