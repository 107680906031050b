import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Option } from "effect"
import { unsafeMakeOneShot } from "../../src/http/oneShot.js"

describe("OneShot", () => {
  it.effect("waiters before the value get it when it is set; the first value set stays", () =>
    Effect.gen(function* () {
      const shot = unsafeMakeOneShot<string>()
      const waiters = yield* Effect.forEach([1, 2, 3], () => Effect.fork(shot.await))
      yield* Effect.yieldNow()
      for (const waiter of waiters) expect(Option.isNone(yield* Fiber.poll(waiter))).toBe(true)
      yield* shot.set("first")
      yield* shot.set("second")
      expect(yield* Effect.forEach(waiters, Fiber.join)).toEqual(["first", "first", "first"])
      expect(yield* shot.await).toBe("first")
    }))

  it.effect("a waiter interrupted before the value is set takes nothing from the others", () =>
    Effect.gen(function* () {
      const shot = unsafeMakeOneShot<number>()
      const gone = yield* Effect.fork(shot.await)
      const staying = yield* Effect.fork(shot.await)
      yield* Effect.yieldNow()
      yield* Fiber.interrupt(gone)
      yield* shot.set(7)
      expect(yield* Fiber.join(staying)).toBe(7)
    }))
})
