import { Chunk, Effect, Exit, Fiber, identity, Mailbox, Option, Scope, Stream } from "effect"
import { describe, expect, it } from "@effect/vitest"
import { type EventLog, eventId, makeEventLog, parseEventId, type SseEvent } from "../../src/mcp/eventLog.js"

/** What a follower of `streamId` gets, as a Stream of the events themselves. */
const listen = (log: EventLog, streamId: string, afterSeq: number): Stream.Stream<SseEvent> =>
  Stream.unwrapScoped(Effect.gen(function* () {
    const events = yield* Mailbox.make<SseEvent>()
    yield* log.follow(streamId, afterSeq, events, identity)
    return Mailbox.toStream(events)
  }))

const dataOf = (events: Chunk.Chunk<{ readonly data: string | undefined }>) => Chunk.toReadonlyArray(events).map((e) => e.data)

describe("EventLog", () => {
  it.effect("replays a stream after an event id, then follows it live until it ends", () =>
    Effect.gen(function* () {
      const log = yield* makeEventLog(16)
      const a1 = yield* log.publish("a", "a1")
      yield* log.publish("b", "b1")
      yield* log.publish("a", "a2")
      const fiber = yield* Effect.fork(Stream.runCollect(listen(log, "a", a1.seq)))
      yield* Effect.yieldNow()
      yield* log.publish("a", "a3")
      yield* log.end("a")
      const events = yield* Fiber.join(fiber)
      expect(dataOf(events)).toEqual(["a2", "a3", undefined])
      expect(Chunk.unsafeLast(events).end).toBe(true)
    }))

  it.effect("a finished stream replays and closes", () =>
    Effect.gen(function* () {
      const log = yield* makeEventLog(16)
      yield* log.publish("a", "a1")
      yield* log.end("a")
      expect(dataOf(yield* Stream.runCollect(listen(log, "a", 0)))).toEqual(["a1", undefined])
    }))

  it.effect("keeps only the newest events, by count and by bytes", () =>
    Effect.gen(function* () {
      const byCount = yield* makeEventLog(2)
      for (const d of ["1", "2", "3"]) yield* byCount.publish("a", d)
      yield* byCount.end("a")
      expect(dataOf(yield* Stream.runCollect(listen(byCount, "a", 0)))).toEqual(["3", undefined])
      const byBytes = yield* makeEventLog(100, 10)
      for (const d of ["aaaaaa", "bbbbbb", "cccccc"]) yield* byBytes.publish("s", d)
      expect(yield* byBytes.holds({ streamId: "s", seq: 3 })).toBe(true)
      expect(yield* byBytes.holds({ streamId: "s", seq: 1 })).toBe(false)
      yield* byBytes.end("s")
      expect(dataOf(yield* Stream.runCollect(listen(byBytes, "s", 0)))).toEqual(["cccccc", undefined])
    }))

  it.effect("a follower gets only its stream, ends at a detach, and is let go when its scope closes", () =>
    Effect.gen(function* () {
      const log = yield* makeEventLog(16)
      const into = yield* Mailbox.make<string>()
      const scope = yield* Scope.make()
      yield* log.follow("a", 0, into, (e) => e.data).pipe(Scope.extend(scope))
      yield* log.publish("b", "b1")
      yield* log.publish("a", "a1")
      yield* log.detach("a")
      yield* log.publish("a", "a2") // after the detach: for the next connection, not this one
      expect(Chunk.toReadonlyArray(yield* Mailbox.toStream(into).pipe(Stream.runCollect))).toEqual(["a1"])

      const second = yield* Mailbox.make<string>()
      const secondScope = yield* Scope.make()
      yield* log.follow("a", 0, second, (e) => e.data).pipe(Scope.extend(secondScope))
      yield* Scope.close(secondScope, Exit.void)
      yield* log.publish("a", "a3") // nobody follows any more: not offered
      // A new connection from the start: everything but the marker, live a2 included, then nothing more.
      expect(Chunk.toReadonlyArray((yield* second.takeAll)[0])).toEqual(["a1", "a2"])
      yield* Scope.close(scope, Exit.void)
    }))

  it.effect("shutting the log down ends every follower, and a later one at once", () =>
    Effect.gen(function* () {
      const log = yield* makeEventLog(16)
      const into = yield* Mailbox.make<string>()
      yield* Effect.scoped(Effect.gen(function* () {
        yield* log.follow("a", 0, into, (e) => e.data)
        const reading = yield* Effect.fork(Stream.runCollect(Mailbox.toStream(into)))
        yield* log.publish("a", "a1")
        yield* log.shutdown
        expect(Chunk.toReadonlyArray(yield* Fiber.join(reading))).toEqual(["a1"])
        const late = yield* Mailbox.make<string>()
        yield* log.follow("a", 0, late, (e) => e.data)
        const [replayed, done] = yield* late.takeAll
        expect([Chunk.toReadonlyArray(replayed), done]).toEqual([["a1"], true])
      }))
    }))

  it("event ids round-trip and reject garbage", () => {
    expect(parseEventId(eventId({ streamId: "3f2a-uuid", seq: 12 }))).toEqual(Option.some({ streamId: "3f2a-uuid", seq: 12 }))
    expect(Option.isNone(parseEventId("nonsense"))).toBe(true)
    expect(Option.isNone(parseEventId("a_-1"))).toBe(true)
  })
})
