import { Deferred, Effect, Fiber, Layer, Ref } from "effect"
import { describe, expect, it } from "@effect/vitest"
import { configLayer, defaultSettings } from "../../src/config.js"
import { RunSlots } from "../../src/services/RunSlots.js"

describe("RunSlots", () => {
  it.effect("runs at most ESTAT_MAX_CONCURRENT_RUNS at once; the next one says it waits, then runs", () =>
    Effect.gen(function* () {
      const slots = yield* RunSlots
      const release = yield* Deferred.make<void>()
      const running = yield* Ref.make(0)
      const waited = yield* Ref.make(0)
      const run = slots.withSlot(
        Effect.gen(function* () {
          yield* Ref.update(running, (n) => n + 1)
          yield* Deferred.await(release)
        }),
        Ref.update(waited, (n) => n + 1)
      )
      const fibers = yield* Effect.forEach([1, 2, 3], () => Effect.fork(run))
      yield* Effect.yieldNow()
      expect(yield* Ref.get(running)).toBe(2)
      expect(yield* Ref.get(waited)).toBe(1)
      yield* Deferred.succeed(release, undefined)
      yield* Effect.forEach(fibers, Fiber.join)
      expect(yield* Ref.get(running)).toBe(3)
    }).pipe(Effect.provide(RunSlots.layer.pipe(Layer.provide(configLayer({ ...defaultSettings, maxConcurrentRuns: 2 }))))))
})
