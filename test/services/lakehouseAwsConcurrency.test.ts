import { Effect } from "effect"
import { describe, expect, it } from "@effect/vitest"
import { ObjectStore } from "../../src/services/storage/ObjectStore.js"
import { fakeAwsLake, storedRun } from "../fakes/awsLake.js"

/** Loads on the aws backend as several tasks make them at once: against the fake Athena + Glue and S3 with conditional writes. */

const RUN = "20261126T031500123Z-a1b2c3"

describe("aws loads under concurrency (fake Athena + Glue, S3 conditional writes)", () => {
  it.scopedLive("two loads of the same run at once: one loads it, the other waits its turn and finds it loaded; every row once", () =>
    Effect.gen(function* () {
      const { lakehouse, fake, store, conditional } = yield* fakeAwsLake({ runMillis: 15 })
      const run = yield* storedRun("0003445078", RUN, 1000).pipe(Effect.provideService(ObjectStore, store))
      const results = yield* Effect.all([
        lakehouse.load("census", run, { create: true, mode: "append" }),
        lakehouse.load("census", run, { create: true, mode: "append" })
      ], { concurrency: 2 })
      expect(results.map((r) => [r.recordsLoaded, r.alreadyLoaded]).sort()).toEqual([[0, true], [1000, false]])
      expect(results.map((r) => r.tableTotalRecords)).toEqual([1000, 1000])
      expect(yield* Effect.promise(() => fake.rows(`SELECT count(*)::INTEGER AS n, count(DISTINCT value)::INTEGER AS distinct_values FROM estat_db.census`)))
        .toEqual([{ n: 1000, distinct_values: 1000 }])
      // The second load was refused the lock at least once, and no lock is left behind.
      expect(conditional.refused.some((r) => r.startsWith("PreconditionFailed /estat-test/lake/locks/estat_db/census.json"))).toBe(true)
      expect((yield* store.list("locks/")).map((o) => o.key)).toEqual([])
      expect(yield* lakehouse.tables).toEqual(["census"])
    }))

  it.scopedLive("the same run into two tables at once: each load's temporary table is its own, neither's cleanup breaks the other", () =>
    Effect.gen(function* () {
      const { lakehouse, fake, store } = yield* fakeAwsLake({ runMillis: 15 })
      const run = yield* storedRun("0003445078", RUN, 400).pipe(Effect.provideService(ObjectStore, store))
      const results = yield* Effect.all([
        lakehouse.load("census_a", run, { create: true, mode: "append" }),
        lakehouse.load("census_b", run, { create: true, mode: "append" })
      ], { concurrency: 2 })
      expect(results.map((r) => r.recordsLoaded)).toEqual([400, 400])
      const temporaries = new Set(fake.executions.map((e) => /estat_tmp_\w+/.exec(e.sql)?.[0]).filter((n) => n !== undefined))
      expect(temporaries.size).toBe(2)
      expect(yield* lakehouse.tables).toEqual(["census_a", "census_b"])
    }))

  it.scopedLive("an insert that loses to a concurrent Iceberg commit (ICEBERG_COMMIT_ERROR) is tried again with backoff; the rows land once", () =>
    Effect.gen(function* () {
      const { lakehouse, fake, store } = yield* fakeAwsLake({ failCommits: 2 })
      const run = yield* storedRun("0003445078", RUN, 300).pipe(Effect.provideService(ObjectStore, store))
      const result = yield* lakehouse.load("census", run, { create: true, mode: "append" })
      expect(result).toMatchObject({ recordsLoaded: 300, tableTotalRecords: 300, alreadyLoaded: false })
      const inserts = fake.executions.filter((e) => e.sql.startsWith("INSERT INTO"))
      expect(inserts.map((e) => e.state)).toEqual(["FAILED", "FAILED", "SUCCEEDED"])
      expect(inserts[0]!.reason).toMatch(/^ICEBERG_COMMIT_ERROR/)
    }))

  it.scopedLive("a failure that is not a commit conflict is not tried again", () =>
    Effect.gen(function* () {
      const { lakehouse, fake, store } = yield* fakeAwsLake()
      const run = yield* storedRun("0003445078", RUN, 10).pipe(Effect.provideService(ObjectStore, store))
      yield* lakehouse.load("census", run, { create: true, mode: "append" })
      // A run whose part cannot be read fails once, not four times.
      const broken = { ...run, runId: "20261126T031500124Z-b1b2c3", parts: [{ key: "datasets/0003445078/missing.parquet", rows: 1 }] }
      const before = fake.executions.length
      const error = yield* Effect.flip(lakehouse.load("census", broken, { create: true, mode: "append" }))
      expect(error._tag).toBe("QueryFailed")
      expect(fake.executions.slice(before).filter((e) => e.state === "FAILED")).toHaveLength(1)
    }))
})
