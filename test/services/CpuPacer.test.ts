import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { Clock, Duration, Effect, Fiber, Option, Ref, TestClock } from "effect"
import { describe, expect, it } from "@effect/vitest"
import { makeCpuPacer } from "../../src/services/CpuPacer.js"
import { cgroupQuotaIn } from "../../src/services/cpuQuota.js"

/**
 * A pacer at 0.25 vCPU (250 µs of CPU a millisecond, at most 25 ms in the bucket: one CFS period's
 * worth) whose process has spent `cpuMicros` once `elapsed` has passed, and its next turn, forked;
 * `used` is the CPU meter the test moves (µs).
 */
const turnAfter = (cpuMicros: number, elapsed: Duration.DurationInput = 0) =>
  Effect.gen(function* () {
    const used = yield* Ref.make(0)
    const pacer = yield* makeCpuPacer(0.25, Ref.get(used))
    yield* TestClock.adjust(elapsed)
    yield* Ref.set(used, cpuMicros)
    return { used, turn: yield* Effect.fork(pacer.turn) }
  })

/** Whether the fiber has ended, without waiting for it. */
const ended = <A, E>(fiber: Fiber.RuntimeFiber<A, E>) => Effect.map(Fiber.poll(fiber), Option.isSome)

describe("CpuPacer: a token bucket of the process's CPU time", () => {
  it.effect("a process within its budget goes on at once", () =>
    Effect.gen(function* () {
      const { turn } = yield* turnAfter(20_000, "100 millis") // 20 ms of CPU in 100 ms: under 0.25 vCPU
      yield* TestClock.adjust("0 millis")
      expect(yield* ended(turn)).toBe(true)
    }))

  it.effect("a burst above the budget is paid back: the next turn waits until the bucket is out of debt", () =>
    Effect.gen(function* () {
      const { turn } = yield* turnAfter(50_000) // a 50 ms DuckDB statement, in no time: 25 ms of debt, 100 ms to pay back
      yield* TestClock.adjust("99 millis")
      expect(yield* ended(turn)).toBe(false)
      yield* TestClock.adjust("1 millis")
      expect(yield* ended(turn)).toBe(true)
    }))

  it.effect("the wait counts what the rest of the process spends meanwhile (the event loop's calls come first)", () =>
    Effect.gen(function* () {
      const { used, turn } = yield* turnAfter(50_000)
      yield* TestClock.adjust("50 millis")
      yield* Ref.update(used, (n) => n + 10_000) // a call's 10 ms while the background waits: 40 ms more
      yield* TestClock.adjust("50 millis")
      expect(yield* ended(turn)).toBe(false)
      yield* TestClock.adjust("40 millis")
      expect(yield* ended(turn)).toBe(true)
    }))

  it.effect("work that keeps the process above the budget on its own slows the background down, never stops it", () =>
    Effect.gen(function* () {
      // The rest of the process spends 0.5 vCPU whatever the background does; a background step costs 1 ms.
      const turns = yield* Ref.make(0)
      const busy = Effect.zipWith(Clock.currentTimeMillis, Ref.get(turns), (ms, steps) => ms * 500 + steps * 1000)
      const pacer = yield* makeCpuPacer(0.25, busy)
      yield* TestClock.adjust("200 millis")
      const background = yield* Effect.fork(Effect.forever(Effect.zipRight(pacer.turn, Ref.update(turns, (n) => n + 1))))
      yield* TestClock.adjust("999 millis")
      expect(yield* Ref.get(turns)).toBe(0)
      yield* TestClock.adjust("1 millis")
      expect(yield* Ref.get(turns)).toBe(1) // at most a second a turn, then the debt is forgiven
      yield* TestClock.adjust("5 seconds")
      expect(yield* Ref.get(turns)).toBeGreaterThanOrEqual(5)
      expect(yield* Ref.get(turns)).toBeLessThanOrEqual(6)
      yield* Fiber.interrupt(background)
    }))
})

/** A fake cgroup mount and /proc/self/cgroup, removed with the test's scope. */
const fakeCgroups = (procSelfCgroup: string, files: Record<string, string>) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const dir = mkdtempSync(join(tmpdir(), "estat-cgroup-"))
      writeFileSync(join(dir, "self-cgroup"), procSelfCgroup)
      for (const [path, text] of Object.entries(files)) {
        mkdirSync(dirname(join(dir, "fs", path)), { recursive: true })
        writeFileSync(join(dir, "fs", path), text)
      }
      return dir
    }),
    (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
  ).pipe(Effect.flatMap((dir) => cgroupQuotaIn(join(dir, "fs"), join(dir, "self-cgroup"))))

describe("the cgroup's CPU quota", () => {
  it.scoped("cgroup v2: the group's cpu.max (a container's own group is the mount's root)", () =>
    Effect.gen(function* () {
      expect(yield* fakeCgroups("0::/\n", { "cpu.max": "25000 100000\n" })).toEqual(Option.some(0.25))
      expect(yield* fakeCgroups("0::/ecs/task\n", { "ecs/task/cpu.max": "50000 100000\n" })).toEqual(Option.some(0.5))
      expect(yield* fakeCgroups("0::/\n", { "cpu.max": "max 100000\n" })).toEqual(Option.none())
    }))

  it.scoped("cgroup v1, beside a v2 hierarchy without cpu.max (a hybrid set-up, as on the bench machine)", () =>
    Effect.gen(function* () {
      const hybrid = "4:memory:/x\n1:cpu:/bench/server\n0::/\n"
      expect(yield* fakeCgroups(hybrid, { "cpu/bench/server/cpu.cfs_quota_us": "25000\n", "cpu/bench/server/cpu.cfs_period_us": "100000\n" }))
        .toEqual(Option.some(0.25))
      expect(yield* fakeCgroups("3:cpu,cpuacct:/docker/abc\n", { "cpu,cpuacct/cpu.cfs_quota_us": "200000\n", "cpu,cpuacct/cpu.cfs_period_us": "100000\n" }))
        .toEqual(Option.some(2))
      expect(yield* fakeCgroups(hybrid, { "cpu/bench/server/cpu.cfs_quota_us": "-1\n", "cpu/bench/server/cpu.cfs_period_us": "100000\n" }))
        .toEqual(Option.none())
    }))

  it.scoped("nothing to read: no quota", () =>
    Effect.gen(function* () {
      expect(yield* fakeCgroups("", {})).toEqual(Option.none())
      expect(yield* fakeCgroups("1:cpu:/\n", {})).toEqual(Option.none())
    }))
})
