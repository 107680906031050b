import { randomBytes } from "node:crypto"
import { constants, type Dirent, type Stats } from "node:fs"
import * as nodeFs from "node:fs/promises"
import * as nodePath from "node:path"
import { Clock, Effect, Either, Option, type Scope } from "effect"
import { isScratchSegment, StorageAccessDenied, StorageFailure, StorageLinkRefused, StorageNotFound, StorageUnusable } from "./ObjectStore.js"

/**
 * Files under the real DATA_DIR that no link leads out of: the local ObjectStore's one boundary.
 * DATA_DIR is resolved once, at start (it may itself be a link the operator made); below it every
 * component of every key must be a real folder or file. A symbolic link anywhere on the way is
 * refused, whether it leads outside or stays inside: the server makes none, and a link inside can
 * be pointed elsewhere between a check and a use.
 *
 * Where `/proc/self/fd` exists (Linux), each folder is opened with O_NOFOLLOW from the descriptor of
 * the one above it, and every read, write, rename and delete goes through the descriptor of the
 * checked folder (`/proc/self/fd/N/name`, as openat/renameat would): a link swapped in after a check
 * is never followed. Elsewhere folders are checked with lstat one level at a time and a read checks,
 * after opening, that the key's real path names the file it opened (a swap in between can race).
 *
 * node:fs rather than @effect/platform's FileSystem: that has no lstat, O_NOFOLLOW or directory descriptors.
 */

type Failure = StorageNotFound | StorageAccessDenied | StorageFailure | StorageLinkRefused

/** A checked folder as later calls reach it: `/proc/self/fd/N` (its open descriptor) or its real path. */
interface Folder {
  readonly at: string
}

// A FIFO planted as a key would block a plain open; O_NONBLOCK is a no-op for regular files.
const FILE_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0)
const FOLDER_FLAGS = constants.O_RDONLY | (constants.O_DIRECTORY ?? 0) | (constants.O_NOFOLLOW ?? 0)

const codeOf = (error: unknown) => (error as NodeJS.ErrnoException | undefined)?.code
const isMissing = (error: unknown) => codeOf(error) === "ENOENT" || codeOf(error) === "ENOTDIR"
const attempt = <A>(run: () => Promise<A>) => Effect.either(Effect.tryPromise({ try: run, catch: (error) => error }))
const closing = (open: () => Promise<nodeFs.FileHandle>) =>
  Effect.acquireRelease(Effect.tryPromise({ try: open, catch: (error) => error }), (handle) => Effect.promise(() => handle.close().catch(() => undefined)))

const rootProblems: Record<string, string> = {
  ENOTDIR: "a part of the path is a file, not a folder",
  EACCES: "this user may not write there",
  EPERM: "this user may not write there",
  EROFS: "the file system is read-only",
  ENOSPC: "the disk is full"
}

/** DATA_DIR, made if missing, resolved to its real path (it may be a link the operator made), writable: or the server does not start. */
const usableRoot = (dataDir: string) => {
  const step = <A>(run: () => Promise<A>) =>
    Effect.tryPromise({
      try: run,
      catch: (error) => {
        const code = codeOf(error)
        const problem = code === undefined ? String(error) : `${rootProblems[code] ?? "the system refused"} (${code})`
        return new StorageUnusable({ setting: "DATA_DIR", value: dataDir, reason: `${problem}. Set DATA_DIR to a folder this user can write.` })
      }
    })
  return step(() => nodeFs.mkdir(dataDir, { recursive: true })).pipe(
    Effect.zipRight(step(() => nodeFs.realpath(dataDir))),
    Effect.tap((real) => step(() => nodeFs.access(real, constants.W_OK)))
  )
}

/**
 * `locate` names a key in messages (its URI under the configured DATA_DIR). `fdPaths`: reach files
 * through folder descriptors (default: when `/proc/self/fd` exists) or check them by path.
 */
