import { Context, Duration, Effect, Fiber, Layer, Option, Redacted, TestClock } from "effect"
import { describe, expect, it } from "@effect/vitest"
import { type AppSettings, configLayer, defaultSettings } from "../../src/config.js"
import { SessionStore, SessionStoreLive } from "../../src/mcp/sessions.js"
import { collectGarbage } from "../support/gc.js"

/** A full collection, once the current job is over (WeakRefs read in it stay alive until then). */
const fullGc = Effect.promise(() => new Promise<void>((resolve) => setImmediate(() => resolve(collectGarbage()))))

/** Stands for what an HTTP request carries in its context (request, response, span). */
class RequestMarker extends Context.Tag("test/RequestMarker")<RequestMarker, { readonly body: Uint8Array }>() {}

const store = (overrides: Partial<AppSettings>) =>
  SessionStoreLive.pipe(Layer.provide(configLayer({ ...defaultSettings, ...overrides })))

describe("an ended session retains nothing", () => {
  it.scoped("an evicted session keeps nothing of the request that created it, nor of earlier ones", () =>
    Effect.gen(function* () {
      const sessions = yield* SessionStore
      const markers: Array<WeakRef<object>> = []
      // Like HTTP requests: each `initialize` in a fiber of its own, with its own context.
      for (let i = 0; i < 300; i++) {
        const marker = { body: new Uint8Array(1024) }
        markers.push(new WeakRef(marker))
        const request = yield* Effect.fork(sessions.create("streamable-http", "2025-11-25").pipe(
          Effect.provideService(RequestMarker, marker),
          Effect.withSpan("request")
        ))
        yield* Fiber.await(request)
      }
      expect(yield* sessions.size).toBe(5)
      yield* fullGc
      // The sessions of the first 295 are gone; the last requests may still be referenced here.
      const retained = markers.slice(0, -5).filter((ref) => ref.deref() !== undefined).length
      expect(retained).toBe(0)
    }).pipe(Effect.provide(store({ maxSessions: 5, sessionRateLimit: 0 }))))

  it.scoped("ended signed ids are remembered, bounded by count and by age", () =>
    Effect.gen(function* () {
      const sessions = yield* SessionStore
      const ids: Array<string> = []
      for (let i = 0; i < 1_500; i++) {
        const session = yield* sessions.create("streamable-http", "2025-11-25")
        ids.push(session.id)
        yield* sessions.remove(session.id)
      }
      // At most max(1,000, 4 × MCP_MAX_SESSIONS), the first ended forgotten first.
      expect(yield* sessions.endedSize).toBe(1_000)
      expect(Option.isNone(yield* sessions.resume(ids.at(-1)!))).toBe(true)
      expect(Option.isSome(yield* sessions.resume(ids[0]!))).toBe(true)
      // Past MCP_SESSION_MAX_AGE every id would be refused anyway: the reaper forgets them.
      yield* TestClock.adjust(Duration.hours(2))
      expect(yield* sessions.endedSize).toBe(0)
      expect(Option.isNone(yield* sessions.resume(ids.at(-1)!))).toBe(true)
    }).pipe(Effect.provide(store({
      maxSessions: 2,
      sessionRateLimit: 0,
      sessionSecret: Option.some(Redacted.make("a-secret-shared-by-every-task-0123456789")),
      sessionMaxAge: Duration.hours(1),
      sessionIdleTimeout: Duration.minutes(10)
    }))))
})
