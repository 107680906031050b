import { Effect } from "effect"
import { describe, expect, it } from "@effect/vitest"
import { ObjectStore } from "../../src/services/storage/ObjectStore.js"
import { fakeAwsLake, storedRun } from "../fakes/awsLake.js"

/** `mode: replace` on the aws backend: one commit, so readers never see the table empty and a failure leaves it as it was. */

const FIRST = "20261126T031500123Z-a1b2c3"
const SECOND = "20261127T031500123Z-d4e5f6"

const runsIn = (rows: (sql: string) => Promise<ReadonlyArray<Record<string, unknown>>>) =>
  Effect.promise(() => rows("SELECT run_id, count(*)::INTEGER AS n FROM estat_db.census GROUP BY run_id ORDER BY run_id"))
const snapshotCount = (rows: (sql: string) => Promise<ReadonlyArray<Record<string, unknown>>>) =>
  Effect.map(Effect.promise(() => rows(`SELECT count(*)::INTEGER AS n FROM estat_db."census$snapshots"`)), (r) => r[0]!["n"])

describe("mode: replace on the aws backend (fake Athena + Glue)", () => {
  it.scopedLive("replaces the table's rows with the run's in one commit (one snapshot), also when the run is already there", () =>
    Effect.gen(function* () {
      const { lakehouse, fake, store } = yield* fakeAwsLake()
      const first = yield* storedRun("0003445078", FIRST, 300).pipe(Effect.provideService(ObjectStore, store))
      const second = yield* storedRun("0003445078", SECOND, 200).pipe(Effect.provideService(ObjectStore, store))
      yield* lakehouse.load("census", first, { create: true, mode: "append" })
      yield* lakehouse.load("census", second, { create: true, mode: "append" })
      expect(yield* snapshotCount(fake.rows)).toBe(2)
      const replaced = yield* lakehouse.load("census", first, { create: true, mode: "replace" })
      expect(replaced).toMatchObject({ recordsLoaded: 300, tableTotalRecords: 300, alreadyLoaded: false })
      expect(yield* runsIn(fake.rows)).toEqual([{ run_id: FIRST, n: 300 }])
      expect(yield* snapshotCount(fake.rows)).toBe(3)
      const writes = fake.executions.filter((e) => /^(INSERT|DELETE|MERGE|UPDATE)/.test(e.sql)).map((e) => e.sql.split(" ")[0])
      expect(writes).toEqual(["INSERT", "INSERT", "MERGE"])
      expect(replaced.snapshotId).toBe(String(yield* Effect.promise(() => fake.rows(`SELECT max(snapshot_id)::VARCHAR AS id FROM estat_db."census$snapshots"`)).pipe(Effect.map((r) => r[0]!["id"]))))
    }))

  it.scopedLive("a replace that fails leaves the table as it was, never empty", () =>
    Effect.gen(function* () {
      const { lakehouse, fake, store } = yield* fakeAwsLake({
        failWrite: (sql) => (sql.includes(SECOND) ? "HIVE_BAD_DATA: Error parsing field value '¥' for field 1" : undefined)
      })
      const first = yield* storedRun("0003445078", FIRST, 300).pipe(Effect.provideService(ObjectStore, store))
      const second = yield* storedRun("0003445078", SECOND, 200).pipe(Effect.provideService(ObjectStore, store))
      yield* lakehouse.load("census", first, { create: true, mode: "append" })
      const error = yield* Effect.flip(lakehouse.load("census", second, { create: true, mode: "replace" }))
      expect(error.message).toBe("The athena query ended FAILED: HIVE_BAD_DATA: Error parsing field value '¥' for field 1")
      expect(yield* runsIn(fake.rows)).toEqual([{ run_id: FIRST, n: 300 }])
      expect(yield* snapshotCount(fake.rows)).toBe(1)
    }))
})
