/**
 * MCP transport throughput, latency and memory: estat-mcp against the SDK's own servers, in one run.
 *
 * Each server runs in a process of its own (bench/mcpServerProcess.ts); this process only drives
 * clients. Throughput and latency of `tools/call apply_keyword_suggestions` (a pure function, so
 * the transport is what is measured) on both protocol paths:
 *   2025-11-25 (sessions; SDK v1's client): SDK v1, SDK v1 with an event store, SDK v2's stateless
 *              legacy fallback, estat-mcp
 *   2026-07-28 (stateless; SDK v2's client): SDK v2, estat-mcp
 * at each client count, repeats interleaved across servers (so background load hits all alike),
 * median of the repeats. Then memory per idle 2025 session and per open SSE stream (after a full GC).
 *
 *   npm run bench:mcp     CLIENTS=50,200  CALLS=5000 (per load, split across clients)  REPEATS=3  SESSIONS=200
 *                         PARTS=throughput,memory (either alone runs only that part)
 *                         REVISIONS=2025-11-25,2026-07-28  PROFILE=<dir> (estat-mcp's --cpu-prof, written there)
 *                         SKIP=sdk1-events (server kinds left out, comma-separated)
 *                         TAIL=1: where in each load its slowest 1% of calls began (by tenths of the load)
 *                         SERVER_FLAGS="--trace-gc …": node flags for every server process
 * Each line also gives the server process's CPU time per call (process.cpuUsage, sessions opened and closed included).
 *
 * This process (the clients) collects its garbage before each load and has room not to collect
 * during one (`npm run bench:mcp` passes `--expose-gc --max-semi-space-size=64
 * --initial-old-space-size=1024`; a load grows its old space by ~80–170 MB): with 50 clients a pause
 * of this process delays 50 calls at once, exactly the 1 % p99 reads, so its own mark-compacts (one
 * every ~5 s, 35–80 ms each, with V8's defaults) had set the p99 of whichever server they hit.
 */
import { fork, type ChildProcess } from "node:child_process"
import { fileURLToPath } from "node:url"
import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2 } from "@modelcontextprotocol/client"
import { Client as ClientV1 } from "@modelcontextprotocol/sdk/client/index.js"
import { StreamableHTTPClientTransport as TransportV1 } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import type { ServerKind } from "./mcpServerProcess.js"

const CLIENT_COUNTS = (process.env["CLIENTS"] ?? "50,200").split(",").map(Number)
const CALLS = Number(process.env["CALLS"] ?? 5000)
const REPEATS = Number(process.env["REPEATS"] ?? 3)
const SESSIONS = Number(process.env["SESSIONS"] ?? 200)
const WARMUP = 20
const PARTS = new Set((process.env["PARTS"] ?? "throughput,memory").split(","))

const skipped = new Set((process.env["SKIP"] ?? "").split(",").filter((kind) => kind !== "estat"))
const kept = (kinds: ReadonlyArray<ServerKind>) => kinds.filter((kind) => !skipped.has(kind))

type Revision = "2025-11-25" | "2026-07-28"
const allServed: Record<Revision, ReadonlyArray<ServerKind>> = {
  "2025-11-25": kept(["sdk1", "sdk1-events", "sdk2", "estat"]),
  "2026-07-28": kept(["sdk2", "estat"])
}
const REVISIONS = new Set((process.env["REVISIONS"] ?? "2025-11-25,2026-07-28").split(","))
const served = Object.fromEntries(Object.entries(allServed).filter(([revision]) => REVISIONS.has(revision))) as Partial<Record<Revision, ReadonlyArray<ServerKind>>>
const PROFILE = process.env["PROFILE"]
/** Node flags for every server process (SERVER_FLAGS="--trace-gc"), which NODE_OPTIONS does not all allow. */
const serverFlags = (process.env["SERVER_FLAGS"] ?? "").split(" ").filter((flag) => flag !== "")
const names: Record<ServerKind, string> = { sdk1: "sdk v1", "sdk1-events": "sdk v1+events", sdk2: "sdk v2", estat: "estat-mcp" }

const args = { original_query: "北海道の収入と年収の推移", accepted_keywords: { 収入: "所得", 年収: "年間収入" } }

interface ServerProcess {
  readonly url: URL
  readonly memory: () => Promise<NodeJS.MemoryUsage>
  /** The server process's CPU time so far (user + system), in µs. */
  readonly cpu: () => Promise<number>
  readonly stop: () => Promise<void>
}

const nextMessage = <A>(child: ChildProcess, pick: (message: unknown) => A | undefined) =>
  new Promise<A>((resolve, reject) => {
    const onMessage = (message: unknown) => {
      const picked = pick(message)
      if (picked === undefined) return
      child.off("message", onMessage)
      child.off("exit", onExit)
      resolve(picked)
    }
    const onExit = (code: number | null) => reject(new Error(`server process exited (${code})`))
    child.on("message", onMessage)
    child.once("exit", onExit)
  })

