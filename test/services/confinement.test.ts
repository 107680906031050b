import { execFileSync, spawn } from "node:child_process"
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, relative } from "node:path"
import { Effect, Exit, Option } from "effect"
import { describe, expect, it } from "@effect/vitest"
import * as LocalFs from "../../src/services/storage/LocalFs.js"
import type { ObjectStore } from "../../src/services/storage/ObjectStore.js"
import { outsideSnapshot, SECRET, symlinksWork } from "../support/links.js"

/**
 * The local ObjectStore's one boundary: no key that is, or passes through, a symbolic link is read,
 * written, listed or deleted — links that lead outside DATA_DIR, links via `..`, dangling links and
 * (by choice) links that stay inside. Run with both ways of checking an opened file.
 */

interface Layout {
  readonly base: string
  readonly data: string
  readonly outside: string
  readonly store: ObjectStore["Type"]
}

const text = (s: string) => new TextEncoder().encode(s)

/** DATA_DIR with one real file and links of every kind; `outside` holds the secrets. */
const layout = (fdPaths: boolean) =>
  Effect.gen(function* () {
    const base = mkdtempSync(join(tmpdir(), "estat-links-"))
    yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(base, { recursive: true, force: true })))
    const data = join(base, "data")
    const outside = join(base, "outside")
    mkdirSync(join(outside, "dir"), { recursive: true })
    writeFileSync(join(outside, "secret.csv"), `a,b\r\n${SECRET},1\r\n`)
    writeFileSync(join(outside, "dir", "secret.csv"), `a,b\r\n${SECRET},2\r\n`)
    mkdirSync(join(data, "csv"), { recursive: true })
    writeFileSync(join(data, "csv", "real.csv"), "a,b\r\ninside,3\r\n")
    const link = (target: string, at: string) => symlinkSync(target, join(data, at))
    link(join(outside, "secret.csv"), "csv/file-link.csv")
    link(relative(join(data, "csv"), join(outside, "secret.csv")), "csv/dotdot-file.csv")
    link(join(outside, "dir"), "csv/dir-link")
    link("../..", "csv/up")
    link(join(outside, "missing.csv"), "csv/dangling.csv")
    link(join(outside, "missing-dir"), "csv/dangling-dir")
    link("real.csv", "csv/inside-link.csv")
    link("loop", "csv/loop")
    link(join(outside, "dir"), "linked-top")
    const store = yield* LocalFs.make(data, { fdPaths })
    return { base, data, outside, store } satisfies Layout
  })

/** Keys that are, or pass through, a link; reading any must be refused. */
const readAttacks: ReadonlyArray<readonly [string, string]> = [
  ["csv/file-link.csv", "csv/file-link.csv"],
  ["csv/dotdot-file.csv", "csv/dotdot-file.csv"],
  ["csv/dir-link/secret.csv", "csv/dir-link"],
  ["csv/up/outside/secret.csv", "csv/up"],
  ["csv/up/outside/dir/secret.csv", "csv/up"],
  ["csv/dangling.csv", "csv/dangling.csv"],
  ["csv/dangling-dir/secret.csv", "csv/dangling-dir"],
  ["csv/inside-link.csv", "csv/inside-link.csv"],
  ["csv/loop", "csv/loop"],
  ["csv/loop/x.csv", "csv/loop"],
  ["linked-top/secret.csv", "linked-top"]
]

/** Writes through or onto a link: refused, and nothing appears outside. */
const writeAttacks: ReadonlyArray<readonly [string, string]> = [
  ["linked-top/new.csv", "linked-top"],
  ["linked-top/new/deeper/x.csv", "linked-top"],
  ["csv/dir-link/new.csv", "csv/dir-link"],
  ["csv/up/outside/new.csv", "csv/up"],
  ["csv/up/new-dir/x.csv", "csv/up"],
  ["csv/dangling-dir/x.csv", "csv/dangling-dir"],
  ["csv/file-link.csv", "csv/file-link.csv"],
  ["csv/dangling.csv", "csv/dangling.csv"],
  ["csv/inside-link.csv", "csv/inside-link.csv"]
]

