import { createHmac, randomBytes, timingSafeEqual } from "node:crypto"
import { Clock, Context, Data, Duration, Effect, Fiber, FiberMap, FiberRef, Layer, Option, Redacted, Ref, Runtime, Schedule } from "effect"
import { AppConfig } from "../config.js"
import { makeCreationBudget } from "./creationBudget.js"
import { endedIds } from "./endedIds.js"
import { currentSubject, makeSession, type Session, type SessionKind, touch } from "./session.js"

export class TooManySessions extends Data.TaggedError("TooManySessions")<{ readonly max: number }> {
  override get message() {
    return `The server already holds its maximum of ${this.max} sessions; try again later.`
  }
}

export class TooManySessionsFromClient extends Data.TaggedError("TooManySessionsFromClient")<{ readonly retryAfter: Duration.Duration }> {
  override get message() {
    return `Too many new sessions from this client; retry in ${Math.ceil(Duration.toSeconds(this.retryAfter))} s.`
  }
}

/** All live sessions of this server process, with idle expiry and a cap on their number. */
export class SessionStore extends Context.Tag("estat-mcp/SessionStore")<SessionStore, {
  /** A new session; `client` (who asks, e.g. its address) is held to MCP_SESSION_RATE_LIMIT new sessions a minute. */
  readonly create: (
    kind: SessionKind,
    protocolVersion: string,
    client?: string
  ) => Effect.Effect<Session, TooManySessions | TooManySessionsFromClient>
  /** The live session with this id (and marks it used), if any and if it belongs to the request's subject. */
  readonly get: (id: string) => Effect.Effect<Option.Option<Session>>
  /**
   * `get`, or — when MCP_SESSION_SECRET is set and the id carries a valid signature — a Streamable
   * HTTP session another task behind the same load balancer created, adopted here.
   */
  readonly resume: (id: string) => Effect.Effect<Option.Option<Session>>
  /** Ends the session: running calls interrupted, streams closed. */
  readonly remove: (id: string) => Effect.Effect<boolean>
  readonly size: Effect.Effect<number>
  /**
   * Waits, at most `grace`, until no session runs a call (shutdown: calls finish before sessions
   * are closed): how many ran when it began, and how many still run.
   */
  readonly drain: (grace: Duration.DurationInput) => Effect.Effect<{ readonly running: number; readonly left: number }>
  /** How many ended signed ids are remembered (bounded: they are pruned by age and count). */
  readonly endedSize: Effect.Effect<number>
}>() {}

/** 256 bits from the OS CSPRNG, as visible ASCII. */
const randomPart = () => randomBytes(32).toString("base64url")

/**
 * `<random>.<protocol version>.<issued at>.<HMAC-SHA256 of the rest>`: every task holding the secret can verify it.
 * The HMAC also covers the session's subject (OAuth mode) without the id showing it: another task
 * adopts the id only for that subject.
 */
const signedId = (secret: string, random: string, version: string, issuedAt: string, subject: Option.Option<string>) => {
  const signed = `${random}.${version}.${issuedAt}${Option.match(subject, { onNone: () => "", onSome: (sub) => `.${sub}` })}`
  return `${random}.${version}.${issuedAt}.${createHmac("sha256", secret).update(signed).digest("base64url")}`
}

/** What a valid signed id of `subject`'s says: its protocol version and when it was issued. */
export const verifySignedId = (
  secret: string,
  id: string,
  subject: Option.Option<string> = Option.none()
): Option.Option<{ readonly version: string; readonly issuedAt: number }> => {
  const parts = id.split(".")
  const [random, version, issuedAt] = parts
  if (parts.length !== 4 || random === undefined || version === undefined || issuedAt === undefined) return Option.none()
  const expected = Buffer.from(signedId(secret, random, version, issuedAt, subject))
  const given = Buffer.from(id)
  return expected.length === given.length && timingSafeEqual(expected, given)
    ? Option.some({ version, issuedAt: parseInt(issuedAt, 36) })
    : Option.none()
}

/** Ended ids remembered per allowed session, and at least this many. */
const ENDED_PER_SESSION = 4
const MIN_ENDED_REMEMBERED = 1_000

const busy = (session: Session) => FiberMap.size(session.inflight).pipe(Effect.map((n) => n > 0))

