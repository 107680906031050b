import { createHmac, randomBytes, timingSafeEqual } from "node:crypto"
import { Clock, Context, Data, Duration, Effect, FiberMap, Layer, Option, Redacted, Ref, Schedule } from "effect"
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
  /**
   * `get`, or — when MCP_SESSION_SECRET is set and the id carries a valid signature — a Streamable
   * HTTP session another task behind the same load balancer created, adopted here.
   */
  readonly resume: (id: string) => Effect.Effect<Option.Option<Session>>
  /** Ends the session: running calls interrupted, streams closed. */
  readonly remove: (id: string) => Effect.Effect<boolean>
  readonly size: Effect.Effect<number>
}>() {}

/** 256 bits from the OS CSPRNG, as visible ASCII. */
const randomPart = () => randomBytes(32).toString("base64url")

/** `<random>.<protocol version>.<issued at>.<HMAC-SHA256 of the rest>`: every task holding the secret can verify it. */
const signedId = (secret: string, random: string, version: string, issuedAt: string) =>
  `${random}.${version}.${issuedAt}.${createHmac("sha256", secret).update(`${random}.${version}.${issuedAt}`).digest("base64url")}`

/** What a valid signed id says: its protocol version and when it was issued. */
export const verifySignedId = (secret: string, id: string): Option.Option<{ readonly version: string; readonly issuedAt: number }> => {
  const parts = id.split(".")
  const [random, version, issuedAt] = parts
  if (parts.length !== 4 || random === undefined || version === undefined || issuedAt === undefined) return Option.none()
  const expected = Buffer.from(signedId(secret, random, version, issuedAt))
  const given = Buffer.from(id)
  return expected.length === given.length && timingSafeEqual(expected, given)
    ? Option.some({ version, issuedAt: parseInt(issuedAt, 36) })
    : Option.none()
}

const busy = (session: Session) => FiberMap.size(session.inflight).pipe(Effect.map((n) => n > 0))

export const SessionStoreLive = Layer.scoped(
  SessionStore,
  Effect.gen(function* () {
    const config = yield* AppConfig
    const sessions = yield* Ref.make(new Map<string, Session>())
    const idleMillis = Duration.toMillis(config.sessionIdleTimeout)
    const secret = Option.map(config.sessionSecret, Redacted.value)
    const maxAgeMillis = Duration.toMillis(config.sessionMaxAge)
    const newSessionId = (protocolVersion: string, now: number) =>
      Option.match(secret, { onNone: randomPart, onSome: (key) => signedId(key, randomPart(), protocolVersion, now.toString(36)) })
    // Signed ids this task saw ended (DELETE, idle expiry), kept until they would be too old anyway.
    const ended = yield* Ref.make(new Map<string, number>())

    /** An ended signed id must not be adopted back; unsigned ids cannot be anyway. */
    const forget = (id: string) =>
      Option.match(Option.flatMap(secret, (key) => verifySignedId(key, id)), {
        onNone: () => Effect.void,
        onSome: ({ issuedAt }) => Ref.update(ended, (map) => new Map(map).set(id, issuedAt + maxAgeMillis))
      })

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
          onSome: (session) => Effect.as(Effect.zipRight(forget(session.id), session.close), true)
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

    const pruneEnded = Effect.flatMap(Clock.currentTimeMillis, (now) =>
      Ref.update(ended, (map) => new Map([...map].filter(([, until]) => until > now))))
    const reap = idleSessions.pipe(
      Effect.flatMap((expired) => Effect.forEach(expired, (s) => remove(s.id), { discard: true })),
      Effect.zipRight(pruneEnded),
      Effect.withSpan("SessionStore.reap")
    )
    const every = Duration.millis(Math.max(10, Math.min(idleMillis / 4, 60_000)))
    yield* Effect.forkScoped(Effect.repeat(reap, Schedule.spaced(every)))
    yield* Effect.addFinalizer(() =>
      Ref.get(sessions).pipe(Effect.flatMap((map) => Effect.forEach(map.keys(), remove, { discard: true })))
    )

    const register = (options: { readonly id: string; readonly kind: SessionKind; readonly protocolVersion: string; readonly initialized: boolean }) =>
      Effect.gen(function* () {
        if ((yield* Ref.get(sessions)).size >= config.maxSessions) {
          const victim = yield* evictionCandidate
          if (Option.isNone(victim)) return yield* new TooManySessions({ max: config.maxSessions })
          yield* remove(victim.value.id)
        }
        const session = yield* makeSession({
          id: options.id,
          kind: options.kind,
          protocolVersion: options.protocolVersion,
          replayCapacity: config.sseReplayBuffer
        })
        yield* Ref.set(session.initialized, options.initialized)
        // Two requests adopting one id at once: the first one in wins, the other's copy is closed.
        const winner = yield* Ref.modify(sessions, (map) => {
          const existing = map.get(session.id)
          return existing === undefined ? [session, new Map(map).set(session.id, session)] as const : [existing, map] as const
        })
        if (winner !== session) yield* session.close
        return winner
      })

    const create = (kind: SessionKind, protocolVersion: string) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        register({ id: newSessionId(protocolVersion, now), kind, protocolVersion, initialized: false }))

    const get = (id: string) =>
      Ref.get(sessions).pipe(
        Effect.map((map) => Option.fromNullable(map.get(id))),
        Effect.tap(Option.match({ onNone: () => Effect.void, onSome: touch }))
      )

    // Another task initialized it: its state (running calls, replay buffer) stays there, the session goes on here.
    const adopt = (id: string) =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        const signed = Option.flatMap(secret, (key) => verifySignedId(key, id))
        if (Option.isNone(signed) || now - signed.value.issuedAt > maxAgeMillis || (yield* Ref.get(ended)).has(id)) return Option.none<Session>()
        const adopted = yield* register({ id, kind: "streamable-http", protocolVersion: signed.value.version, initialized: true }).pipe(
          Effect.map(Option.some),
          Effect.catchTag("TooManySessions", () => Effect.succeedNone)
        )
        if (Option.isSome(adopted)) yield* Effect.logInfo("adopted a session started on another task")
        return adopted
      })
    return {
      create,
      get,
      resume: (id) => Effect.flatMap(get(id), Option.match({ onNone: () => adopt(id), onSome: (s) => Effect.succeedSome(s) })),
      remove,
      size: Effect.map(Ref.get(sessions), (map) => map.size)
    }
  })
)
