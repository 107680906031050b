import { createServer } from "node:http"
import { HttpServer } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { Chunk, Deferred, Duration, Effect, Exit, Fiber, Layer, Mailbox, Stream, TestClock } from "effect"
import { describe, expect, it } from "@effect/vitest"
import { keepAliveFrame, openFrame, SseFrames, sseResponse, sseStream } from "../../src/http/sse.js"

const text = (frames: Chunk.Chunk<Uint8Array>) => Chunk.toReadonlyArray(frames).map((f) => new TextDecoder().decode(f))
const frame = (s: string) => new TextEncoder().encode(s)

describe("SseFrames", () => {
  it("gives its taker the frames offered before, then each as offered, then the end; drops what comes after", () => {
    const frames = new SseFrames()
    const taken: Array<string | null> = []
    expect(frames.unsafeOffer(frame("a"))).toBe(true)
    frames.unsafeTake((f) => taken.push(f === null ? null : new TextDecoder().decode(f)))
    expect(taken).toEqual(["a"])
    frames.unsafeOffer(frame("b"))
    expect(taken).toEqual(["a", "b"])
    expect(frames.unsafeDone(Exit.void)).toBe(true)
    expect(frames.unsafeOffer(frame("c"))).toBe(false)
    expect(frames.unsafeDone(Exit.void)).toBe(false)
    expect(taken).toEqual(["a", "b", null])
  })

  it("ended before it is taken: the taker gets what waited, then the end", () => {
    const frames = new SseFrames()
    frames.unsafeOffer(frame("a"))
    frames.unsafeDone(Exit.void)
    const taken: Array<string | null> = []
    frames.unsafeTake((f) => taken.push(f === null ? null : new TextDecoder().decode(f)))
    expect(taken).toEqual(["a", null])
  })
})

describe("sseStream", () => {
  it.effect("opens with a comment, keeps an idle stream alive on the clock, and ends with its mailbox", () =>
    Effect.gen(function* () {
      const frames = yield* SseFrames.make
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

  it.effect("runs `alongside` while the stream is read, and interrupts it (and drops later frames) when the reader stops", () =>
    Effect.gen(function* () {
      const frames = yield* SseFrames.make
      const interrupted = yield* Mailbox.make<string>()
      const alongside = Effect.forkScoped(Effect.onInterrupt(Effect.zipRight(frames.offer(frame("data: from alongside\n\n")), Effect.never), () => interrupted.offer("interrupted")))
      const firstTwo = yield* Stream.runCollect(Stream.take(sseStream(frames, Duration.seconds(15), alongside), 2))
      expect(text(firstTwo)[1]).toBe("data: from alongside\n\n")
      expect(Chunk.toReadonlyArray((yield* interrupted.takeAll)[0])).toEqual(["interrupted"])
      // Nobody reads any more: a later frame is dropped, not kept.
      expect(frames.unsafeOffer(frame("data: late\n\n"))).toBe(false)
    }))
})

describe("sseResponse on Node", () => {
  /** Serves one SSE response of `frames` on a real socket; `alongside`'s finalizer says when its scope closed. */
  const serve = (frames: SseFrames, closed: Deferred.Deferred<void>) =>
    HttpServer.serve(sseResponse(frames, Duration.seconds(15), Effect.addFinalizer(() => Deferred.succeed(closed, undefined)), { "x-test": "1" })).pipe(
      Layer.provideMerge(NodeHttpServer.layer(createServer, { host: "127.0.0.1", port: 0 }))
    )

  const portOf = Effect.flatMap(HttpServer.HttpServer, (server) =>
    server.address._tag === "TcpAddress" ? Effect.succeed(server.address.port) : Effect.dieMessage("expected a TCP address"))

  it.live("writes the open frame, the frames already waiting, then the rest as they come, and ends with its mailbox", () =>
    Effect.gen(function* () {
      const frames = yield* SseFrames.make
      const closed = yield* Deferred.make<void>()
      yield* frames.offer(frame("data: early\n\n"))
      const body = yield* Effect.scoped(Effect.gen(function* () {
        const port = yield* portOf
        const response = yield* Effect.promise(() => fetch(`http://127.0.0.1:${port}/`))
        expect(response.headers.get("content-type")).toBe("text/event-stream")
        expect(response.headers.get("x-test")).toBe("1")
        yield* frames.offer(frame("data: later\n\n"))
        yield* frames.end
        return yield* Effect.promise(() => response.text())
      }).pipe(Effect.provide(serve(frames, closed))))
      expect(body).toBe([openFrame, frame("data: early\n\n"), frame("data: later\n\n")].map((f) => new TextDecoder().decode(f)).join(""))
      yield* Deferred.await(closed)
    }))

  it.live("closes its scope (what `alongside` holds) when the client goes away", () =>
    Effect.gen(function* () {
      const frames = yield* SseFrames.make
      const closed = yield* Deferred.make<void>()
      yield* Effect.scoped(Effect.gen(function* () {
        const port = yield* portOf
        const abort = new AbortController()
        const response = yield* Effect.promise(() => fetch(`http://127.0.0.1:${port}/`, { signal: abort.signal }))
        const reader = response.body!.getReader()
        expect(new TextDecoder().decode((yield* Effect.promise(() => reader.read())).value)).toBe(new TextDecoder().decode(openFrame))
        abort.abort()
        yield* Deferred.await(closed)
      }).pipe(Effect.provide(serve(frames, closed))))
    }))
})