const field = <K extends string>(key: K) => (message: unknown) =>
  typeof message === "object" && message !== null && key in message ? (message as Record<K, unknown>)[key] : undefined

const startServer = async (kind: ServerKind): Promise<ServerProcess> => {
  const script = fileURLToPath(new URL("mcpServerProcess.mjs", import.meta.url))
  const profile = PROFILE !== undefined && kind === "estat" ? ["--cpu-prof", `--cpu-prof-dir=${PROFILE}`] : []
  const child = fork(script, [kind], { execArgv: ["--expose-gc", ...profile, ...serverFlags], stdio: ["ignore", "inherit", "inherit", "ipc"] })
  const url = new URL(String(await nextMessage(child, field("url"))))
  return {
    url,
    memory: () => {
      const answer = nextMessage(child, field("memory")) as Promise<NodeJS.MemoryUsage>
      child.send("memory")
      return answer
    },
    cpu: () => {
      const answer = nextMessage(child, field("cpu")) as Promise<number>
      child.send("cpu")
      return answer
    },
    stop: () => new Promise<void>((resolve) => {
      child.once("exit", () => resolve())
      child.send("stop")
    })
  }
}

interface CallClient {
  readonly call: () => Promise<boolean>
  readonly close: () => Promise<void>
}

const connect = async (revision: Revision, url: URL): Promise<CallClient> => {
  const request = { name: "apply_keyword_suggestions", arguments: args }
  if (revision === "2026-07-28") {
    const client = new ClientV2({ name: "bench", version: "1.0.0" }, { versionNegotiation: { mode: { pin: revision } } })
    await client.connect(new TransportV2(url))
    return { call: async () => (await client.callTool(request)).isError !== true, close: () => client.close() }
  }
  const client = new ClientV1({ name: "bench", version: "1.0.0" })
  await client.connect(new TransportV1(url))
  return { call: async () => (await client.callTool(request)).isError !== true, close: () => client.close() }
}

const percentile = (sorted: ReadonlyArray<number>, p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0

interface LoadResult {
  readonly perSecond: number
  readonly p50: number
  readonly p99: number
  /** Server CPU time per call (µs), connecting and closing the clients included. */
  readonly cpuPerCall: number
}

const load = async (revision: Revision, server: ServerProcess, clientCount: number, label = ""): Promise<LoadResult> => {
  const url = server.url
  const cpuBefore = await server.cpu()
  const clients = await Promise.all(Array.from({ length: clientCount }, () => connect(revision, url)))
  for (const client of clients.slice(0, 5)) {
    for (let i = 0; i < WARMUP; i++) await client.call()
  }
  const perClient = Math.ceil(CALLS / clientCount)
  // The clients' own garbage, collected now rather than in the middle of this server's load.
  globalThis.gc?.()
  const latencies: Array<number> = []
  const calls: Array<readonly [number, number, number]> = []
  const started = performance.now()
  await Promise.all(clients.map(async (client) => {
    for (let i = 0; i < perClient; i++) {
      const t0 = performance.now()
      if (!(await client.call())) throw new Error("tool call failed")
      latencies.push(performance.now() - t0)
      calls.push([t0 - started, performance.now() - t0, i])
    }
  }))
  const seconds = (performance.now() - started) / 1000
  if (process.env["TAIL"]) {
    const worst = calls.sort((a, b) => b[1] - a[1]).slice(0, Math.ceil(calls.length / 100))
    const deciles = Array.from({ length: 10 }, () => 0)
    for (const [start] of worst) deciles[Math.min(9, Math.floor(10 * start / (seconds * 1000)))]! += 1
    console.log(`    ${label} ${clientCount} clients, ${started.toFixed(0)}–${(started + seconds * 1000).toFixed(0)} ms: worst 1% by start decile: ${deciles.join(" ")}; first calls among them: ${worst.filter(([, , i]) => i === 0).length}`)
  }
  await Promise.all(clients.map((c) => c.close()))
  const cpu = (await server.cpu()) - cpuBefore
  latencies.sort((a, b) => a - b)
  return {
    perSecond: latencies.length / seconds,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    cpuPerCall: cpu / (latencies.length + Math.min(5, clientCount) * WARMUP)
  }
}

const median = (values: ReadonlyArray<number>) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0

const medianOf = (runs: ReadonlyArray<LoadResult>): LoadResult => ({
  perSecond: median(runs.map((r) => r.perSecond)),
  p50: median(runs.map((r) => r.p50)),
  p99: median(runs.map((r) => r.p99)),
  cpuPerCall: median(runs.map((r) => r.cpuPerCall))
})

const throughputTable = async (servers: ReadonlyMap<ServerKind, ServerProcess>) => {
  const runs = new Map<string, Array<LoadResult>>()
  const keyOf = (revision: Revision, clients: number, kind: ServerKind) => `${revision}|${clients}|${kind}`
  for (let repeat = 0; repeat < REPEATS; repeat++) {
    for (const revision of Object.keys(served) as Array<Revision>) {
      for (const clients of CLIENT_COUNTS) {
        for (const kind of served[revision] ?? []) {
          const result = await load(revision, servers.get(kind)!, clients, names[kind])
          const key = keyOf(revision, clients, kind)
          runs.set(key, [...(runs.get(key) ?? []), result])
        }
      }
    }
  }
  for (const revision of Object.keys(served) as Array<Revision>) {
    for (const clients of CLIENT_COUNTS) {
      console.log(`\n${revision}, ${clients} clients, median of ${REPEATS}:`)
      const results = (served[revision] ?? []).map((kind) => [kind, medianOf(runs.get(keyOf(revision, clients, kind))!)] as const)
      for (const [kind, r] of results) {
        console.log(`  ${names[kind].padEnd(14)} ${r.perSecond.toFixed(0).padStart(6)} calls/s  p50 ${r.p50.toFixed(2).padStart(7)} ms  p99 ${r.p99.toFixed(2).padStart(7)} ms  server CPU ${r.cpuPerCall.toFixed(0).padStart(5)} µs/call`)
      }
      const ours = results.find(([kind]) => kind === "estat")![1]
      const sdks = results.filter(([kind]) => kind !== "estat")
      const [bestKind, best] = sdks.reduce((a, b) => (b[1].perSecond > a[1].perSecond ? b : a))
      console.log(`  estat-mcp / best SDK (${names[bestKind]}): throughput ${(ours.perSecond / best.perSecond).toFixed(2)}×, ` +
        `p50 ${(ours.p50 / best.p50).toFixed(2)}×, p99 ${(ours.p99 / best.p99).toFixed(2)}×, server CPU per call ${(ours.cpuPerCall / best.cpuPerCall).toFixed(2)}×`)
    }
  }
}

const rpcHeaders = { "content-type": "application/json", accept: "application/json, text/event-stream" }

/** An initialized 2025-11-25 session opened by hand, so no client opens streams it was not asked to. */
const openSession = async (url: URL): Promise<string> => {
  const initialize = await fetch(url, {
    method: "POST",
    headers: rpcHeaders,
    body: JSON.stringify({
      jsonrpc: "2.0", id: 1, method: "initialize",
      params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "bench", version: "1.0.0" } }
    })
  })
  await initialize.text()
  const sessionId = initialize.headers.get("mcp-session-id")
  if (sessionId === null) throw new Error(`no session id (HTTP ${initialize.status})`)
  const headers = { ...rpcHeaders, "mcp-session-id": sessionId, "mcp-protocol-version": "2025-11-25" }
  const initialized = await fetch(url, { method: "POST", headers, body: JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }) })
  await initialized.text()
  return sessionId
}

