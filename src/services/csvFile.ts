import { open, rm } from "node:fs/promises"
import { Effect, type Scope } from "effect"
import type { CsvRows } from "../domain/csv.js"

/** A CSV file open for writing: rows appended in turn, or all of it thrown away to begin again. */
export interface CsvFile<E> {
  /** Bytes after those written so far. */
  readonly write: (bytes: Uint8Array) => Effect.Effect<void, E>
  /** Rows after those written so far, a chunk at a time, `between` running before each write. */
  readonly append: (rows: CsvRows, between?: Effect.Effect<void>) => Effect.Effect<void, E>
  /** Empties the file: what comes next is written from its start. */
  readonly truncate: Effect.Effect<void, E>
}

/**
 * A CSV file created (or emptied) at `path`, closed with the scope; writes are interruptible
 * between chunks, each chunk out before the next is made (a chunk may be overwritten by the
 * next); `failed` names what went wrong.
 */
export const openCsvFile = <E>(path: string, failed: (reason: string) => E): Effect.Effect<CsvFile<E>, E, Scope.Scope> => {
  const attempt = <A>(io: () => Promise<A>) => fileIo(io, failed)
  return Effect.map(
    Effect.acquireRelease(attempt(() => open(path, "w")), (file) => Effect.promise(() => file.close())),
    (file) => {
      // Writes say where they go: after a truncate the file's own offset would leave a hole.
      let position = 0
      const write = (bytes: Uint8Array) =>
        Effect.gen(function* () {
          // A write may take fewer bytes than it is given.
          for (let done = 0; done < bytes.length;) {
            const { bytesWritten } = yield* attempt(() => file.write(bytes, done, bytes.length - done, position))
            done += bytesWritten
            position += bytesWritten
          }
        })
      return {
        write,
        append: (rows, between = Effect.void) =>
          Effect.gen(function* () {
            for (const chunk of rows.chunks()) {
              yield* between
              yield* write(chunk)
            }
          }),
        truncate: Effect.flatMap(attempt(() => file.truncate(0)), () => Effect.sync(() => (position = 0)))
      }
    }
  )
}

/** CSV bytes to a file, a chunk at a time (see `openCsvFile`). */
export const writeCsvFile = <E>(rows: CsvRows, path: string, failed: (reason: string) => E, between: Effect.Effect<void> = Effect.void): Effect.Effect<void, E> =>
  Effect.scoped(Effect.flatMap(openCsvFile(path, failed), (file) => file.append(rows, between)))

/** Removes a file that is not to be read (gone already is fine). */
export const removeFile = <E>(path: string, failed: (reason: string) => E): Effect.Effect<void, E> =>
  fileIo(() => rm(path, { force: true }), failed)

const fileIo = <A, E>(io: () => Promise<A>, failed: (reason: string) => E) =>
  Effect.tryPromise({ try: io, catch: (e) => failed(e instanceof Error ? e.message : String(e)) })
