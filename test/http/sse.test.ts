import { Chunk, Duration, Effect, Fiber, Mailbox, Stream, TestClock } from "effect"
import { describe, expect, it } from "@effect/vitest"
import { keepAliveFrame, openFrame, sseStream } from "../../src/http/sse.js"

const text = (frames: Chunk.Chunk<Uint8Array>) => Chunk.toReadonlyArray(frames).map((f) => new TextDecoder().decode(f))
const frame = (s: string) => new TextEncoder().encode(s)

describe("sseStream", () => {
  it.effect("opens with a comment, keeps an idle stream alive on the clock, and ends with its mailbox", () =>
    Effect.gen(function* () {
      const frames = yield* Mailbox.make<Uint8Array>()
      yield* frames.offer(frame("data: early\n\n")) // offered before the response is read: still after the open frame
      const reading = yield* Effect.fork(Stream.runCollect(sseStream(frames, Duration.seconds(15))))
      yield* TestClock.adjust(Duration.seconds(14))
      yield* frames.offer(frame("data: one\n\n"))
      yield* TestClock.adjust(Duration.seconds(2)) // 16 s: one keep-alive
      yield* TestClock.adjust(Duration.seconds(15)) // 31 s: a second
      yield* frames.end
      expect(text(yield* Fiber.join(reading))).toEqual(
        [openFrame, frame("data: early\n\n"), frame("data: one\n\n"), keepAliveFrame, keepAliveFrame].map((f) => new TextDecoder().decode(f))
      )
    }))

  it.effect("runs `alongside` while the stream is read, and interrupts it when the reader stops", () =>
    Effect.gen(function* () {
      const frames = yield* Mailbox.make<Uint8Array>()
      const interrupted = yield* Mailbox.make<string>()
      const alongside = Effect.forkScoped(Effect.onInterrupt(Effect.zipRight(frames.offer(frame("data: from alongside\n\n")), Effect.never), () => interrupted.offer("interrupted")))
      const firstTwo = yield* Stream.runCollect(Stream.take(sseStream(frames, Duration.seconds(15), alongside), 2))
      expect(text(firstTwo)[1]).toBe("data: from alongside\n\n")
      expect(Chunk.toReadonlyArray((yield* interrupted.takeAll)[0])).toEqual(["interrupted"])
    }))
})