const openStream = async (url: URL, sessionId: string, signal: AbortSignal) => {
  const response = await fetch(url, {
    headers: { accept: "text/event-stream", "mcp-session-id": sessionId, "mcp-protocol-version": "2025-11-25" },
    signal
  })
  if (response.status !== 200) throw new Error(`GET stream refused (HTTP ${response.status})`)
  return response
}

const kilobytes = (bytes: number) => `${(bytes / 1024).toFixed(1).padStart(6)} KB`

const memoryTable = async (servers: ReadonlyMap<ServerKind, ServerProcess>) => {
  console.log(`\nmemory per idle 2025-11-25 session and per open GET SSE stream (${SESSIONS} of each, after a full GC; heap = heapUsed + external):`)
  for (const kind of kept(["sdk1", "sdk1-events", "estat"])) {
    const server = servers.get(kind)!
    const before = await server.memory()
    const sessions = await Promise.all(Array.from({ length: SESSIONS }, () => openSession(server.url)))
    const idle = await server.memory()
    const aborter = new AbortController()
    await Promise.all(sessions.map((id) => openStream(server.url, id, aborter.signal)))
    const streaming = await server.memory()
    aborter.abort()
    const heap = (m: NodeJS.MemoryUsage) => m.heapUsed + m.external
    const per = (a: number, b: number) => (b - a) / SESSIONS
    // RSS is left out: freed pages return to the system at the allocator's whim, and its deltas swing by more than a session.
    console.log(`  ${names[kind].padEnd(14)} session ${kilobytes(per(heap(before), heap(idle)))}   SSE stream ${kilobytes(per(heap(idle), heap(streaming)))}` +
      ` (of which external ${kilobytes(per(idle.external, streaming.external))})`)
  }
}

const main = async () => {
  console.log(`tools/call apply_keyword_suggestions, ${CALLS} calls per load across ${CLIENT_COUNTS.join(" / ")} clients (node ${process.version})`)
  const kinds = kept(["sdk1", "sdk1-events", "sdk2", "estat"])
  const servers = new Map(await Promise.all(kinds.map(async (kind) => [kind, await startServer(kind)] as const)))
  if (PARTS.has("throughput")) await throughputTable(servers)
  if (PARTS.has("memory")) await memoryTable(servers)
  await Promise.all([...servers.values()].map((server) => server.stop()))
}

main().then(() => process.exit(0), (error: unknown) => {
  console.error(error)
  process.exit(1)
})
