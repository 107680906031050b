import { createServer, get, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { Deferred, Effect, Either, Fiber } from "effect"
import { describe, expect, it } from "@effect/vitest"
import { messagePieces } from "../../../src/services/estat/httpClient.js"

/** A 127.0.0.1 server answering with `answer`, and a node:http answer from it (headers received, body not read). */
const answerFrom = (answer: (res: ServerResponse) => void) =>
  Effect.gen(function* () {
    const server = createServer((_req, res) => answer(res))
    yield* Effect.acquireRelease(
      Effect.async<void>((resume) => void server.listen(0, "127.0.0.1", () => resume(Effect.void))),
      () => Effect.sync(() => server.closeAllConnections()).pipe(Effect.zipRight(Effect.async<void>((resume) => void server.close(() => resume(Effect.void)))))
    )
    return yield* Effect.async<IncomingMessage>((resume) => {
      get(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, (message) => resume(Effect.succeed(message)))
    })
  })

const text = (pieces: ReadonlyArray<Uint8Array>) => Buffer.concat(pieces).toString()

describe("messagePieces: a node:http body read by its own events", () => {
  it.scopedLive("gives the whole body, in the pieces it came in, each a buffer of its own", () =>
    Effect.gen(function* () {
      // 200 kB: more than one socket read.
      const message = yield* answerFrom((res) => res.writeHead(200).end("a".repeat(100_000) + "b".repeat(100_000)))
      const pieces = yield* messagePieces(message, () => "failed")
      expect(text(pieces)).toBe("a".repeat(100_000) + "b".repeat(100_000))
      expect(pieces.length).toBeGreaterThan(1)
      for (const piece of pieces) expect(piece.byteOffset === 0 && piece.byteLength === piece.buffer.byteLength).toBe(true)
    }))

  it.scopedLive("fails with onError's error when the connection closes before the body's end", () =>
    Effect.gen(function* () {
      const message = yield* answerFrom((res) => {
        res.writeHead(200, { "content-length": "1000" }).write("x".repeat(10))
        setTimeout(() => res.destroy(), 20)
      })
      const outcome = yield* Effect.either(messagePieces(message, () => "cut short"))
      expect(outcome).toEqual(Either.left("cut short"))
    }))

  it.scopedLive("fails at once on a message already destroyed (e.g. aborted while waiting for room)", () =>
    Effect.gen(function* () {
      const message = yield* answerFrom((res) => res.writeHead(200).write("x"))
      message.destroy()
      const outcome = yield* Effect.either(messagePieces(message, () => "gone"))
      expect(outcome).toEqual(Either.left("gone"))
    }))

  it.scopedLive("interrupted, it destroys the message: the server sees its answer closed unfinished", () =>
    Effect.gen(function* () {
      const closedUnfinished = yield* Deferred.make<boolean>()
      // The body never ends.
      const message = yield* answerFrom((res) => {
        res.writeHead(200).write("{")
        res.on("close", () => Deferred.unsafeDone(closedUnfinished, Effect.succeed(!res.writableFinished)))
      })
      const reading = yield* Effect.fork(messagePieces(message, () => "failed"))
      while (message.listenerCount("data") === 0) yield* Effect.yieldNow() // reading
      yield* Fiber.interrupt(reading)
      expect(message.destroyed).toBe(true)
      expect(yield* Deferred.await(closedUnfinished).pipe(Effect.timeoutFail({ duration: "2 seconds", onTimeout: () => "the answer was left open" }))).toBe(true)
    }))
})
