import { Effect, Exit, Option, type Scope } from "effect"

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
  /**
   * Events of `streamId` after `afterSeq` still in the buffer, then live ones, into `into` until
   * the stream ends or detaches (that marker is offered too, then `into` is done), the scope closes
   * or the log shuts down. A mailbox, not a Stream of its own: an open SSE stream is the one
   * stream its response reads, not a pipeline of operators (which cost ~100 KB of heap each).
   */
  readonly follow: <A>(streamId: string, afterSeq: number, into: EventSink<A>, frame: (event: SseEvent) => A | undefined) => Effect.Effect<void, never, Scope.Scope>
  /** Whether the buffer still holds this event, as sent to a client: the only `Last-Event-ID`s a stream resumes after. */
  readonly holds: (id: { readonly streamId: string; readonly seq: number }) => Effect.Effect<boolean>
  readonly shutdown: Effect.Effect<void>
}

/** Where a follower's events go, in Mailbox's names (an SSE response's frames; a Mailbox in tests). */
export interface EventSink<A> {
  readonly unsafeOffer: (item: A) => boolean
  readonly unsafeDone: (exit: Exit.Exit<void>) => boolean
}

const sizeOf = (event: SseEvent) => event.data?.length ?? 0
const closes = (event: SseEvent) => event.end || event.detach

/** A follower that ended before it began (its stream had ended, or the log had shut down). */
const done = <A>(into: EventSink<A>): null => {
  into.unsafeDone(Exit.void)
  return null
}

/** Who follows a stream: told each event, and told when the log shuts down. */
interface Follower {
  readonly deliver: (event: SseEvent) => void
  readonly close: () => void
}

export const makeEventLog = (capacity: number, maxBytes = 8 * 1024 * 1024): Effect.Effect<EventLog> =>
  Effect.sync(() => {
    // Plain mutable state: every access is one synchronous step, so nothing interleaves — a
    // follower sees the buffer and then every later event, none twice and none lost.
    const buffer: Array<SseEvent> = []
    const followers = new Map<string, Set<Follower>>()
    let seq = 0
    let bytes = 0
    let open = true

    const unfollow = (streamId: string, follower: Follower) => {
      const set = followers.get(streamId)
      if (set === undefined) return
      set.delete(follower)
      if (set.size === 0) followers.delete(streamId)
    }

    const append = (streamId: string, data: string | undefined, marker?: "end" | "detach") =>
      Effect.sync(() => {
        seq += 1
        const event: SseEvent = { streamId, seq, data, end: marker === "end", detach: marker === "detach" }
        buffer.push(event)
        bytes += sizeOf(event)
        while (buffer.length > 1 && (buffer.length > capacity || bytes > maxBytes)) {
          bytes -= sizeOf(buffer.shift()!)
        }
        const set = followers.get(streamId)
        if (set !== undefined) for (const follower of [...set]) follower.deliver(event)
        return event
      })

    const follow = <A>(streamId: string, afterSeq: number, into: EventSink<A>, frame: (event: SseEvent) => A | undefined) =>
      Effect.acquireRelease(
        Effect.sync(() => {
          const offer = (event: SseEvent) => {
            const framed = frame(event)
            if (framed !== undefined) into.unsafeOffer(framed)
          }
          // A detach already in the buffer closed an earlier connection, not this one.
          for (const event of buffer) {
            if (event.streamId !== streamId || event.seq <= afterSeq || event.detach) continue
            offer(event)
            if (event.end) return done(into)
          }
          if (!open) return done(into)
          const follower: Follower = {
            deliver: (event) => {
              offer(event)
              if (closes(event)) {
                unfollow(streamId, follower)
                into.unsafeDone(Exit.void)
              }
            },
            close: () => into.unsafeDone(Exit.void)
          }
          const set = followers.get(streamId) ?? new Set<Follower>()
          followers.set(streamId, set.add(follower))
          return follower
        }),
        (follower) => Effect.sync(() => follower === null ? undefined : unfollow(streamId, follower))
      ).pipe(Effect.asVoid)

    return {
      publish: (streamId, data) => append(streamId, data),
      end: (streamId) => Effect.asVoid(append(streamId, undefined, "end")),
      detach: (streamId) => Effect.asVoid(append(streamId, undefined, "detach")),
      follow,
      holds: ({ seq, streamId }) => Effect.sync(() => buffer.some((e) => e.streamId === streamId && e.seq === seq && !e.detach)),
      shutdown: Effect.sync(() => {
        open = false
        const all = [...followers.values()].flatMap((set) => [...set])
        followers.clear()
        for (const follower of all) follower.close()
      })
    }
  })
