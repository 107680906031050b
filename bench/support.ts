import { spawn } from "node:child_process"
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import { Duration, Effect, Layer, Option, Redacted } from "effect"
import { type AppSettings, configLayer, defaultSettings } from "../src/config.js"
import { servicesLayer } from "../src/layers.js"
import type { GeneratedTableOptions } from "../test/fakes/estat/generated.js"
import { FAKE_APP_ID } from "../test/fakes/estat/server.js"

/**
 * The fake e-Stat in a process of its own (bundled next to the bench as fakeEStatProcess.mjs),
 * without this process's heap flags; `warm`: every page encoded before the run. Stopped with the scope.
 * `searchTimes` asks it how long each search took it (ms): its own share of a search's latency.
 */
export const startFakeProcess = (table: GeneratedTableOptions, latencyMs: number, warm: boolean) =>
  Effect.acquireRelease(
    Effect.async<{ readonly baseUrl: string; readonly child: ReturnType<typeof spawn>; readonly searchTimes: Effect.Effect<ReadonlyArray<number>> }>((resume) => {
      const fakeProcess = fileURLToPath(new URL("./fakeEStatProcess.mjs", import.meta.url))
      const { NODE_OPTIONS: _heapCapOfThisProcess, ...env } = process.env
      const child = spawn(process.execPath, [fakeProcess, JSON.stringify(table), String(latencyMs), warm ? "warm" : "cold"], {
        stdio: ["pipe", "pipe", "inherit"],
        env
      })
      const lines = createInterface({ input: child.stdout! })
      const searchTimes = Effect.async<ReadonlyArray<number>>((answered) => {
        lines.once("line", (line) => answered(Effect.succeed(JSON.parse(line) as ReadonlyArray<number>)))
        child.stdin!.write("searches\n")
      })
      lines.once("line", (baseUrl) => resume(Effect.succeed({ baseUrl, child, searchTimes })))
    }),
    ({ child }) => Effect.sync(() => child.stdin!.end())
  )

/** The server's services against the fake at `baseUrl`, on a temp DATA_DIR removed with the scope. */
export const benchServices = (baseUrl: string, overrides: Partial<AppSettings> = {}) =>
  Effect.gen(function* () {
    const dataDir = mkdtempSync(join(tmpdir(), "estat-bench-"))
    yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dataDir, { recursive: true, force: true })))
    const settings: AppSettings = {
      ...defaultSettings,
      estatBaseUrl: baseUrl,
      estatAppId: Option.some(Redacted.make(FAKE_APP_ID)),
      estatTimeout: Duration.minutes(2),
      estatRequestsPerSecond: 100,
      dataDir,
      ...overrides
    }
    return { settings, context: yield* Layer.build(servicesLayer.pipe(Layer.provideMerge(configLayer(settings)))) }
  })

/**
 * One child process held to a CPU quota and a memory limit through cgroup v1, as a Fargate task
 * of `vcpu` and `memoryBytes` is: a group of its own per controller, nested in this process's
 * group (so the child stays inside whatever holds this one), removed with the scope once the
 * child has exited. `unavailable` says why not (not Linux, not root, no cgroup v1 controllers).
 */
export type Confinement =
  | {
    readonly _tag: "Confined"
    readonly describe: string
    readonly add: (pid: number) => void
    /** How often the quota ran out (CFS throttling): every thread of the group, the event loop's too, then waits for the next period. */
    readonly throttling: () => string
  }
  | { readonly _tag: "Unavailable"; readonly reason: string }

const cgroupRoot = "/sys/fs/cgroup"

/** This process's group under a v1 controller, from /proc/self/cgroup (`4:memory:/a/b`, `1:cpu,cpuacct:/`). */
const ownGroup = (controller: string): string | null => {
  const line = readFileSync("/proc/self/cgroup", "utf8").split("\n")
    .map((l) => l.split(":"))
    .find((parts) => parts.length >= 3 && parts[1]!.split(",").includes(controller))
  return line === undefined ? null : line.slice(2).join(":")
}

const makeGroup = (controller: string, name: string, settings: Readonly<Record<string, string>>) => {
  const own = ownGroup(controller)
  if (own === null || !existsSync(join(cgroupRoot, controller))) return null
  const dir = join(cgroupRoot, controller, own, name)
  mkdirSync(dir)
  for (const [file, value] of Object.entries(settings)) writeFileSync(join(dir, file), value)
  return dir
}

export const confinement = (name: string, vcpu: number, memoryBytes: number) =>
  Effect.acquireRelease(
    Effect.sync((): Confinement => {
      if (process.platform !== "linux") return { _tag: "Unavailable", reason: `cgroups are Linux's (this is ${process.platform})` }
      if (process.getuid?.() !== 0) return { _tag: "Unavailable", reason: "making cgroups needs root" }
      if (!existsSync(join(cgroupRoot, "cpu", "cpu.cfs_quota_us"))) return { _tag: "Unavailable", reason: "no cgroup v1 cpu controller at /sys/fs/cgroup/cpu" }
      const period = 100_000
      const cpu = makeGroup("cpu", name, { "cpu.cfs_period_us": String(period), "cpu.cfs_quota_us": String(Math.round(vcpu * period)) })!
      const memory = makeGroup("memory", name, { "memory.limit_in_bytes": String(memoryBytes) })
      const groups = memory === null ? [cpu] : [cpu, memory]
      return {
        _tag: "Confined",
        describe: `${vcpu} vCPU (cfs quota ${Math.round(vcpu * period)}/${period} µs)` +
          (memory === null ? ", no memory cgroup" : `, memory.limit_in_bytes ${(memoryBytes / 1024 / 1024).toFixed(0)} MB`),
        add: (pid) => groups.forEach((dir) => writeFileSync(join(dir, "cgroup.procs"), String(pid))),
        throttling: () => {
          const stat = Object.fromEntries(readFileSync(join(cpu, "cpu.stat"), "utf8").trim().split("\n").map((line) => line.split(" ")))
          const [periods, throttled, nanos] = [stat["nr_periods"], stat["nr_throttled"], stat["throttled_time"]].map(Number)
          return `throttled in ${throttled} of ${periods} periods (${(100 * throttled! / Math.max(1, periods!)).toFixed(0)} %), ${(nanos! / 1e9).toFixed(1)} s in all`
        }
      }
    }),
    (confined) => Effect.sync(() => {
      if (confined._tag === "Unavailable") return
      for (const controller of ["cpu", "memory"]) {
        const own = ownGroup(controller)
        const dir = own === null ? null : join(cgroupRoot, controller, own, name)
        // A group goes once its processes have: the caller stops the child first.
        if (dir !== null && existsSync(dir)) rmdirSync(dir)
      }
    })
  )
