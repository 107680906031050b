import { readFileSync } from "node:fs"
import { join } from "node:path"
import { Effect, Option } from "effect"

/**
 * The CPU quota of the cgroup this process is in, in vCPU (Linux: `cpu.max` of cgroup v2,
 * `cpu.cfs_quota_us`/`cpu.cfs_period_us` of v1, hybrid set-ups too), or none: no quota, not
 * Linux, or nothing readable. A container sees its own group; a quota set only on a parent it
 * cannot see (a Fargate task's) is not found here: CPU_LIMIT says it (the stack sets it).
 */
export const cgroupCpuLimit = (): Effect.Effect<Option.Option<number>> =>
  process.platform === "linux" ? cgroupQuotaIn("/sys/fs/cgroup", "/proc/self/cgroup") : Effect.succeed(Option.none())

/** The quota as `cgroupCpuLimit` finds it, under the cgroup mount `root`, for the group list in `procSelfCgroup`. */
export const cgroupQuotaIn = (root: string, procSelfCgroup: string): Effect.Effect<Option.Option<number>> =>
  Effect.gen(function* () {
    const lines = Option.getOrElse(yield* read(procSelfCgroup), () => "").split("\n").map((line) => line.split(":"))
    // v2: `0::/path`, the group's cpu.max (in a container its group is the root).
    const unified = lines.find(([id, controllers]) => id === "0" && controllers === "")
    if (unified !== undefined) {
      const own = unified.slice(2).join(":")
      for (const dir of [join(root, own), root]) {
        const max = yield* read(join(dir, "cpu.max"))
        if (Option.isSome(max)) return limitOf(...split2(max.value))
      }
    }
    // v1: `N:cpu,cpuacct:/path`, mounted as cpu/, cpu,cpuacct/ or cpuacct,cpu/.
    const v1 = lines.find(([, controllers]) => controllers?.split(",").includes("cpu"))
    if (v1 === undefined) return Option.none()
    const own = v1.slice(2).join(":")
    for (const dir of ["cpu", "cpu,cpuacct", "cpuacct,cpu"].flatMap((mount) => [join(root, mount, own), join(root, mount)])) {
      const quota = yield* read(join(dir, "cpu.cfs_quota_us"))
      if (Option.isSome(quota)) return limitOf(quota.value, Option.getOrUndefined(yield* read(join(dir, "cpu.cfs_period_us"))))
    }
    return Option.none()
  })

const read = (path: string): Effect.Effect<Option.Option<string>> =>
  Effect.option(Effect.try(() => readFileSync(path, "utf8").trim()))

const split2 = (text: string): [string | undefined, string | undefined] => {
  const [quota, period] = text.split(/\s+/)
  return [quota, period]
}

/** A quota and a period (µs) as vCPU; `max` or -1: none. */
const limitOf = (quota: string | undefined, period: string | undefined): Option.Option<number> => {
  const q = Number(quota)
  const p = Number(period)
  return Number.isFinite(q) && Number.isFinite(p) && q > 0 && p > 0 ? Option.some(q / p) : Option.none()
}
