/**
 * Effect run-loop steps and fibers per quick 2025 `tools/call`, deterministic where CPU figures
 * are not: the real server (its tool set, on 127.0.0.1) and SDK v1's client in this process, a
 * supervisor seeing every step of every fiber (op supervision on, also for the fibers FiberMap
 * forks with the default runtime's flags).
 *
 *   npm run bench:steps     N=2000 calls (after 300 unmeasured)   TRACE=1: every step of one call, by fiber
 *   CALL=search             search_estat_data instead (one e-Stat search, from a fake e-Stat in this process; at most 200 calls after 50)
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { HttpServer } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import { Context, Effect, Exit, Layer, Option, Redacted, Runtime, RuntimeFlags, Scope, Supervisor } from "effect"
import { type AppSettings, configLayer, defaultSettings } from "../src/config.js"
import { mcpLayerFor } from "../src/layers.js"
import { httpServerLayer } from "../src/server.js"
import { tools } from "../src/tools/registry.js"
import { generatedTable } from "../test/fakes/estat/generated.js"
import { FAKE_APP_ID, startFakeEStat } from "../test/fakes/estat/server.js"

// SDK v1's client adds an abort listener per request to one signal: thousands of calls on one
// client warn of a listener leak on every call. The client is not what is measured here.
process.removeAllListeners("warning")
process.on("warning", (warning) => warning.name === "MaxListenersExceededWarning" || console.warn(warning))

const N = Number(process.env["N"] ?? 2000)
const TRACE = process.env["TRACE"] === "1"
const SEARCH = process.env["CALL"] === "search"

// FiberMap forks a request's detached call with the default runtime's flags: count its steps too.
const defaultRuntime = Runtime.defaultRuntime as { runtimeFlags: RuntimeFlags.RuntimeFlags }
defaultRuntime.runtimeFlags = RuntimeFlags.enable(defaultRuntime.runtimeFlags, RuntimeFlags.OpSupervision)

/** What a step is: its opcode and, for a function, the start of its source. */
const describeStep = (effect: unknown) => {
  const op = effect as { readonly _op?: string; readonly effect_instruction_i0?: unknown }
  const body = op.effect_instruction_i0
  return `${op._op ?? "?"} ${typeof body === "function" ? body.toString().replace(/\s+/g, " ").slice(0, 120) : ""}`
}

class StepCounter extends Supervisor.AbstractSupervisor<void> {
  readonly value = Effect.void
  readonly steps = new Map<unknown, Array<string> | number>()
  override onStart() {}
  override onEffect(fiber: unknown, effect: unknown) {
    const seen = this.steps.get(fiber) ?? (TRACE ? [] : 0)
    this.steps.set(fiber, Array.isArray(seen) ? [...seen, describeStep(effect)] : seen + 1)
  }
}

const counter = new StepCounter()
const dataDir = mkdtempSync(join(tmpdir(), "estat-steps-"))
// The table bench:responsiveness fetches: its search is that bench's quick call.
const fake = SEARCH ? await startFakeEStat({ tables: [generatedTable({ id: "0009100014", categories: 100, areas: 50, months: 280 })] }) : undefined
const settings: AppSettings = {
  ...defaultSettings, host: "127.0.0.1", port: 0, dataDir, logLevel: "warn", sessionRateLimit: 0,
  ...(fake === undefined ? {} : { estatBaseUrl: fake.baseUrl, estatAppId: Option.some(Redacted.make(FAKE_APP_ID)) })
}
const layer = httpServerLayer(settings).pipe(
  Layer.provideMerge(mcpLayerFor(tools)),
  Layer.provideMerge(configLayer(settings)),
  Layer.provideMerge(NodeContext.layer),
  Layer.provide(Layer.merge(Supervisor.addSupervisor(counter), RuntimeFlags.enableOpSupervision))
)

const scope = Effect.runSync(Scope.make())
const context = await Effect.runPromise(Layer.buildWithScope(layer, scope))
const address = Context.get(context, HttpServer.HttpServer).address
if (address._tag !== "TcpAddress") throw new Error("expected a TCP address")
const client = new Client({ name: "bench-steps", version: "1.0.0" })
await client.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${address.port}/mcp`)))
const call = SEARCH
  ? { name: "search_estat_data", arguments: { query: "人口", max_results: 3 } }
  : { name: "apply_keyword_suggestions", arguments: { original_query: "北海道の収入と年収の推移", accepted_keywords: { 収入: "所得", 年収: "年間収入" } } }

const warmup = SEARCH ? 50 : 300
for (let i = 0; i < warmup; i++) await client.callTool(call)
counter.steps.clear()
const requestsBefore = fake?.requests.length ?? 0
const calls = TRACE ? 1 : SEARCH ? Math.min(N, 200) : N
for (let i = 0; i < calls; i++) await client.callTool(call)

const perFiber = [...counter.steps.values()]
const count = (steps: Array<string> | number) => (Array.isArray(steps) ? steps.length : steps)
const total = perFiber.reduce<number>((sum, steps) => sum + count(steps), 0)
console.log(`tools/call ${call.name}, ${calls} calls: ${(total / calls).toFixed(1)} steps and ${(perFiber.length / calls).toFixed(2)} fibers per call ` +
  `(steps per fiber: ${[...new Set(perFiber.map(count))].join(", ")})`)
if (fake !== undefined) console.log(`e-Stat requests per call: ${((fake.requests.length - requestsBefore) / calls).toFixed(2)} (${[...new Set(fake.requests.slice(requestsBefore).map((r) => r.endpoint))].join(", ")})`)
if (TRACE) {
  for (const steps of perFiber) {
    if (!Array.isArray(steps)) continue
    console.log(`--- a fiber of ${steps.length} steps`)
    steps.forEach((step, i) => console.log(`${String(i).padStart(4)} ${step}`))
  }
}
await client.close()
await Effect.runPromise(Scope.close(scope, Exit.void))
await fake?.close()
rmSync(dataDir, { recursive: true, force: true })
