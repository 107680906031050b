import { existsSync, readdirSync, readFileSync } from "node:fs"
import { Worker } from "node:worker_threads"
import { Effect } from "effect"
import { describe, expect, it } from "@effect/vitest"
import { startGivingWay, yieldOtherThreads } from "../src/threadPriority.js"

/** A thread's nice value, field 19 of /proc/<pid>/task/<tid>/stat (after the parenthesised name). */
const niceOf = (tid: number) => {
  const stat = readFileSync(`/proc/self/task/${tid}/stat`, "utf8")
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16])
}

describe.runIf(process.platform === "linux")("yieldOtherThreads", () => {
  it.effect("every other thread of the process gives way to the event loop's, which keeps its priority", () =>
    Effect.gen(function* () {
      const before = readdirSync("/proc/self/task").map(Number).filter((tid) => tid !== process.pid)
      expect(before.length).toBeGreaterThan(0) // V8's helpers and libuv's pool at least
      const mainBefore = niceOf(process.pid)
      const changed = yield* yieldOtherThreads(mainBefore + 7)
      const alive = before.filter((tid) => existsSync(`/proc/self/task/${tid}`))
      expect(changed).toBeGreaterThanOrEqual(alive.length)
      expect(alive.map(niceOf)).toEqual(alive.map(() => mainBefore + 7))
      expect(niceOf(process.pid)).toBe(mainBefore)
    }))
})

describe.runIf(process.platform === "linux")("startGivingWay", () => {
  it.effect("the thread it starts gives way from the start, before its code has run; the others keep theirs", () =>
    Effect.gen(function* () {
      const others = new Map(readdirSync("/proc/self/task").map(Number).map((tid) => [tid, niceOf(tid)] as const))
      const mainBefore = niceOf(process.pid)
      // A thread that spins until terminated: checked as soon as it exists.
      const worker = startGivingWay(() => new Worker("for (;;);", { eval: true }), mainBefore + 5)
      yield* Effect.addFinalizer(() => Effect.promise(() => worker.terminate()))
      const started = readdirSync("/proc/self/task").map(Number).filter((tid) => !others.has(tid))
      expect(started.length).toBeGreaterThan(0)
      expect(started.map(niceOf)).toEqual(started.map(() => mainBefore + 5))
      const kept = [...others].filter(([tid]) => existsSync(`/proc/self/task/${tid}`))
      expect(kept.map(([tid]) => niceOf(tid))).toEqual(kept.map(([, nice]) => nice))
    }).pipe(Effect.scoped))
})
