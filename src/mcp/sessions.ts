import { randomBytes } from "node:crypto"
import { Clock, Context, Data, Duration, Effect, FiberMap, Layer, Option, Ref, Schedule } from "effect"
import { AppConfig } from "../config.js"
import { makeSession, type Session, type SessionKind, touch } from "./session.js"

export class TooManySessions extends Data.TaggedError("TooManySessions")<{ readonly max: number }> {
  override get message() {
    return `The server already holds its maximum of ${this.max} sessions; try again later.`
  }
}

/** All live sessions of this server process, with idle expiry and a cap on their number. */
export class SessionStore extends Context.Tag("estat-mcp/SessionStore")<SessionStore, {
  readonly create: (kind: SessionKind, protocolVersion: string) => Effect.Effect<Session, TooManySessions>
  /** The live session with this id (and marks it used), if any. */
  readonly get: (id: string) => Effect.Effect<Option.Option<Session>>
  /** Ends the session: running calls interrupted, streams closed. */
  readonly remove: (id: string) => Effect.Effect<boolean>
  readonly size: Effect.Effect<number>
}>() {}

/** 256 bits from the OS CSPRNG, as visible ASCII. */
const newSessionId = () => randomBytes(32).toString("base64url")

const busy = (session: Session) => FiberMap.size(session.inflight).pipe(Effect.map((n) => n > 0))

export const SessionStoreLive = Layer.scoped(
  SessionStore,
  Effect.gen(function* () {
    const config = yield* AppConfig
    const sessions = yield* Ref.make(new Map<string, Session>())
    const idleMillis = Duration.toMillis(config.sessionIdleTimeout)

    const remove = (id: string) =>
      Ref.modify(sessions, (map) => {
        const session = map.get(id)
        if (session === undefined) return [Option.none<Session>(), map] as const
        const next = new Map(map)
        next.delete(id)
        return [Option.some(session), next] as const
      }).pipe(
        Effect.flatMap(Option.match({
          onNone: () => Effect.succeed(false),
          onSome: (session) => Effect.as(session.close, true)
        }))
      )

    const idleSessions = Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      const all = Array.from((yield* Ref.get(sessions)).values())
      return yield* Effect.filter(all, (s) =>
        Effect.zipWith(Ref.get(s.lastSeen), busy(s), (seen, isBusy) => !isBusy && now - seen >= idleMillis)
      )
    })

    // The least recently used session without running work, to make room for a new one.
    const evictionCandidate = Effect.gen(function* () {
      const all = Array.from((yield* Ref.get(sessions)).values())
      const idle = yield* Effect.filter(all, (s) => Effect.map(busy(s), (b) => !b))
      const seen = yield* Effect.forEach(idle, (s) => Effect.map(Ref.get(s.lastSeen), (t) => [s, t] as const))
      return Option.fromNullable(seen.sort((a, b) => a[1] - b[1])[0]?.[0])
    })

    const reap = idleSessions.pipe(
      Effect.flatMap((expired) => Effect.forEach(expired, (s) => remove(s.id), { discard: true })),
      Effect.withSpan("SessionStore.reap")
    )
    const every = Duration.millis(Math.max(10, Math.min(idleMillis / 4, 60_000)))
    yield* Effect.forkScoped(Effect.repeat(reap, Schedule.spaced(every)))
    yield* Effect.addFinalizer(() =>
      Ref.get(sessions).pipe(Effect.flatMap((map) => Effect.forEach(map.keys(), remove, { discard: true })))
    )

    const create = (kind: SessionKind, protocolVersion: string) =>
      Effect.gen(function* () {
        if ((yield* Ref.get(sessions)).size >= config.maxSessions) {
          const victim = yield* evictionCandidate
          if (Option.isNone(victim)) return yield* new TooManySessions({ max: config.maxSessions })
          yield* remove(victim.value.id)
        }
        const session = yield* makeSession({
          id: newSessionId(),
          kind,
          protocolVersion,
          replayCapacity: config.sseReplayBuffer
        })
        yield* Ref.update(sessions, (map) => new Map(map).set(session.id, session))
        return session
      })

    return {
      create,
      get: (id) =>
        Ref.get(sessions).pipe(
          Effect.map((map) => Option.fromNullable(map.get(id))),
          Effect.tap(Option.match({ onNone: () => Effect.void, onSome: touch }))
        ),
      remove,
      size: Effect.map(Ref.get(sessions), (map) => map.size)
    }
  })
)
