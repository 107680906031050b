import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3"
import { mockClient } from "aws-sdk-client-mock"
import { Chunk, Deferred, Duration, Effect, Exit, Fiber, Option, TestClock } from "effect"
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
      // A load that fails before it holds the lock fails the test with its error, not a timeout.
      yield* Effect.raceFirst(Deferred.await(held), Fiber.join(load))
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

/**
 * The lock at production timing (LOAD_LOCK_RETRY_BASE, maxWait = ATHENA_QUERY_TIMEOUT) over a
 * mocked S3 client, so only the TestClock moves time: the create answers 412 (held) until
 * `heldFor` attempts have been made, the lock read says another task holds it for an hour.
 * The load is forked as a daemon, so that a failing assertion does not leave the scope waiting for it.
 */
const heldLock = (heldFor: number) => {
  const client = new S3Client({ region: "ap-northeast-1", credentials: { accessKeyId: "test", secretAccessKey: "test" } })
  const s3 = mockClient(client)
  let attempts = 0
  s3.on(PutObjectCommand).callsFake(() => {
    attempts++
    return attempts <= heldFor
      ? Promise.reject(Object.assign(new Error("At least one of the pre-conditions you specified did not hold"), { name: "PreconditionFailed", $metadata: { httpStatusCode: 412 } }))
      : Promise.resolve({ ETag: "\"ours\"" })
  })
  s3.on(GetObjectCommand).callsFake(() =>
    Promise.resolve({ ETag: "\"theirs\"", Body: { transformToString: () => Promise.resolve(JSON.stringify({ owner: "other-task", expiresAt: 3_600_000 })) } }))
  s3.on(DeleteObjectCommand).resolves({})
  const lock = makeS3TableLock(client, { bucket: TEST_BUCKET, prefix: "lake/", database: "estat_db" }, {
    ttl: "2 minutes",
    maxWait: defaultSettings.athenaQueryTimeout,
    retryBase: defaultSettings.loadLockRetryBase
  })
  return { lock, attempts: () => attempts }
}

describe("the load lock's wait for a busy table, on the TestClock", () => {
  it.scoped("tried again after LOAD_LOCK_RETRY_BASE's backoff (x1.5, jittered ±20%): not sooner, and at once after; the load runs once it has the lock", () =>
    Effect.gen(function* () {
      expect(Duration.toMillis(defaultSettings.loadLockRetryBase)).toBe(250)
      const { lock, attempts } = heldLock(2)
      const load = yield* Effect.forkDaemon(lock.withLock("census", Effect.succeed("ran")))
      yield* TestClock.adjust("199 millis") // the first wait is 200–300 ms
      expect(attempts()).toBe(1)
      yield* TestClock.adjust("101 millis") // t = 300: tried again; the second wait is 300–450 ms
      expect(attempts()).toBe(2)
      yield* TestClock.adjust("199 millis") // t = 499, before the earliest second retry (200 + 300)
      expect(attempts()).toBe(2)
      yield* TestClock.adjust("251 millis") // t = 750, after the latest (300 + 450): the lock is free now
      expect(attempts()).toBe(3)
      expect(yield* Fiber.join(load)).toBe("ran")
    }))

  it.scoped("waits grow to 2 s at most, and the table is busy once ATHENA_QUERY_TIMEOUT has passed, not before", () =>
    Effect.gen(function* () {
      expect(Duration.toMillis(defaultSettings.athenaQueryTimeout)).toBe(300_000)
      const { lock, attempts } = heldLock(Number.POSITIVE_INFINITY)
      const load = yield* Effect.forkDaemon(lock.withLock("census", Effect.succeed("ran")))
      yield* TestClock.adjust("299 seconds")
      expect(Option.isNone(yield* Fiber.poll(load))).toBe(true)
      // Capped at 2 s (±20%): 290 s of 1.6–2.4 s waits after the first ten seconds; uncapped x1.5 growth would try under 20 times.
      expect(attempts()).toBeGreaterThan(120)
      expect(attempts()).toBeLessThan(200)
      yield* TestClock.adjust("3400 millis") // the last try before 300 s waits 2.4 s at most
      expect(Option.isSome(yield* Fiber.poll(load))).toBe(true)
      const error = yield* Effect.flip(Fiber.join(load))
      expect(error.message).toBe("Table estat_db.census: another load of this table is running (lock held by other-task); try again when it has ended")
    }))

  it.scoped("a cancelled load stops waiting at once, takes no lock and runs nothing", () =>
    Effect.gen(function* () {
      const { lock, attempts } = heldLock(Number.POSITIVE_INFINITY)
      let ran = false
      const load = yield* Effect.forkDaemon(lock.withLock("census", Effect.sync(() => { ran = true })))
      yield* TestClock.adjust("10 seconds")
      const tried = attempts()
      expect(tried).toBeGreaterThan(1)
      // Interrupting returns without the clock moving: the wait between attempts gave way.
      yield* Fiber.interrupt(load)
      expect(Exit.isInterrupted(yield* Fiber.await(load))).toBe(true)
      yield* TestClock.adjust("10 minutes")
      expect(attempts()).toBe(tried)
      expect(ran).toBe(false)
    }))

  it.scoped("a load cancelled while its lock is being created releases that lock once the create has answered", () =>
    Effect.gen(function* () {
      const client = new S3Client({ region: "ap-northeast-1", credentials: { accessKeyId: "test", secretAccessKey: "test" } })
      const s3 = mockClient(client)
      let answerPut: (etag: { ETag: string }) => void = () => undefined
      const putStarted = yield* Deferred.make<void>()
      s3.on(PutObjectCommand).callsFake(() => {
        Effect.runSync(Deferred.succeed(putStarted, undefined))
        return new Promise((resolve) => { answerPut = resolve })
      })
      const deleted: Array<string | undefined> = []
      s3.on(DeleteObjectCommand).callsFake((input: { IfMatch?: string }) => {
        deleted.push(input.IfMatch)
        return Promise.resolve({})
      })
      const lock = makeS3TableLock(client, { bucket: TEST_BUCKET, prefix: "lake/", database: "estat_db" }, {
        ttl: "2 minutes",
        maxWait: defaultSettings.athenaQueryTimeout,
        retryBase: defaultSettings.loadLockRetryBase
      })
      let ran = false
      const load = yield* Effect.forkDaemon(lock.withLock("census", Effect.sync(() => { ran = true })))
      yield* Deferred.await(putStarted)
      const interrupted = yield* Effect.fork(Fiber.interrupt(load))
      answerPut({ ETag: "\"ours\"" })
      yield* Fiber.join(interrupted)
      expect(Exit.isInterrupted(yield* Fiber.await(load))).toBe(true)
      expect(ran).toBe(false)
      expect(deleted).toEqual(["\"ours\""])
    }))
})