export const SessionStoreLive = Layer.scoped(
  SessionStore,
  Effect.gen(function* () {
    const config = yield* AppConfig
    // Sessions are built and closed in the store's own fiber context, not in the request that asks.
    // A session's scope holds finalizers (Effect.acquireRelease) that keep the FiberRefs of the fiber
    // that acquired them, and closing it grafts those onto the closing fiber: built in a request, a
    // session kept that request (its HTTP objects, its span) and, through the eviction that made
    // room for it, every session evicted before it: ~40 kB per `initialize`, for ever. (Closing in
    // a fiber with the same FiberRefs also spares diffing them against a request's, twice.)
    const runtime = yield* Effect.runtime<never>()
    const inStore = <A>(effect: Effect.Effect<A>) =>
      Effect.sync(() => Runtime.runFork(runtime)(effect)).pipe(
        Effect.flatMap(Fiber.await),
        Effect.flatMap((exit) => exit)
      )
    // Plain mutable state, every access one synchronous step, in order of last use: the least
    // recently used first, so that making room costs O(1) and not a sort of every session.
    const sessions = new Map<string, Session>()
    const idleMillis = Duration.toMillis(config.sessionIdleTimeout)
    const secret = Option.map(config.sessionSecret, Redacted.value)
    const maxAgeMillis = Duration.toMillis(config.sessionMaxAge)
    const newSessionId = (protocolVersion: string, now: number, subject: Option.Option<string>) =>
      Option.match(secret, { onNone: randomPart, onSome: (key) => signedId(key, randomPart(), protocolVersion, now.toString(36), subject) })
    // Signed ids this task saw ended (DELETE, idle expiry, eviction), until they would be too old anyway.
    const ended = endedIds(Math.max(MIN_ENDED_REMEMBERED, ENDED_PER_SESSION * config.maxSessions))
    const budget = makeCreationBudget(config.sessionRateLimit)

    /** An ended signed id must not be adopted back; unsigned ids cannot be anyway. */
    const forget = (session: Session) =>
      Option.match(Option.flatMap(secret, (key) => verifySignedId(key, session.id, session.subject)), {
        onNone: () => Effect.void,
        onSome: ({ issuedAt }) => Effect.sync(() => ended.add(session.id, issuedAt + maxAgeMillis))
      })

    const remove = (id: string) =>
      Effect.sync(() => {
        const session = Option.fromNullable(sessions.get(id))
        sessions.delete(id)
        return session
      }).pipe(
        Effect.flatMap(Option.match({
          onNone: () => Effect.succeed(false),
          onSome: (session) => Effect.as(Effect.zipRight(forget(session), inStore(session.close)), true)
        }))
      )

    const idleSessions = Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      return yield* Effect.filter(Array.from(sessions.values()), (s) =>
        Effect.zipWith(Ref.get(s.lastSeen), busy(s), (seen, isBusy) => !isBusy && now - seen >= idleMillis)
      )
    })

    // The least recently used session without running work, to make room for a new one.
    const evictionCandidate = Effect.gen(function* () {
      for (const session of sessions.values()) if (!(yield* busy(session))) return Option.some(session)
      return Option.none<Session>()
    })

    const pruneEnded = Effect.flatMap(Clock.currentTimeMillis, (now) => Effect.sync(() => ended.prune(now)))
    const reap = idleSessions.pipe(
      Effect.flatMap((expired) => Effect.forEach(expired, (s) => remove(s.id), { discard: true })),
      Effect.zipRight(pruneEnded),
      Effect.withSpan("SessionStore.reap")
    )
    const every = Duration.millis(Math.max(10, Math.min(idleMillis / 4, 60_000)))
    yield* Effect.forkScoped(Effect.repeat(reap, Schedule.spaced(every)))
    yield* Effect.addFinalizer(() => Effect.forEach(Array.from(sessions.keys()), remove, { discard: true }))

    const register = (options: { readonly id: string; readonly kind: SessionKind; readonly protocolVersion: string; readonly initialized: boolean }) =>
      Effect.gen(function* () {
        // Read here, in the request's fiber: the session itself is built in the store's.
        const subject = yield* FiberRef.get(currentSubject)
        if (sessions.size >= config.maxSessions) {
          const victim = yield* evictionCandidate
          if (Option.isNone(victim)) return yield* new TooManySessions({ max: config.maxSessions })
          yield* remove(victim.value.id)
        }
        const session = yield* inStore(makeSession({
          id: options.id,
          kind: options.kind,
          subject,
          protocolVersion: options.protocolVersion,
          replayCapacity: config.sseReplayBuffer
        }))
        yield* Ref.set(session.initialized, options.initialized)
        // Two requests adopting one id at once: the first one in wins, the other's copy is closed.
        const winner = yield* Effect.sync(() => {
          const existing = sessions.get(session.id)
          if (existing !== undefined) return existing
          sessions.set(session.id, session)
          return session
        })
        if (winner !== session) yield* inStore(session.close)
        return winner
      })

    const create = (kind: SessionKind, protocolVersion: string, client?: string) =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        const wait = client === undefined ? Option.none() : yield* Effect.sync(() => budget.take(client, now))
        if (Option.isSome(wait)) return yield* new TooManySessionsFromClient({ retryAfter: wait.value })
        const id = newSessionId(protocolVersion, now, yield* FiberRef.get(currentSubject))
        return yield* register({ id, kind, protocolVersion, initialized: false })
      })

    // Another subject's session is not found (404, as an unknown id): its existence is not revealed,
    // and the client's remedy is the same, a new session of its own.
    const get = (id: string) =>
      Effect.flatMap(FiberRef.get(currentSubject), (subject) => {
        const session = sessions.get(id)
        if (session === undefined || Option.getOrUndefined(session.subject) !== Option.getOrUndefined(subject)) return Effect.succeedNone
        // Used now: to the end of the order.
        sessions.delete(id)
        sessions.set(id, session)
        return Effect.as(touch(session), Option.some(session))
      })

    // Another task initialized it: its state (running calls, replay buffer) stays there, the session goes on here.
    const adopt = (id: string) =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        const subject = yield* FiberRef.get(currentSubject)
        const signed = Option.flatMap(secret, (key) => verifySignedId(key, id, subject))
        if (Option.isNone(signed) || now - signed.value.issuedAt > maxAgeMillis || ended.has(id, now)) return Option.none<Session>()
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
      size: Effect.sync(() => sessions.size),
      drain: (grace) => {
        const running = Effect.map(
          Effect.forEach(Array.from(sessions.values()), (s) => FiberMap.size(s.inflight)),
          (counts) => counts.reduce((a, b) => a + b, 0)
        )
        const allDone = Effect.forEach(Array.from(sessions.values()), (s) => Effect.ignore(FiberMap.awaitEmpty(s.inflight)), {
          concurrency: "unbounded",
          discard: true
        })
        return Effect.gen(function* () {
          const before = yield* running
          if (before > 0) yield* Effect.ignore(Effect.timeout(allDone, grace))
          return { running: before, left: before === 0 ? 0 : yield* running }
        })
      },
      endedSize: Effect.sync(() => ended.size())
    }
  })
)
