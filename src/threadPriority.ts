import { readdirSync } from "node:fs"
import { setPriority } from "node:os"
import { isMainThread } from "node:worker_threads"
import { Effect, Either } from "effect"

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
    const changed = threadIds().filter((tid) => tid !== process.pid && lower(tid, niceness))
    yield* Effect.logDebug("threads other than the event loop's give way to it").pipe(Effect.annotateLogs({ threads: changed.length, niceness }))
    return changed.length
  })

/**
 * `start` (which starts a thread, e.g. a worker) with the thread it starts giving way from its first
 * instruction. A Linux thread takes its creator's nice value: a worker thread made by the event
 * loop's would load and compile its code at the event loop's priority until it lowered itself (in
 * the 0.25-vCPU bench the new page thread took most of each period for its first ~2 s, the event
 * loop's thread 2–10 ms of it). Node starts a worker's thread before its constructor returns, so
 * the threads that appear meanwhile are the new ones. Not Linux: just `start`.
 */
export const startGivingWay = <A>(start: () => A, niceness = OTHER_THREADS_NICENESS): A => {
  if (process.platform !== "linux") return start()
  const before = new Set(threadIds())
  const started = start()
  for (const tid of threadIds()) {
    if (!before.has(tid)) lower(tid, niceness)
  }
  return started
}

const threadIds = (): ReadonlyArray<number> => Either.getOrElse(Either.try(() => readdirSync("/proc/self/task").map(Number)), () => [])
// A thread that ended meanwhile cannot be lowered: nothing to do.
const lower = (tid: number, niceness: number) => Either.isRight(Either.try(() => setPriority(tid, niceness)))

/** CFS weighs nice 19 at 15 against 1024 at 0: ~1.5 % of the CPU each while the event loop's thread wants it. */
const OTHER_THREADS_NICENESS = 19
