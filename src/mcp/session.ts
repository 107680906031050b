import { Clock, Effect, Exit, FiberMap, FiberRef, Option, Ref, Schema, Scope } from "effect"
import { type EventLog, makeEventLog } from "./eventLog.js"
import type { JsonRpcNotification, RequestId } from "./jsonrpc.js"

export const LogLevel = Schema.Literal("debug", "info", "notice", "warning", "error", "critical", "alert", "emergency")
export type LogLevel = typeof LogLevel.Type
export const logLevels: ReadonlyArray<LogLevel> = LogLevel.literals

/** Where a session's client reaches us; shapes what a session may do (e.g. batches). */
export type SessionKind = "streamable-http" | "legacy-sse" | "stdio"

/** The event streams that carry a session's own messages (not a request's): the GET stream, the legacy /sse stream. */
export const STANDALONE_STREAM = "standalone"
export const LEGACY_STREAM = "legacy"

/**
 * Whom the current request acts for: its OAuth access token's `sub` (set by the HTTP guard in
 * MCP_AUTH_MODE=oauth), none otherwise. A session is bound to the subject that created it.
 */
export const currentSubject = FiberRef.unsafeMake<Option.Option<string>>(Option.none())

/** The state of one MCP session. Closing it interrupts its running calls and ends its streams. */
export interface Session {
  readonly id: string
  readonly kind: SessionKind
  /** The subject it was created for: only requests of that subject find it. */
  readonly subject: Option.Option<string>
  readonly protocolVersion: Ref.Ref<string>
  readonly initialized: Ref.Ref<boolean>
  readonly logLevel: Ref.Ref<LogLevel>
  /** Running requests by JSON-RPC id: removing one interrupts it (cancellation). */
  readonly inflight: FiberMap.FiberMap<RequestId>
  readonly events: EventLog
  readonly lastSeen: Ref.Ref<number>
  /** Work forked here (a request's handler that must outlive its HTTP connection) ends with the session. */
  readonly scope: Scope.Scope
  /** Whether the standalone GET stream is open (at most one per session). */
  readonly standaloneOpen: Ref.Ref<boolean>
  /**
   * Sends the client a message of the session's own (e.g. a task's status): on its GET stream, kept
   * for replay until one is open. Never fails: a session already closed has no one to tell.
   */
  readonly notify: (message: JsonRpcNotification) => Effect.Effect<void>
  readonly close: Effect.Effect<void>
}

/**
 * A new session. Its scope keeps the FiberRefs of the fiber that runs this (its FiberMap's
 * finalizer restores them when it closes), so run it where those may live as long as the session:
 * not in a request's fiber (SessionStore builds sessions in its own runtime).
 */
export const makeSession = (options: {
  readonly id: string
  readonly kind: SessionKind
  /** Default: none (stdio, and HTTP without OAuth). */
  readonly subject?: Option.Option<string>
  readonly protocolVersion: string
  readonly replayCapacity: number
  /** How the session's own messages reach the client; default: its event stream (STANDALONE_STREAM or LEGACY_STREAM). */
  readonly deliver?: (message: JsonRpcNotification) => Effect.Effect<void>
}): Effect.Effect<Session> =>
  Effect.gen(function* () {
    const scope = yield* Scope.make()
    const inflight = yield* FiberMap.make<RequestId>().pipe(Scope.extend(scope))
    const events = yield* makeEventLog(options.replayCapacity)
    yield* Scope.addFinalizer(scope, events.shutdown)
    const now = yield* Clock.currentTimeMillis
    return {
      id: options.id,
      kind: options.kind,
      subject: options.subject ?? Option.none(),
      protocolVersion: yield* Ref.make(options.protocolVersion),
      initialized: yield* Ref.make(false),
      logLevel: yield* Ref.make<LogLevel>("info"),
      inflight,
      events,
      lastSeen: yield* Ref.make(now),
      scope,
      standaloneOpen: yield* Ref.make(false),
      notify: (message) =>
        (options.deliver ?? ((m: JsonRpcNotification) =>
          events.publish(options.kind === "legacy-sse" ? LEGACY_STREAM : STANDALONE_STREAM, JSON.stringify(m))))(message).pipe(Effect.exit, Effect.asVoid),
      close: Scope.close(scope, Exit.void)
    }
  })

export const touch = (session: Session) =>
  Clock.currentTimeMillis.pipe(Effect.flatMap((now) => Ref.set(session.lastSeen, now)))
