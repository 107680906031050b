import { Duration, Effect, FiberMap, Layer, Option, TestClock } from "effect"
import { describe, expect, it } from "@effect/vitest"
import { type AppSettings, configLayer, defaultSettings } from "../../src/config.js"
import { SessionStore, SessionStoreLive } from "../../src/mcp/sessions.js"

const store = (overrides: Partial<AppSettings>) =>
  SessionStoreLive.pipe(Layer.provide(configLayer({ ...defaultSettings, ...overrides })))

describe("SessionStore", () => {
  it.scoped("expires sessions idle longer than the timeout", () =>
    Effect.gen(function* () {
      const sessions = yield* SessionStore
      const idle = yield* sessions.create("streamable-http", "2025-11-25")
      const active = yield* sessions.create("streamable-http", "2025-11-25")
      yield* TestClock.adjust(Duration.seconds(40))
      yield* sessions.get(active.id) // used: its idle time starts again
      yield* TestClock.adjust(Duration.seconds(30))
      expect(Option.isNone(yield* sessions.get(idle.id))).toBe(true)
      expect(Option.isSome(yield* sessions.get(active.id))).toBe(true)
    }).pipe(Effect.provide(store({ sessionIdleTimeout: Duration.minutes(1) }))))

  it.scoped("never expires a session while a call runs in it", () =>
    Effect.gen(function* () {
      const sessions = yield* SessionStore
      const busy = yield* sessions.create("streamable-http", "2025-11-25")
      yield* FiberMap.run(busy.inflight, 1, Effect.never)
      yield* TestClock.adjust(Duration.minutes(5))
      expect(yield* sessions.size).toBe(1)
    }).pipe(Effect.provide(store({ sessionIdleTimeout: Duration.minutes(1) }))))

  it.scoped("at the cap, evicts the least recently used idle session; refuses when all are busy", () =>
    Effect.gen(function* () {
      const sessions = yield* SessionStore
      const first = yield* sessions.create("streamable-http", "2025-11-25")
      yield* TestClock.adjust(Duration.millis(10))
      const second = yield* sessions.create("streamable-http", "2025-11-25")
      yield* TestClock.adjust(Duration.millis(10))
      yield* sessions.create("streamable-http", "2025-11-25")
      expect(Option.isNone(yield* sessions.get(first.id))).toBe(true)
      expect(yield* sessions.size).toBe(2)
      const all = [second.id]
      for (const id of all) {
        const s = yield* sessions.get(id)
        if (Option.isSome(s)) yield* FiberMap.run(s.value.inflight, 1, Effect.never)
      }
      const third = yield* sessions.create("streamable-http", "2025-11-25")
      yield* FiberMap.run(third.inflight, 1, Effect.never)
      const refused = yield* Effect.flip(sessions.create("streamable-http", "2025-11-25"))
      expect(refused.message).toBe("The server already holds its maximum of 2 sessions; try again later.")
    }).pipe(Effect.provide(store({ maxSessions: 2 }))))

  it.scoped("removing a session interrupts its running calls", () =>
    Effect.gen(function* () {
      const sessions = yield* SessionStore
      const session = yield* sessions.create("streamable-http", "2025-11-25")
      const fiber = yield* FiberMap.run(session.inflight, "call", Effect.never)
      expect(yield* sessions.remove(session.id)).toBe(true)
      const exit = yield* fiber.await
      expect(exit._tag).toBe("Failure")
      expect(yield* sessions.remove(session.id)).toBe(false)
    }).pipe(Effect.provide(store({}))))
})
