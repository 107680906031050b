/**
 * Does the server still answer while it converts? The server bundle runs as the Docker image does
 * (old space 128 MB, semi-spaces 8 MB, --single-threaded-gc, --heap-growing-percent=100, --no-flush-bytecode, --no-lazy, MALLOC_ARENA_MAX=2) inside a cgroup of 0.25 vCPU and 512 MB,
 * the deployed Fargate task's size; two clients each fetch the 1.4-million-row generated table
 * (14 pages of 100,000 rows, stored as Parquet) while a probe asks `/health` every 100 ms and a
 * third client calls `search_estat_data` (one quick e-Stat search) every 250 ms. It prints the
 * worst, p99 and p50 latency of both beside the fetches' wall time, the server's peak RSS and how often
 * its group's quota ran out (CFS throttling: then every thread, the event loop's too, waits).
 *
 *   npm run bench:responsiveness     (REPEAT=3 runs it three times; VCPU=0.25, MEMORY_MB=512;
 *                                     LATENCY_MS=300 sets e-Stat's latency; FETCHES=2 (0: the
 *                                     probes alone for 30 s, their floor);
 *                                     QUICK_CALL_EVERY_MS=250, 0 for none;
 *                                     PROFILE=<dir> writes the server's --cpu-prof there;
 *                                     SERVER_FLAGS="--heap-prof …" adds node flags;
 *                                     TRACE_GC=<file> its --trace-gc lines; SEMI_SPACE_MB=8
 *                                     its --max-semi-space-size; GC_THREADS=1 leaves out
 *                                     --single-threaded-gc; HEAP_GROWING_PERCENT=100 its
 *                                     --heap-growing-percent (0: V8's own growing); FLUSH_BYTECODE=1
 *                                     leaves out --no-flush-bytecode (V8 drops unused functions' code),
 *                                     LAZY=1 --no-lazy (functions compiled at their first call);
 *                                     ESTAT_MAX_CONCURRENT_RUNS=1
 *                                     the server's one fetch at a time; CPU_LIMIT,
 *                                     DUCKDB_THREADS, UV_THREADPOOL_SIZE and LOG_LEVEL the server's;
 *                                     SERVER_LOG=<file> writes its log there; SAMPLE_THREADS=1 reads the
 *                                     server's threads every 100 ms (threadSampler.ts) and prints
 *                                     the event loop's wait for a CPU, overall and in each slow call;
 *                                     WARM_ROWS=300000: each fetching client first fetches that
 *                                     many rows, unmeasured, so that the probes meet a warm server;
 *                                     STAGGER_MS=5000 starts each fetch that much after the one before;
 *                                     FETCH_CONCURRENCY=2 the fetches' `concurrency`;
 *                                     WARM_CALLS=200 makes that many quick calls first, 8 at a time;
 *                                     THREADS_OUT=<file> with SAMPLE_THREADS=1 writes every
 *                                     thread's CPU and wait per 100 ms there, one line each)
 *
 * The fake e-Stat and the clients run in other processes, outside the quota. Without cgroups
 * (not Linux, not root, no cgroup v1) it says so in one line and runs without the quota.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { createWriteStream, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { cpus, loadavg, tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import { NodeRuntime } from "@effect/platform-node"
import { Effect } from "effect"
import { FAKE_APP_ID } from "../test/fakes/estat/server.js"
import { freePort } from "../test/support/bundleProcess.js"
import { confinement, type Confinement, startFakeProcess } from "./support.js"
import { sampleThreads, steps, threadReport } from "./threadSampler.js"

const TABLE = { id: "0009100014", categories: 100, areas: 50, months: 280 }
const VCPU = Number(process.env["VCPU"] ?? 0.25)
const MEMORY_MB = Number(process.env["MEMORY_MB"] ?? 512)
const LATENCY_MS = Number(process.env["LATENCY_MS"] ?? 300)
const FETCHES = Number(process.env["FETCHES"] ?? 2)
const REPEAT = Number(process.env["REPEAT"] ?? 1)
const HEALTH_EVERY_MS = 100
/** The image's young generation (Dockerfile); SEMI_SPACE_MB tries another. */
const SEMI_SPACE_MB = Number(process.env["SEMI_SPACE_MB"] ?? 8)
/** The image's old-generation growing (Dockerfile); HEAP_GROWING_PERCENT=0 leaves it to V8. */
const HEAP_GROWING_PERCENT = Number(process.env["HEAP_GROWING_PERCENT"] ?? 100)
/** With FETCHES=0, how long the probes run. */
const IDLE_MS = 30_000
/** The server's ESTAT_MAX_CONCURRENT_RUNS (its default, 2, when not set). */
const MAX_RUNS = process.env["ESTAT_MAX_CONCURRENT_RUNS"]
/** Rows each fetching client fetches before the probes begin (0: none; the server is cold). */
const WARM_ROWS = Number(process.env["WARM_ROWS"] ?? 0)
/** How long after the one before each fetch starts (0: all at once). */
const STAGGER_MS = Number(process.env["STAGGER_MS"] ?? 0)
/** Quick calls made before the probes begin (the search's code compiled by then). */
const WARM_CALLS = Number(process.env["WARM_CALLS"] ?? 1)
/** The fetches' `concurrency` (pages asked for at once; the tool's default when not set). */
const FETCH_CONCURRENCY = process.env["FETCH_CONCURRENCY"] === undefined ? undefined : Number(process.env["FETCH_CONCURRENCY"])
/** 0: no quick calls (the fetches with only the /health probe). */
const QUICK_CALL_EVERY_MS = Number(process.env["QUICK_CALL_EVERY_MS"] ?? 250)

