import { readdirSync } from "node:fs"
import { setPriority } from "node:os"
import { isMainThread } from "node:worker_threads"
import { Effect } from "effect"

/**
 * The process's threads other than the event loop's — DuckDB's workers, libuv's pool (which runs
 * DuckDB's statements and the file writes), V8's helpers — made to give way to it. On a 0.25-vCPU
 * task they took 55 % of the quota during fetches, and the thread that answers `/health` and
 * other sessions' calls waited for its turn behind them. Linux keeps a nice value per thread, and
 * raising that of one's own threads needs no privilege: the event loop's thread then runs first
 * whenever it has work, and the others share what it leaves.
 *
 * Threads made later by the event loop's thread start at its priority: run this once the services
 * are up (DuckDB makes its workers when it starts). Not Linux, or not the main thread: nothing.
 * Answers how many threads now give way (one that ended meanwhile is skipped).
 */
export const yieldOtherThreads = (niceness = OTHER_THREADS_NICENESS): Effect.Effect<number> =>
  Effect.gen(function* () {
    if (process.platform !== "linux" || !isMainThread) return 0
    const threads = yield* Effect.try(() => readdirSync("/proc/self/task").map(Number)).pipe(Effect.orElseSucceed((): ReadonlyArray<number> => []))
    const changed = yield* Effect.filter(threads.filter((tid) => tid !== process.pid), (tid) =>
      Effect.try(() => setPriority(tid, niceness)).pipe(Effect.as(true), Effect.orElseSucceed(() => false)))
    yield* Effect.logDebug("threads other than the event loop's give way to it").pipe(Effect.annotateLogs({ threads: changed.length, niceness }))
    return changed.length
  })

/** CFS weighs nice 19 at 15 against 1024 at 0: ~1.5 % of the CPU each while the event loop's thread wants it. */
const OTHER_THREADS_NICENESS = 19
