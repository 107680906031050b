import { randomUUID } from "node:crypto"
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3"
import { Clock, Duration, Effect, Option, Ref, Schedule, Schema } from "effect"
import { CatalogError } from "./Lakehouse.js"

/**
 * At most one load per table at a time, across every task sharing the bucket: a lock object
 * `locks/<database>/<table>.json` created with a conditional write (`If-None-Match: *`, which S3
 * answers 412 when the object exists). The holder renews it (`If-Match` its ETag) every third of
 * its time to live; a holder that died leaves a lock that expires, and the next load takes it over
 * with `If-Match` on the stale ETag, so two waiters cannot both take it. A load that cannot get the
 * lock within `maxWait` fails with the table busy; one whose lock was taken over fails too.
 */

export interface TableLock {
  readonly withLock: <A, E, R>(table: string, use: Effect.Effect<A, E, R>) => Effect.Effect<A, E | CatalogError, R>
}

/** Held by another load, for now (transient: retried). */
class LockHeld extends Schema.TaggedError<LockHeld>()("LockHeld", { owner: Schema.String, expiresAt: Schema.Number }) {}

interface LockBody {
  readonly owner: string
  readonly expiresAt: number
}

export interface LockTiming {
  /** How long a lock lives unless renewed. */
  readonly ttl: Duration.DurationInput
  /** How long a load waits for another load of the same table. */
  readonly maxWait: Duration.DurationInput
  /** First wait between attempts (growing to 2 s at most): LOAD_LOCK_RETRY_BASE. */
  readonly retryBase: Duration.DurationInput
}

export const makeS3TableLock = (client: S3Client, location: { readonly bucket: string; readonly prefix: string; readonly database: string }, timing: LockTiming): TableLock => {
  const ttlMs = Duration.toMillis(timing.ttl)
  const keyOf = (table: string) => `${location.prefix}locks/${location.database}/${table}.json`
  const failed = (table: string, what: string) => (error: unknown) =>
    new CatalogError({ table: `${location.database}.${table}`, reason: `${what} the load lock: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}` })
  const status = (error: unknown) => (error as { readonly $metadata?: { readonly httpStatusCode?: number } }).$metadata?.httpStatusCode

  /** A conditional PUT: the new ETag, or none when the condition did not hold (412, a concurrent write's 409, 404 for If-Match). */
  const put = (table: string, body: LockBody, condition: { readonly IfNoneMatch: "*" } | { readonly IfMatch: string }) =>
    Effect.tryPromise({
      try: (abortSignal) =>
        client.send(new PutObjectCommand({
          Bucket: location.bucket, Key: keyOf(table), Body: JSON.stringify(body), ContentType: "application/json", ...condition
        }), { abortSignal }).then((out) => Option.some(out.ETag ?? ""), (error: unknown) => {
          if ([404, 409, 412].includes(status(error) ?? 0)) return Option.none<string>()
          throw error
        }),
      catch: failed(table, "could not write")
    })

  const read = (table: string) =>
    Effect.tryPromise({
      try: async (abortSignal) => {
        const out = await client.send(new GetObjectCommand({ Bucket: location.bucket, Key: keyOf(table) }), { abortSignal }).catch((error: unknown) => {
          if (status(error) === 404) return null
          throw error
        })
        if (out === null || out.Body === undefined) return Option.none<LockBody & { readonly etag: string }>()
        const body = JSON.parse(await out.Body.transformToString()) as Partial<LockBody>
        return Option.some({ owner: String(body.owner), expiresAt: Number(body.expiresAt ?? 0), etag: out.ETag ?? "" })
      },
      catch: failed(table, "could not read")
    })

  /** Takes the lock; its ETag also goes into `taken` the moment it is ours, so an interrupted wait can still release it. */
  const acquire = (table: string, owner: string, taken: Ref.Ref<Option.Option<string>>) =>
    Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      const body = { owner, expiresAt: now + ttlMs }
      const created = yield* put(table, body, { IfNoneMatch: "*" })
      if (Option.isSome(created)) return created.value
      const current = yield* read(table)
      if (Option.isNone(current)) return yield* new LockHeld({ owner: "(released meanwhile)", expiresAt: now })
      if (current.value.expiresAt > now) return yield* new LockHeld({ owner: current.value.owner, expiresAt: current.value.expiresAt })
      // Expired: its holder died. Take it over unless another waiter did first.
      const takenOver = yield* put(table, body, { IfMatch: current.value.etag })
      if (Option.isSome(takenOver)) return takenOver.value
      return yield* new LockHeld({ owner: "(taken over meanwhile)", expiresAt: now })
    }).pipe(
      Effect.tap((etag) => Ref.set(taken, Option.some(etag))),
      // An attempt runs whole; the waits between attempts can be interrupted, so a cancelled load
      // stops waiting at once (withLock releases a lock an interrupted acquire had already taken).
      Effect.uninterruptible,
      Effect.retry({
        schedule: Schedule.exponential(timing.retryBase, 1.5).pipe(
          Schedule.union(Schedule.spaced("2 seconds")),
          Schedule.jittered,
          Schedule.upTo(timing.maxWait)
        ),
        while: (error) => error._tag === "LockHeld"
      }),
      Effect.catchTag("LockHeld", (held) =>
        Effect.fail(new CatalogError({
          table: `${location.database}.${table}`,
          reason: `another load of this table is running (lock held by ${held.owner}); try again when it has ended`
        })))
    )

  /** Renews the lock every third of its life; fails when another load has taken it over. */
  const renew = (table: string, owner: string, etag: Ref.Ref<string>) =>
    Effect.gen(function* () {
      yield* Effect.sleep(Duration.millis(ttlMs / 3))
      const now = yield* Clock.currentTimeMillis
      const renewed = yield* put(table, { owner, expiresAt: now + ttlMs }, { IfMatch: yield* Ref.get(etag) })
      if (Option.isNone(renewed)) {
        return yield* new CatalogError({ table: `${location.database}.${table}`, reason: "the load lock expired and another load took it over; this load stopped" })
      }
      yield* Ref.set(etag, renewed.value)
    }).pipe(Effect.forever)

  const release = (table: string, IfMatch: string) =>
    Effect.tryPromise({
      try: (abortSignal) => client.send(new DeleteObjectCommand({ Bucket: location.bucket, Key: keyOf(table), IfMatch }), { abortSignal }),
      catch: failed(table, "could not release")
    }).pipe(
      // Already taken over (412) or gone: nothing of ours to remove. Anything else expires by itself.
      Effect.catchAll((error) => Effect.logWarning(error.message))
    )

  return {
    withLock: (table, use) =>
      Effect.gen(function* () {
        const owner = randomUUID()
        const taken = yield* Ref.make(Option.none<string>())
        const releaseTaken = Effect.flatMap(Ref.get(taken), Option.match({
          onNone: () => Effect.void,
          onSome: (etag) => release(table, etag)
        }))
        return yield* Effect.acquireUseRelease(
          Effect.interruptible(acquire(table, owner, taken)).pipe(Effect.onInterrupt(() => releaseTaken), Effect.flatMap((etag) => Ref.make(etag))),
          (etag) => Effect.raceFirst(use, renew(table, owner, etag)),
          (etag) => Effect.flatMap(Ref.get(etag), (current) => release(table, current))
        )
      }).pipe(Effect.withSpan("TableLock.withLock", { attributes: { table } }))
  }
}