const expectRefused = <A, E extends { readonly _tag: string; readonly message: string }>(exit: Exit.Exit<A, E>, link: string, outside: string) => {
  expect(Exit.isFailure(exit)).toBe(true)
  if (Exit.isSuccess(exit)) return
  const error = Option.getOrThrow(Exit.causeOption(exit).pipe(Option.flatMap((cause) => Option.fromNullable(cause._tag === "Fail" ? cause.error : null))))
  expect(error).toMatchObject({ _tag: "StorageLinkRefused", link })
  expect(error.message).not.toContain(SECRET)
  expect(error.message).not.toContain(outside)
  expect(error.message).toContain("symbolic link")
}

describe.skipIf(!symlinksWork)("local storage confinement by real path", () => {
  describe.each([true, false])("through folder descriptors (/proc/self/fd): %s", (fdPaths) => {
    it.scopedLive(`refuses every read of a key that is or passes through a link (${readAttacks.length} keys × 4 reads)`, () =>
      Effect.gen(function* () {
        const { outside, store } = yield* layout(fdPaths)
        for (const [key, link] of readAttacks) {
          expectRefused(yield* Effect.exit(store.getBytes(key)), link, outside)
          expectRefused(yield* Effect.exit(store.getRange(key, 1000)), link, outside)
          expectRefused(yield* Effect.exit(store.head(key)), link, outside)
          expectRefused(yield* Effect.exit(Effect.scoped(store.localFile(key))), link, outside)
        }
        // The real file still reads; so does a key that only names a file via a file:// URL.
        expect(new TextDecoder().decode(yield* store.getBytes("csv/real.csv"))).toBe("a,b\r\ninside,3\r\n")
        expect(yield* store.getBytes(yield* store.keyOf(store.uri("csv/real.csv")))).toEqual(yield* store.getBytes("csv/real.csv"))
      }))

    it.scopedLive(`refuses every write onto or through a link, creating nothing outside (${writeAttacks.length} keys × 2 writes)`, () =>
      Effect.gen(function* () {
        const { base, data, outside, store } = yield* layout(fdPaths)
        const before = outsideSnapshot(outside)
        const baseEntries = outsideSnapshot(base, [data, outside])
        for (const [key, link] of writeAttacks) {
          expectRefused(yield* Effect.exit(store.putBytes(key, text("written"), "text/csv")), link, outside)
          const scratch = yield* store.scratchFile(".csv")
          writeFileSync(scratch, "written")
          expectRefused(yield* Effect.exit(store.putFile(key, scratch, "text/csv")), link, outside)
        }
        expect(outsideSnapshot(outside)).toEqual(before)
        expect(outsideSnapshot(base, [data, outside])).toEqual(baseEntries)
        // The links are still links: none was replaced by a file.
        for (const link of ["csv/file-link.csv", "csv/dangling.csv", "csv/inside-link.csv"]) expect(lstatSync(join(data, link)).isSymbolicLink()).toBe(true)
        expect((yield* store.putBytes("csv/new/ok.csv", text("fine"), "text/csv")).size).toBe(4)
      }))

    it.scopedLive("lists only real files, never through a link; deletes nothing through one", () =>
      Effect.gen(function* () {
        const { outside, store } = yield* layout(fdPaths)
        const listed = yield* store.list("csv/")
        expect(listed.map((o) => o.key)).toEqual(["csv/real.csv"])
        expect(yield* store.list("")).toEqual(listed)
        expectRefused(yield* Effect.exit(store.list("csv/dir-link/")), "csv/dir-link", outside)
        expectRefused(yield* Effect.exit(store.list("linked-top/")), "linked-top", outside)
        expectRefused(yield* Effect.exit(store.list("csv/up/outside/")), "csv/up", outside)
        expectRefused(yield* Effect.exit(store.remove("csv/dir-link/secret.csv")), "csv/dir-link", outside)
        expectRefused(yield* Effect.exit(store.remove("csv/up/outside/secret.csv")), "csv/up", outside)
        expectRefused(yield* Effect.exit(store.remove("csv/file-link.csv")), "csv/file-link.csv", outside)
        expect(readFileSync(join(outside, "dir", "secret.csv"), "utf8")).toContain(SECRET)
        expect(readFileSync(join(outside, "secret.csv"), "utf8")).toContain(SECRET)
      }))
  })

  // Where /proc/self/fd exists, every component is opened from its checked parent: a swap cannot race.
  it.scopedLive.skipIf(!existsSync("/proc/self/fd"))("a folder swapped to and from a link while reads, writes and listings run never lets one through", () =>
    Effect.gen(function* () {
      const { data, outside, store } = yield* layout(true)
      writeFileSync(join(outside, "dir", "only-outside.csv"), SECRET)
      mkdirSync(join(data, "csv", "box-real"))
      writeFileSync(join(data, "csv", "box-real", "secret.csv"), "inside")
      symlinkSync(join(outside, "dir"), join(data, "csv", "box-link"))
      const before = outsideSnapshot(outside)
      // A child process swaps csv/box between the real folder and the link for 1.5 s, then exits; a
      // folder the store made at csv/box meanwhile (writes make missing folders) is moved aside.
      const swapper = spawn(process.execPath, ["-e", `
        const fs = require("fs"), [box, real, link] = process.argv.slice(1), end = Date.now() + 1500
        let strays = 0
        const place = (from) => { for (;;) { try { return fs.renameSync(from, box) } catch { try { fs.renameSync(box, box + "-stray-" + strays++) } catch {} } } }
        while (Date.now() < end) { place(real); fs.renameSync(box, real); place(link); fs.renameSync(box, link) }
      `, join(data, "csv", "box"), join(data, "csv", "box-real"), join(data, "csv", "box-link")], { stdio: "ignore" })
      const exited = Effect.async<void>((resume) => void swapper.once("exit", () => resume(Effect.void)))
      yield* Effect.addFinalizer(() => Effect.sync(() => swapper.exitCode === null && swapper.kill()))
      let attempts = 0
      let allowed = 0
      const round = Effect.gen(function* () {
        attempts++
        const read = yield* Effect.either(store.getBytes("csv/box/secret.csv"))
        if (read._tag === "Right") (allowed++, expect(new TextDecoder().decode(read.right)).toBe("inside"))
        else expect(read.left.message).not.toContain(outside)
        yield* Effect.either(store.putBytes(`csv/box/new-${attempts}.csv`, text("new"), "text/csv"))
        const listed = yield* Effect.either(store.list("csv/box/"))
        if (listed._tag === "Right") expect(listed.right.map((o) => o.key).filter((k) => k.includes("only-outside"))).toEqual([])
      })
      yield* Effect.raceFirst(Effect.forever(round), exited)
      expect(attempts).toBeGreaterThan(10)
      expect(outsideSnapshot(outside)).toEqual(before)
      expect(allowed).toBeLessThan(attempts)
    }))

  it.scopedLive("a scratch folder replaced by a link is refused; DATA_DIR itself may be a link; a FIFO is not a file", () =>
    Effect.gen(function* () {
      const { data, outside, store } = yield* layout(true)
      rmSync(join(data, ".tmp"), { recursive: true })
      symlinkSync(join(outside, "dir"), join(data, ".tmp"))
      const before = outsideSnapshot(outside)
      // scratchFile fails with StorageFailure only (its contract on every backend), saying why.
      const scratch = yield* Effect.flip(Effect.scoped(store.scratchFile(".parquet")))
      expect(scratch._tag).toBe("StorageFailure")
      expect(scratch.message).toContain('".tmp" in the server\'s data dir is a symbolic link')
      expect(scratch.message).not.toContain(outside)
      expectRefused(yield* Effect.exit(store.putBytes("csv/x.csv", text("x"), "text/csv")), ".tmp", outside)
      expect(outsideSnapshot(outside)).toEqual(before)

      // The operator's DATA_DIR may be a link: it is resolved once, at start.
      const aliased = join(data, "..", "data-alias")
      symlinkSync(data, aliased)
      rmSync(join(data, ".tmp"))
      const viaAlias = yield* LocalFs.make(aliased)
      yield* viaAlias.putBytes("csv/via-alias.csv", text("ok"), "text/csv")
      expect(readFileSync(join(data, "csv", "via-alias.csv"), "utf8")).toBe("ok")
      expect(viaAlias.uri("csv/via-alias.csv")).toContain("data-alias")

      if (process.platform !== "win32") {
        execFileSync("mkfifo", [join(data, "csv", "pipe.csv")])
        expect(yield* viaAlias.head("csv/pipe.csv")).toEqual(Option.none())
        expect((yield* Effect.flip(viaAlias.getBytes("csv/pipe.csv")))._tag).toBe("StorageNotFound")
        expect(existsSync(join(data, "csv", "pipe.csv"))).toBe(true)
      }
    }))
})
