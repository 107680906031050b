import { Effect, Option } from "effect"
import { describe, expect, it } from "@effect/vitest"
import { eventId, makeEventLog, parseEventId } from "../../src/mcp/eventLog.js"

/** `holds` decides which Last-Event-IDs a stream resumes after: only events this log sent and still keeps. */
describe("EventLog.holds", () => {
  it.effect("holds the events it sent, and nothing else", () =>
    Effect.gen(function* () {
      const log = yield* makeEventLog(4)
      const a1 = yield* log.publish("a", "a1") // seq 1
      const b1 = yield* log.publish("b", "b1") // seq 2
      yield* log.detach("a") // seq 3: a marker, never sent with an id
      const a2 = yield* log.publish("a", "a2") // seq 4
      for (const sent of [a1, b1, a2]) expect(yield* log.holds(sent)).toBe(true)
      const foreign = [
        { streamId: "a", seq: 2 }, // b's seq under a's stream id
        { streamId: "a", seq: 3 }, // the detach marker
        { streamId: "a", seq: 5 }, // not issued yet
        { streamId: "a", seq: 0 },
        { streamId: "c", seq: 1 }, // a stream this log never had
        { streamId: "standalone", seq: 1 }
      ]
      for (const id of foreign) expect(yield* log.holds(id), eventId(id)).toBe(false)
      // Trimmed out of the buffer (capacity 4): too old to replay.
      yield* log.publish("a", "a3")
      yield* log.publish("a", "a4")
      expect(yield* log.holds(a1)).toBe(false)
    }))

  it("ids not spelled as eventId spells them are refused before the log is asked", () => {
    expect(parseEventId("3f2a-uuid_12")).toEqual(Option.some({ streamId: "3f2a-uuid", seq: 12 }))
    for (const id of ["", "_", "a_", "_1", "a_0", "a_01", "a_1.5", "a_-1", "a_+1", "a_1e3", "a_0x1", "a_ 1", "a_1 ", "a", "a_99999999999999999"]) {
      expect(Option.isNone(parseEventId(id)), id).toBe(true)
    }
  })
})
