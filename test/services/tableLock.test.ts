import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3"
import { Chunk, Deferred, Effect, Fiber, TestClock } from "effect"
import { describe, expect, it } from "@effect/vitest"
import { defaultSettings } from "../../src/config.js"
import { type LockTiming, makeS3TableLock } from "../../src/services/lakehouse/tableLock.js"
import { conditionalS3 } from "../fakes/conditionalS3.js"
import { s3rver, s3rverCredentials, TEST_BUCKET } from "../support/s3rver.js"

/** The load lock on S3 conditional writes (s3rver behind the conditional-write fake); time is the TestClock's. */

const KEY = "lake/locks/estat_db/census.json"

const setup = (timing: Omit<LockTiming, "retryBase">) =>
  Effect.gen(function* () {
    const s3 = yield* s3rver
    const conditional = yield* conditionalS3(s3.endpoint)
    const client = yield* Effect.acquireRelease(
      Effect.sync(() => new S3Client({ region: "ap-northeast-1", endpoint: conditional.endpoint, forcePathStyle: true, credentials: s3rverCredentials })),
      (c) => Effect.sync(() => c.destroy())
    )
    const lock = makeS3TableLock(client, { bucket: TEST_BUCKET, prefix: "lake/", database: "estat_db" }, { ...timing, retryBase: defaultSettings.loadLockRetryBase })
    const write = (body: unknown) => Effect.promise(() => client.send(new PutObjectCommand({ Bucket: TEST_BUCKET, Key: KEY, Body: JSON.stringify(body) })))
    const read = Effect.promise(() =>
      client.send(new GetObjectCommand({ Bucket: TEST_BUCKET, Key: KEY })).then(
        async (out) => JSON.parse(await out.Body!.transformToString()) as { owner: string; expiresAt: number },
        () => null
      ))
    return { lock, write, read, conditional }
  })

/**
 * Waits until the holder's renewal sleeps until `at`: moving the TestClock before its sleep is
 * registered (the holder is still busy with S3) would leave that sleep in the past, never woken.
 * Each look reads the lock, so the holder's own S3 calls get their turn in between.
 */
const renewalDueAt = (at: number, read: Effect.Effect<unknown>) =>
  Effect.repeat(Effect.zipRight(read, TestClock.sleeps()), { until: (sleeps) => Chunk.some(sleeps, (wake) => wake === at) })

describe("the S3 load lock", () => {
  it.scoped("a lock whose holder died (expired) is taken over; the load runs and removes its lock", () =>
    Effect.gen(function* () {
      const { lock, write, read } = yield* setup({ ttl: "1 minute", maxWait: "0 millis" })
      yield* TestClock.adjust("10 minutes")
      yield* write({ owner: "dead-task", expiresAt: 60_000 })
      const during = yield* lock.withLock("census", read)
      expect(during).toMatchObject({ expiresAt: 10 * 60_000 + 60_000 })
      expect(during!.owner).not.toBe("dead-task")
      expect(yield* read).toBeNull()
    }))

  it.scoped("a live lock of another load: the table is busy once the wait is over, and the lock is left alone", () =>
    Effect.gen(function* () {
      const { lock, write, read } = yield* setup({ ttl: "1 minute", maxWait: "0 millis" })
      yield* write({ owner: "other-task", expiresAt: 60_000 })
      const error = yield* Effect.flip(lock.withLock("census", Effect.succeed("ran")))
      expect(error.message).toBe("Table estat_db.census: another load of this table is running (lock held by other-task); try again when it has ended")
      expect(yield* read).toEqual({ owner: "other-task", expiresAt: 60_000 })
    }))

  it.scoped("the holder renews its lock every third of its life; a load whose lock was taken over is stopped", () =>
    Effect.gen(function* () {
      const { lock, write, read } = yield* setup({ ttl: "30 seconds", maxWait: "0 millis" })
      const held = yield* Deferred.make<void>()
      const load = yield* Effect.fork(lock.withLock("census", Effect.zipRight(Deferred.succeed(held, undefined), Effect.never)))
      yield* Deferred.await(held)
      const first = yield* read
      expect(first!.expiresAt).toBe(30_000)
      yield* renewalDueAt(10_000, read)
      yield* TestClock.adjust("10 seconds")
      yield* Effect.repeat(read, { until: (body) => body!.expiresAt === 40_000 }) // renewed: another 30 s from now
      // Another task takes it over (as after an expiry): the next renewal finds it gone and stops the load.
      yield* write({ owner: "thief", expiresAt: 99_000 })
      yield* renewalDueAt(20_000, read)
      yield* TestClock.adjust("10 seconds")
      const error = yield* Fiber.join(load).pipe(Effect.flip)
      expect(error.message).toBe("Table estat_db.census: the load lock expired and another load took it over; this load stopped")
      expect(yield* read).toEqual({ owner: "thief", expiresAt: 99_000 })
    }))
})
