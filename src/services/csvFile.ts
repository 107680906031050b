import { open } from "node:fs/promises"
import { Effect } from "effect"
import type { CsvRows } from "../domain/csv.js"

/**
 * CSV bytes to a file, a chunk at a time (each chunk out before the next is made: a chunk may be
 * overwritten by the next), interruptible between writes, `between` running before each write;
 * `failed` names what went wrong.
 */
export const writeCsvFile = <E>(rows: CsvRows, path: string, failed: (reason: string) => E, between: Effect.Effect<void> = Effect.void): Effect.Effect<void, E> => {
  const attempt = <A>(io: () => Promise<A>) => Effect.tryPromise({ try: io, catch: (e) => failed(e instanceof Error ? e.message : String(e)) })
  return Effect.acquireUseRelease(
    attempt(() => open(path, "w")),
    (file) =>
      Effect.gen(function* () {
        for (const chunk of rows.chunks()) {
          yield* between
          // A write may take fewer bytes than it is given.
          for (let done = 0; done < chunk.length;) done += (yield* attempt(() => file.write(chunk, done))).bytesWritten
        }
      }),
    (file) => Effect.promise(() => file.close())
  )
}
