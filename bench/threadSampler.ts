import { readdirSync, readFileSync } from "node:fs"
import { Either } from "effect"

/**
 * Every thread of a process read every 100 ms (one CFS period) from /proc/<pid>/task: its nice
 * value, its CPU time and its run delay (schedstat: time spent runnable but not running, which
 * under a CFS quota includes the rest of a period whose quota is spent). What it answers: how long
 * the event loop's thread waited for a CPU during a slow call, who ran meanwhile, and whether any
 * other thread ran at nice 0. Linux only: elsewhere nothing is sampled.
 */
export interface ThreadSample {
  /** performance.now() of the reading. */
  readonly at: number
  /** tid → [nice, CPU ns, run delay ns, name] */
  readonly threads: ReadonlyMap<number, readonly [number, number, number, string]>
}

export const sampleThreads = (pid: number, everyMs = 100) => {
  const samples: Array<ThreadSample> = []
  const read = () => {
    const threads = new Map<number, readonly [number, number, number, string]>()
    const tids = listTasks(pid)
    for (const tid of tids) {
      const reading = readTask(pid, tid)
      if (reading !== null) threads.set(tid, reading)
    }
    if (tids.length > 0) samples.push({ at: performance.now(), threads })
  }
  const timer = process.platform === "linux" ? setInterval(read, everyMs) : undefined
  return { samples, stop: () => clearInterval(timer) }
}

// The process has exited: no threads.
const listTasks = (pid: number): ReadonlyArray<number> =>
  Either.getOrElse(Either.try(() => readdirSync(`/proc/${pid}/task`).map(Number)), () => [])

// The thread ended meanwhile: null.
const readTask = (pid: number, tid: number): readonly [number, number, number, string] | null =>
  Either.getOrNull(Either.try(() => {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8")
    // Fields after the command's closing parenthesis: state is field 3, nice field 19.
    const nice = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16])
    const [cpu, delay] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ").map(Number)
    return [nice, cpu ?? 0, delay ?? 0, stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"))] as const
  }))

/** Per sample, each thread's CPU and run delay since the previous one (ms). */
export const steps = (samples: ReadonlyArray<ThreadSample>) =>
  samples.slice(1).map((sample, i) => {
    const before = samples[i]!.threads
    const deltas = [...sample.threads].flatMap(([tid, [nice, cpu, delay, name]]) => {
      const was = before.get(tid)
      return was === undefined ? [] : [{ tid, name, nice, cpuMs: (cpu - was[1]) / 1e6, delayMs: (delay - was[2]) / 1e6 }]
    })
    return { at: sample.at, deltas }
  })

const quantile = (values: ReadonlyArray<number>, q: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(sorted.length * q) - 1))] ?? 0
}

/**
 * From `from` to `to` (performance.now()): the event loop's thread (`pid`)'s run delay per period,
 * and the CPU of the other threads that ran at nice 0; for each window (a slow call), the event
 * loop's CPU and run delay in it and the others' CPU, in lines to print.
 */
export const threadReport = (
  samples: ReadonlyArray<ThreadSample>,
  pid: number,
  from: number,
  to: number,
  windows: ReadonlyArray<{ readonly at: number; readonly took: number }>
): ReadonlyArray<string> => {
  const during = steps(samples).filter((step) => step.at > from && step.at <= to)
  if (during.length === 0) return []
  const mainDelay = during.map((step) => step.deltas.find((d) => d.tid === pid)?.delayMs ?? 0)
  const niceZero = during.flatMap((step) => step.deltas.filter((d) => d.tid !== pid && d.nice === 0 && d.cpuMs > 0))
  const lines = [
    `event loop's thread waited for a CPU, per 100 ms: p50 ${quantile(mainDelay, 0.5).toFixed(0)} ms, p90 ${quantile(mainDelay, 0.9).toFixed(0)} ms, p99 ${quantile(mainDelay, 0.99).toFixed(0)} ms`,
    `other threads at nice 0: ${new Set(niceZero.map((d) => d.tid)).size} (${niceZero.reduce((sum, d) => sum + d.cpuMs, 0).toFixed(0)} ms of CPU)`
  ]
  for (const window of windows) {
    const inside = during.filter((step) => step.at > window.at && step.at <= window.at + window.took + 100)
    const sum = (pick: (d: { tid: number; cpuMs: number; delayMs: number }) => number) =>
      inside.reduce((total, step) => total + step.deltas.reduce((s, d) => s + pick(d), 0), 0)
    const byThread = new Map<number, number>()
    for (const step of inside) for (const d of step.deltas) if (d.tid !== pid) byThread.set(d.tid, (byThread.get(d.tid) ?? 0) + d.cpuMs)
    const busiest = [...byThread].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([tid, ms]) => `${tid} ${ms.toFixed(0)} ms`).join(", ")
    lines.push(
      `call at ${((window.at - from) / 1000).toFixed(1)} s (${(window.took / 1000).toFixed(2)} s): event loop ran ${sum((d) => (d.tid === pid ? d.cpuMs : 0)).toFixed(0)} ms, ` +
        `waited ${sum((d) => (d.tid === pid ? d.delayMs : 0)).toFixed(0)} ms; others ran ${sum((d) => (d.tid === pid ? 0 : d.cpuMs)).toFixed(0)} ms (busiest: ${busiest})`
    )
  }
  return lines
}
