import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Exit } from "effect"
import { describe, expect, it } from "@effect/vitest"
import * as LocalFs from "../../../src/services/storage/LocalFs.js"
import type { ObjectStore } from "../../../src/services/storage/ObjectStore.js"
import * as ObjectStoreMemory from "../../../src/testing/ObjectStoreMemory.js"

/**
 * The scratch space (`DATA_DIR/.tmp`, where files are written before their rename) is the store's
 * own: no key may name it, on any store, so no caller reads a half-written file, lists the scratch
 * files, or overwrites or deletes one under a write in flight.
 */

/** The folder's own name, and the spellings case-insensitive (macOS, Windows) and dot-trimming (Windows) file systems read as it. */
const SCRATCH_KEYS = [".tmp", ".tmp/1700000000000-abcdef.part", ".tmp/x/y.csv", ".TMP/x/y.csv", ".Tmp/1700000000000-abcdef.part", ".tmp./x/y.csv", ".tmp /x/y.csv", ".tmp.. ./x"]

/** Every operation on a key: the tag of each failure, or "ok". */
const outcomes = (store: ObjectStore["Type"], key: string) =>
  Effect.all({
    get: store.getBytes(key),
    head: store.head(key),
    put: store.putBytes(key, new TextEncoder().encode("overwritten"), "text/csv"),
    remove: store.remove(key),
    list: store.list(`${key}/`),
    url: store.downloadUrl(key, { expiresInSeconds: 60, fileName: "x.csv" })
  }, { mode: "either" }).pipe(
    Effect.map((results) => Object.fromEntries(Object.entries(results).map(([name, result]) => [name, result._tag === "Left" ? result.left._tag : "ok"])))
  )

const refusedEverywhere = { get: "InvalidStorageKey", head: "InvalidStorageKey", put: "InvalidStorageKey", remove: "InvalidStorageKey", list: "InvalidStorageKey", url: "InvalidStorageKey" }

describe("the scratch space is not a key", () => {
  it.scoped("LocalFs: a file in DATA_DIR/.tmp is out of reach by key and by file:// URI; a .tmp segment deeper down is an ordinary key", () =>
    Effect.gen(function* () {
      const data = mkdtempSync(join(tmpdir(), "estat-scratch-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(data, { recursive: true, force: true })))
      const store = yield* LocalFs.make(data)
      mkdirSync(join(data, ".tmp", "x"), { recursive: true })
      writeFileSync(join(data, ".tmp", "1700000000000-abcdef.part"), "half a file")
      writeFileSync(join(data, ".tmp", "x", "y.csv"), "half a file")

      for (const key of SCRATCH_KEYS) expect(yield* outcomes(store, key), key).toEqual(refusedEverywhere)
      for (const key of SCRATCH_KEYS) expect(Exit.isFailure(yield* Effect.exit(store.keyOf(store.uri(key)))), key).toBe(true)
      // A file:// URI is percent-decoded before the check: an encoded dot is the same folder.
      const encoded = store.uri("x").replace(/x$/, "%2Etmp/x/y.csv")
      expect(Exit.isFailure(yield* Effect.exit(store.keyOf(encoded))), encoded).toBe(true)
      expect(readdirSync(join(data, ".tmp")).sort()).toEqual(["1700000000000-abcdef.part", "x"])

      yield* store.putBytes("runs/.tmp/a.csv", new TextEncoder().encode("a"), "text/csv")
      expect(new TextDecoder().decode(yield* store.getBytes("runs/.tmp/a.csv"))).toBe("a")
      expect((yield* store.list("")).map((o) => o.key)).toEqual(["runs/.tmp/a.csv"])
    }))

  it.scoped("the in-memory store refuses the same keys, as the contract says", () =>
    Effect.gen(function* () {
      const store = yield* ObjectStoreMemory.make()
      for (const key of SCRATCH_KEYS) expect(yield* outcomes(store, key), key).toEqual(refusedEverywhere)
    }))
})

describe("tasks' records are not a location a user can name", () => {
  const TASK_LOCATIONS = ["tasks/abc/AAAAAAAAAAAAAAAAAAAAAA/result.json", "tasks", "tasks/", "TASKS/abc/x/state.json", "tasks./abc/x", "Tasks /abc/x"]

  it.scoped("keyOf refuses them as keys and as the store's URIs, on every store; the store itself still writes there", () =>
    Effect.gen(function* () {
      const data = mkdtempSync(join(tmpdir(), "estat-taskkeys-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(data, { recursive: true, force: true })))
      for (const store of [yield* LocalFs.make(data), yield* ObjectStoreMemory.make()]) {
        yield* store.putBytes("tasks/abc/AAAAAAAAAAAAAAAAAAAAAA/result.json", new TextEncoder().encode("{}"), "application/json")
        for (const location of TASK_LOCATIONS) {
          expect(Exit.isFailure(yield* Effect.exit(store.keyOf(location))), location).toBe(true)
          expect(Exit.isFailure(yield* Effect.exit(store.keyOf(store.uri(location)))), location).toBe(true)
        }
        expect(yield* store.keyOf("csv/tasks/x.csv")).toBe("csv/tasks/x.csv")
      }
    }))
})