/** The Docker image's heap, GC and compiler flags and allocator setting (Dockerfile), on the bundle next to this one (GC_THREADS=1: V8's GC helper threads as without the image's --single-threaded-gc; FLUSH_BYTECODE=1 and LAZY=1: without its --no-flush-bytecode and --no-lazy). */
const startServer = (estatBaseUrl: string, confined: Confinement) =>
  Effect.acquireRelease(
    Effect.async<{ readonly child: ChildProcess; readonly url: string; readonly dataDir: string; readonly spawnedAt: number }>((resume) => {
      const dataDir = mkdtempSync(join(tmpdir(), "estat-bench-responsiveness-"))
      const profile = process.env["PROFILE"]
      const traceGc = process.env["TRACE_GC"]
      void freePort().then((port) => {
        const spawnedAt = performance.now()
        const child = spawn(process.execPath, [
          "--max-old-space-size=128", `--max-semi-space-size=${SEMI_SPACE_MB}`, ...(process.env["GC_THREADS"] === "1" ? [] : ["--single-threaded-gc"]),
          ...(HEAP_GROWING_PERCENT === 0 ? [] : [`--heap-growing-percent=${HEAP_GROWING_PERCENT}`]),
          ...(process.env["FLUSH_BYTECODE"] === "1" ? [] : ["--no-flush-bytecode"]),
          ...(process.env["LAZY"] === "1" ? [] : ["--no-lazy"]),
          ...(profile === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${profile}`]),
          ...(process.env["SERVER_FLAGS"]?.split(" ").filter((flag) => flag !== "") ?? []),
          ...(traceGc === undefined ? [] : ["--trace-gc"]),
          fileURLToPath(new URL("./server.mjs", import.meta.url))
        ], {
          env: {
            PATH: process.env["PATH"] ?? "", NODE_ENV: "production", MALLOC_ARENA_MAX: "2", HOST: "127.0.0.1", PORT: String(port),
            DATA_DIR: dataDir, LOG_FORMAT: "json", ESTAT_API_BASE_URL: estatBaseUrl, ESTAT_APP_ID: FAKE_APP_ID,
            ...(MAX_RUNS === undefined ? {} : { ESTAT_MAX_CONCURRENT_RUNS: MAX_RUNS }),
            // CPU_LIMIT unset: the server finds the group's quota itself; a large one (1024) turns its pacing off.
            ...Object.fromEntries(["CPU_LIMIT", "DUCKDB_THREADS", "UV_THREADPOOL_SIZE", "LOG_LEVEL"].flatMap((name) => process.env[name] === undefined ? [] : [[name, process.env[name]!]]))
          },
          stdio: ["ignore", traceGc === undefined ? "ignore" : openSync(traceGc, "w"), "pipe"]
        })
        // Into the quota before it loads anything: start-up runs at the task's size too.
        if (confined._tag === "Confined") confined.add(child.pid!)
        let log = ""
        const serverLog = process.env["SERVER_LOG"]
        if (serverLog !== undefined) child.stderr!.pipe(createWriteStream(serverLog))
        child.stderr!.on("data", (chunk: Buffer) => {
          log = (log + chunk.toString()).slice(-4000)
          if (log.includes("Listening on")) resume(Effect.succeed({ child, url: `http://127.0.0.1:${port}`, dataDir, spawnedAt }))
        })
        child.once("exit", (code) => resume(Effect.dieMessage(`the server exited with ${code}: ${log}`)))
      })
    }),
    ({ child, dataDir }) =>
      Effect.async<void>((resume) => {
        // SIGTERM: a clean exit, so that --cpu-prof writes its profile.
        child.once("exit", () => resume(Effect.void))
        if (child.exitCode !== null || !child.kill("SIGTERM")) resume(Effect.void)
      }).pipe(Effect.ensuring(Effect.sync(() => rmSync(dataDir, { recursive: true, force: true }))))
  )

const connect = (url: string) =>
  Effect.acquireRelease(
    Effect.promise(async () => {
      const client = new Client({ name: "bench-responsiveness", version: "1.0.0" })
      await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`)))
      return client
    }),
    (client) => Effect.promise(() => client.close())
  )

/** Runs `probe` every `everyMs` (at once after a slow one) until `stop`, recording each one's latency. */
const probeLoop = (everyMs: number, probe: () => Promise<unknown>, enabled = true) => {
  const latencies: Array<number> = []
  /** When (performance.now()) each answer over 1 s was asked, and how long it took (ms). */
  const slow: Array<{ readonly at: number; readonly took: number; readonly index: number }> = []
  const began = performance.now()
  let stopped = !enabled
  const done = (async () => {
    while (!stopped) {
      const started = performance.now()
      await probe()
      const took = performance.now() - started
      latencies.push(took)
      if (took > 1000) slow.push({ at: started, took, index: latencies.length - 1 })
      if (took < everyMs) await new Promise((resolve) => setTimeout(resolve, everyMs - took))
    }
  })()
  return { latencies, slow, began, stop: () => ((stopped = true), done) }
}

const worstAndP99 = (latencies: ReadonlyArray<number>) => {
  const sorted = [...latencies].sort((a, b) => a - b)
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * q) - 1)] ?? 0
  return { worst: sorted.at(-1) ?? 0, p99: at(0.99), p50: at(0.5), overOneSecond: sorted.filter((n) => n > 1000).length, count: sorted.length }
}

const peakRssMb = (pid: number) => {
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]
  return hwm === undefined ? null : Number(hwm) / 1024
}

const ms = (n: number) => `${n.toFixed(0)} ms`
const load = () => loadavg().map((n) => n.toFixed(2)).join(" ")

const runOnce = (round: number) =>
  Effect.scoped(Effect.gen(function* () {
    const { baseUrl, searchTimes } = yield* startFakeProcess(TABLE, LATENCY_MS, true)
    const confined = yield* confinement(`estat-bench-${process.pid}-${round}`, VCPU, MEMORY_MB * 1024 * 1024)
    if (confined._tag === "Unavailable") console.log(`no CPU quota: ${confined.reason}; the server runs unconfined`)
    const server = yield* startServer(baseUrl, confined)
    const fetchers = yield* Effect.all(Array.from({ length: FETCHES }, () => connect(server.url)))
    const other = yield* connect(server.url)
    const quickCall = () => other.callTool({ name: "search_estat_data", arguments: { query: "人口", max_results: 3 } })
    // Warm: the first call loads what later ones reuse (WARM_CALLS more: V8 has compiled the search's code).
    yield* Effect.forEach(Array.from({ length: WARM_CALLS }), () => Effect.promise(quickCall), { concurrency: 8, discard: true })

    // A fetch of other rows than the measured one (another query: not reused by it).
    if (WARM_ROWS > 0) {
      yield* Effect.promise(() => Promise.all(fetchers.map((client) =>
        client.callTool({ name: "fetch_large_dataset_complete", arguments: { dataset_id: TABLE.id, max_records: WARM_ROWS } }, undefined, { timeout: 600_000 }))))
    }
    const loadBefore = load()
    const threads = process.env["SAMPLE_THREADS"] === "1" ? sampleThreads(server.child.pid!) : null
    const health = probeLoop(HEALTH_EVERY_MS, () => fetch(`${server.url}/health`).then((r) => r.text()))
    const quick = probeLoop(QUICK_CALL_EVERY_MS, quickCall, QUICK_CALL_EVERY_MS > 0)
    const started = performance.now()
    const startedMonotonic = Number(process.hrtime.bigint())
    // FETCHES=0: the probes alone for a while, the floor the fetches add to.
    if (FETCHES === 0) yield* Effect.sleep(IDLE_MS)
    const walls = yield* Effect.promise(() =>
      Promise.all(fetchers.map(async (client, i) => {
        if (STAGGER_MS > 0) await new Promise((resolve) => setTimeout(resolve, i * STAGGER_MS))
        const result = await client.callTool(
          { name: "fetch_large_dataset_complete", arguments: { dataset_id: TABLE.id, ...(FETCH_CONCURRENCY === undefined ? {} : { concurrency: FETCH_CONCURRENCY }) } },
          undefined,
          { timeout: 600_000 }
        )
        if (result.isError === true) throw new Error(JSON.stringify(result.content).slice(0, 500))
        return performance.now() - started
      }))
    )
    yield* Effect.promise(() => Promise.all([health.stop(), quick.stop()]))
    const ended = performance.now()
    threads?.stop()
    const peak = peakRssMb(server.child.pid!)
    const h = worstAndP99(health.latencies)
    const q = worstAndP99(quick.latencies)
    console.log(`\nrun ${round + 1}: ${confined._tag === "Confined" ? confined.describe : "unconfined"}; ${FETCHES} × 1,400,000 rows (14 pages, e-Stat latency ${LATENCY_MS} ms)`)
    console.log(`  load average    ${loadBefore} before, ${load()} after (1, 5, 15 min; ${cpus().length} cores)`)
    // --trace-gc's times count from the server's start: this lines them up with the "asked at" below.
    console.log(`  probes began    ${((started - server.spawnedAt) / 1000).toFixed(1)} s after the server was started (at ${(startedMonotonic / 1e9).toFixed(3)} s of CLOCK_MONOTONIC, for perf -k CLOCK_MONOTONIC)`)
    console.log(`  fetch wall      ${walls.map((w) => `${(w / 1000).toFixed(1)} s`).join(", ")}`)
    console.log(`  peak RSS        ${peak === null ? "n/a" : `${peak.toFixed(0)} MB`} (the server's VmHWM)`)
    if (confined._tag === "Confined") console.log(`  CPU quota       ${confined.throttling()} (cpu.stat, the server's whole run)`)
    console.log(`  /health         worst ${ms(h.worst)}, p99 ${ms(h.p99)}, p50 ${ms(h.p50)}, ${h.overOneSecond} over 1 s (${h.count} probes, one every ${HEALTH_EVERY_MS} ms)`)
    console.log(`  quick call      worst ${ms(q.worst)}, p99 ${ms(q.p99)}, p50 ${ms(q.p50)}, ${q.overOneSecond} over 1 s (${q.count} tools/call search_estat_data of another session)`)
    // The fake's own time for each search (its latency included): a slow quick call whose search
    // was slow there too was the fake's, not the server's. The searches come in order: the
    // warm-up's first, then the probe's, one at a time.
    const fakeTimes = yield* searchTimes
    const fakeSearches = worstAndP99(fakeTimes)
    console.log(`  fake e-Stat     searches took it: worst ${ms(fakeSearches.worst)}, p99 ${ms(fakeSearches.p99)}, p50 ${ms(fakeSearches.p50)} (its latency ${LATENCY_MS} ms; ${fakeSearches.count} searches)`)
    for (const [name, probe] of [["/health", health], ["quick call", quick]] as const) {
      const asked = probe.slow.slice(0, 12).map(({ at, took, index }) => {
        const inFake = name === "quick call" ? fakeTimes[WARM_CALLS + index] : undefined
        return `${((at - probe.began) / 1000).toFixed(1)} s (${(took / 1000).toFixed(2)} s${inFake === undefined ? "" : `, ${(inFake / 1000).toFixed(2)} s of it in the fake`})`
      })
      if (asked.length > 0) console.log(`  ${name} over 1 s, asked at: ${asked.join(", ")}`)
    }
    if (threads !== null) {
      for (const line of threadReport(threads.samples, server.child.pid!, started, ended, quick.slow)) console.log(`  threads         ${line}`)
      const out = process.env["THREADS_OUT"]
      // One line per thread and 100 ms: seconds since the probes began, thread id (the server's pid: the event loop's), its name, nice, CPU and run delay in ms.
      if (out !== undefined) {
        writeFileSync(out, steps(threads.samples).flatMap((step) =>
          step.deltas.map((d) => `${((step.at - started) / 1000).toFixed(2)}\t${d.tid}\t${d.name}\t${d.nice}\t${d.cpuMs.toFixed(2)}\t${d.delayMs.toFixed(2)}\n`)).join(""))
      }
    }
  }))

// runMain: Ctrl-C interrupts the run, and its finalizers stop the server and remove the cgroups.
NodeRuntime.runMain(Effect.forEach(Array.from({ length: REPEAT }, (_, i) => i), runOnce, { discard: true }))
