import { Clock, Context, Duration, Effect, Layer, Option } from "effect"
import { AppConfig } from "../config.js"
import { cgroupCpuLimit } from "./cpuQuota.js"

/**
 * Background work — a page's decoding and CSV in the page thread, DuckDB writing its Parquet part
 * — takes a turn here before each step, so that the process keeps under a CPU budget below its
 * quota. Under a CFS quota (a 0.25-vCPU Fargate task) every thread of the process shares 25 ms of
 * CPU per 100 ms; once that is spent, the event loop's thread too waits for the next period,
 * however low the others' priority. Two fetches left alone spent the quota in every period, and
 * another session's quick call waited out a throttled period at each of its wake-ups (1.5–2 s for
 * a 0.6 s call). Paced, a period keeps CPU for the thread that answers.
 *
 * The meter is the whole process's CPU time (every thread: the quota counts them all), so the
 * event loop's own work leaves less for the background: interactive calls come first.
 */
export class CpuPacer extends Context.Tag("estat-mcp/CpuPacer")<CpuPacer, {
  /** The process's CPU budget for background work (vCPU); none: not paced. */
  readonly budget: Option.Option<number>
  /** Waits while the process has spent more than its budget lately (at most MAX_WAIT). */
  readonly turn: Effect.Effect<void>
}>() {
  /** Paced to BACKGROUND_SHARE of CPU_LIMIT, or of the cgroup's quota; neither: not paced. */
  static readonly layer: Layer.Layer<CpuPacer, never, AppConfig> = Layer.effect(
    CpuPacer,
    Effect.gen(function* () {
      const settings = yield* AppConfig
      const limit = Option.isSome(settings.cpuLimit) ? settings.cpuLimit : yield* cgroupCpuLimit()
      if (Option.isNone(limit)) return unpaced
      const budget = limit.value * BACKGROUND_SHARE
      yield* Effect.logInfo("background work paced").pipe(Effect.annotateLogs({ cpuLimit: limit.value, budget }))
      return yield* makeCpuPacer(budget)
    })
  )
}

export const unpaced: CpuPacer["Type"] = { budget: Option.none(), turn: Effect.void }

/** The process's CPU time so far (µs, every thread's): what a cgroup's quota counts. */
export const processCpuMicros: Effect.Effect<number> = Effect.sync(() => {
  const used = process.cpuUsage()
  return used.user + used.system
})

/**
 * A token bucket of CPU time: it fills at `budget` vCPU, up to one CFS period's worth, and every
 * turn takes out what the process spent since the last one. A turn waits while the bucket is in
 * debt. A step larger than the bucket (a DuckDB statement) is paid back afterwards, so bursts and
 * pauses average out at the budget. A turn never waits longer than MAX_WAIT and then forgives the
 * debt: work that keeps the process above its budget on its own (a flood of calls) slows the
 * background down but does not stop it.
 */
export const makeCpuPacer = (budget: number, cpuMicros: Effect.Effect<number> = processCpuMicros): Effect.Effect<CpuPacer["Type"]> =>
  Effect.gen(function* () {
    const perMs = budget * 1000
    const capacity = perMs * BUCKET_MS
    let tokens = capacity
    let lastAt = yield* Clock.currentTimeMillis
    let lastCpu = yield* cpuMicros
    const refill = Effect.gen(function* () {
      const at = yield* Clock.currentTimeMillis
      const cpu = yield* cpuMicros
      tokens = Math.min(capacity, tokens + (at - lastAt) * perMs - (cpu - lastCpu))
      lastAt = at
      lastCpu = cpu
      return tokens
    })
    const turn = Effect.gen(function* () {
      const start = yield* Clock.currentTimeMillis
      for (let debt = -(yield* refill); debt > 0; debt = -(yield* refill)) {
        const waited = (yield* Clock.currentTimeMillis) - start
        if (waited >= MAX_WAIT_MS) {
          tokens = 0
          return
        }
        yield* Effect.sleep(Duration.millis(Math.min(MAX_WAIT_MS - waited, Math.max(MIN_WAIT_MS, debt / perMs))))
      }
    })
    return { budget: Option.some(budget), turn }
  })

/**
 * The share of the CPU limit the process keeps to while background work runs; the rest is left in
 * every period for the event loop's thread (a quick call needs ~25 ms of CPU, `/health` well
 * under 1 ms). Measured with `npm run bench:responsiveness` (README).
 */
export const BACKGROUND_SHARE = 0.7
/** One CFS period: the bucket holds no more than a period's budget. */
const BUCKET_MS = 100
const MIN_WAIT_MS = 10
const MAX_WAIT_MS = 1000