export const make = (dataDir: string, locate: (key: string) => string, options: { readonly fdPaths?: boolean } = {}) =>
  Effect.gen(function* () {
    const failure = (operation: string, key: string, error: unknown): Failure => {
      const location = locate(key)
      // The code and call, not Node's message: that names /proc/self/fd paths, not keys.
      const errno = error as NodeJS.ErrnoException
      const reason = errno?.code !== undefined ? `${errno.code} (${errno.syscall ?? operation})` : error instanceof Error ? error.message : String(error)
      if (isMissing(error)) return new StorageNotFound({ location })
      if (codeOf(error) === "EACCES" || codeOf(error) === "EPERM") return new StorageAccessDenied({ location, reason })
      return new StorageFailure({ operation, location, reason })
    }
    const io = <A>(operation: string, key: string, run: () => Promise<A>) =>
      Effect.tryPromise({ try: run, catch: (error) => failure(operation, key, error) })

    const root = yield* usableRoot(dataDir)
    const fdPaths = options.fdPaths ?? (yield* Effect.promise(() => nodeFs.access("/proc/self/fd").then(() => true, () => false)))
    const realPathOf = (key: string) => (key === "" ? root : nodePath.join(root, ...key.split("/")))
    const refused = (key: string, link: string) => new StorageLinkRefused({ location: locate(key), link })

    const lstat = (key: string, at: string): Effect.Effect<Option.Option<Stats>, Failure> =>
      Effect.flatMap(attempt(() => nodeFs.lstat(at)), Either.match({
        onLeft: (error) => (isMissing(error) ? Effect.succeedNone : Effect.fail(failure("inspect", key, error))),
        onRight: (stats) => Effect.succeedSome(stats)
      }))

    /** Why `at` (the component `part` of `key`) could not be used: a link, not a folder, missing, or `error`. */
    const explain = (key: string, part: string, at: string, error: unknown, asFolder: boolean, create: boolean) =>
      Effect.flatMap(lstat(key, at), (found): Effect.Effect<never, Failure> => {
        if (Option.isSome(found) && found.value.isSymbolicLink()) return Effect.fail(refused(key, part))
        if (Option.isSome(found) && asFolder && !found.value.isDirectory()) {
          return Effect.fail(create
            ? new StorageFailure({ operation: "store", location: locate(key), reason: `${part} is a file, not a folder` })
            : new StorageNotFound({ location: locate(key) }))
        }
        return Effect.fail(failure(create ? "store" : "read", key, error))
      })

    /**
     * The folder `folderKey` (a key prefix, "" for the root) for an operation on `key`, every
     * component checked to be a real folder; `create` makes the missing ones, one level at a time.
     */
    const folder = (key: string, folderKey: string, create: boolean): Effect.Effect<Folder, Failure, Scope.Scope> =>
      Effect.gen(function* () {
        const segments = folderKey === "" ? [] : folderKey.split("/")
        let at = fdPaths ? `/proc/self/fd/${(yield* closing(() => nodeFs.open(root, FOLDER_FLAGS)).pipe(Effect.mapError((e) => failure("open", key, e)))).fd}` : root
        for (const [i, segment] of segments.entries()) {
          const part = segments.slice(0, i + 1).join("/")
          const next = nodePath.join(at, segment)
          if (create) {
            const made = yield* attempt(() => nodeFs.mkdir(next))
            if (Either.isLeft(made) && codeOf(made.left) !== "EEXIST") return yield* explain(key, part, next, made.left, true, create)
          }
          if (fdPaths) {
            const opened = yield* Effect.either(closing(() => nodeFs.open(next, FOLDER_FLAGS)))
            if (Either.isLeft(opened)) return yield* explain(key, part, next, opened.left, true, create)
            at = `/proc/self/fd/${opened.right.fd}`
          } else {
            const found = yield* lstat(key, next)
            if (Option.isNone(found)) return yield* new StorageNotFound({ location: locate(key) })
            if (found.value.isSymbolicLink() || !found.value.isDirectory()) return yield* explain(key, part, next, "changed while checked", true, create)
            at = next
          }
        }
        return { at }
      })

    const split = (key: string) => {
      const slash = key.lastIndexOf("/")
      return { parent: slash < 0 ? "" : key.slice(0, slash), name: key.slice(slash + 1) }
    }

    /** Path mode only: the key's real path names the file that was opened (no link swapped in meanwhile). */
    const openedIsAt = (key: string, handle: nodeFs.FileHandle) =>
      io("read", key, async () => {
        const path = realPathOf(key)
        const [real, opened, named] = await Promise.all([nodeFs.realpath(path), handle.stat({ bigint: true }), nodeFs.stat(path, { bigint: true })])
        return real === path && opened.dev === named.dev && opened.ino === named.ino
      })

    /** `key` opened for reading, closed with the scope; a folder or anything but a file is not found. */
    const openRead = (key: string) =>
      Effect.gen(function* () {
        const { name, parent } = split(key)
        const at = nodePath.join((yield* folder(key, parent, false)).at, name)
        const opened = yield* Effect.either(closing(() => nodeFs.open(at, FILE_FLAGS)))
        if (Either.isLeft(opened)) return yield* explain(key, key, at, opened.left, false, false)
        if (!fdPaths && !(yield* openedIsAt(key, opened.right))) return yield* refused(key, key)
        const stats = yield* io("read", key, () => opened.right.stat())
        if (!stats.isFile()) return yield* new StorageNotFound({ location: locate(key) })
        return { handle: opened.right, size: stats.size, lastModified: stats.mtime }
      })

    /** The file at `key`, checked; `path` (its real path) is for DuckDB, which opens it again itself. */
    const inspect = (key: string) =>
      Effect.scoped(Effect.map(openRead(key), ({ lastModified, size }) => ({ path: realPathOf(key), size, lastModified })))

    /** The content of `key`, or its first `maxBytes` bytes, read from the descriptor that was checked. */
    const readBytes = (key: string, maxBytes?: number) =>
      Effect.scoped(Effect.flatMap(openRead(key), (file) =>
        io("read", key, async (): Promise<Uint8Array> => {
          if (maxBytes === undefined) return file.handle.readFile()
          const buffer = new Uint8Array(maxBytes)
          const { bytesRead } = await file.handle.read(buffer, 0, maxBytes, 0)
          return buffer.subarray(0, bytesRead)
        })))

    /** Moves a finished local file to `key`: into folders made and checked level by level, never onto a link. */
    const moveInto = (key: string, from: string) =>
      Effect.gen(function* () {
        const { name, parent } = split(key)
        yield* Effect.scoped(Effect.gen(function* () {
          const target = nodePath.join((yield* folder(key, parent, true)).at, name)
          const existing = yield* lstat(key, target)
          if (Option.isSome(existing) && existing.value.isSymbolicLink()) return yield* refused(key, key)
          // Missing here is the local file (or a folder removed meanwhile), not the key: a failure to store.
          yield* io("store", key, () => nodeFs.rename(from, target)).pipe(Effect.catchTag("StorageNotFound", ({ location }) =>
            new StorageFailure({ operation: "store", location, reason: "ENOENT (rename): the local file to store, or the folder it goes to, is not there" })))
        }))
        return yield* inspect(key)
      })

    /** A fresh path in the scratch folder (checked to be a real folder each time). */
    const scratchPath = (suffix: string) =>
      Effect.zipRight(Effect.scoped(folder(".tmp", ".tmp", true)), Effect.map(Clock.currentTimeMillis, (now) => nodePath.join(root, ".tmp", `${now}-${randomBytes(6).toString("hex")}${suffix}`)))

    /** Small content to a new scratch file, created there (never over an existing file or link). */
    const writeScratch = (key: string, bytes: Uint8Array) =>
      Effect.scoped(Effect.gen(function* () {
        const dir = yield* folder(key, ".tmp", true)
        const name = `${yield* Clock.currentTimeMillis}-${randomBytes(6).toString("hex")}.part`
        yield* io("store", key, () => nodeFs.writeFile(nodePath.join(dir.at, name), bytes, { flag: "wx" }))
        return nodePath.join(root, ".tmp", name)
      }))

    /** The files (not links, not folders) in and below `dir` whose keys start with `prefix`. */
    const filesUnder = (dir: Folder, key: string, prefix: string): Effect.Effect<ReadonlyArray<{ readonly key: string; readonly size: number; readonly lastModified: Option.Option<Date> }>, Failure> =>
      Effect.gen(function* () {
        const entries = yield* io("list", key, (): Promise<ReadonlyArray<Dirent>> => nodeFs.readdir(dir.at, { withFileTypes: true })).pipe(
          Effect.catchTag("StorageNotFound", () => Effect.succeed<ReadonlyArray<Dirent>>([]))
        )
        const nested = yield* Effect.forEach(entries, (entry) => {
          const child = key === "" ? entry.name : `${key}/${entry.name}`
          if (entry.isFile() && child.startsWith(prefix)) {
            return Effect.map(lstat(child, nodePath.join(dir.at, entry.name)), Option.match({
              onNone: () => [],
              onSome: (info) => (info.isFile() ? [{ key: child, size: info.size, lastModified: Option.some(info.mtime) }] : [])
            }))
          }
          const relevant = `${child}/`.startsWith(prefix) || prefix.startsWith(`${child}/`)
          if (!entry.isDirectory() || isScratchSegment(child) || !relevant) return Effect.succeed([])
          // A folder swapped for a link since readdir is skipped like any link.
          return Effect.scoped(folder(child, child, false).pipe(
            Effect.flatMap((sub) => filesUnder(sub, child, prefix)),
            Effect.catchTags({ StorageLinkRefused: () => Effect.succeed([]), StorageNotFound: () => Effect.succeed([]) })
          ))
        }, { concurrency: 8 })
        return nested.flat()
      })

    /** Files whose keys start with `prefix`, sorted; the folder it names must not be or pass through a link. */
    const list = (prefix: string) =>
      Effect.scoped(Effect.gen(function* () {
        const base = split(prefix).parent
        const dir = yield* folder(prefix, base, false).pipe(Effect.map(Option.some), Effect.catchTag("StorageNotFound", () => Effect.succeedNone))
        if (Option.isNone(dir)) return []
        return [...yield* filesUnder(dir.value, base, prefix)].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
      }))

    /** Deletes `key` if it is there, unless it is or passes through a link; a folder is no object, so nothing goes (as on S3). */
    const remove = (key: string) =>
      Effect.scoped(Effect.gen(function* () {
        const { name, parent } = split(key)
        const target = nodePath.join((yield* folder(key, parent, false)).at, name)
        const existing = yield* lstat(key, target)
        if (Option.isSome(existing) && existing.value.isSymbolicLink()) return yield* refused(key, key)
        if (Option.isSome(existing) && existing.value.isDirectory()) return
        yield* io("delete", key, () => nodeFs.rm(target, { force: true }))
      })).pipe(Effect.catchTag("StorageNotFound", () => Effect.void))

    yield* Effect.scoped(folder(".tmp", ".tmp", true)).pipe(
      Effect.mapError((e) => new StorageUnusable({ setting: "DATA_DIR", value: dataDir, reason: `its scratch folder .tmp cannot be used: ${e.message}` }))
    )
    return {
      inspect,
      readBytes,
      moveInto,
      scratchPath,
      writeScratch,
      removeScratch: (path: string) => Effect.promise(() => nodeFs.rm(path, { force: true }).catch(() => undefined)),
      list,
      remove
    }
  })
