/**
 * The dataset pipeline on the local backend against a generated e-Stat table served by the fake
 * in another process: wall time, rows/s and peak RSS of this process, plus the cost of turning a
 * page's bytes into rows against a bare JSON.parse of the same bytes.
 *
 *   npm run bench:fetch          (SCENARIO=small|large|all, default all; RUNS=2 runs two at once; LATENCY_MS=1000
 *                                 sets the small table's page latency; STORE=0 skips storage;
 *                                 MEM_DETAIL=1 prints heap/external at the peak; PAGE_TIMES=1 each page's arrival)
 *
 * It runs as the Docker image does: bundled (scripts/bundle.mjs), with V8's heap capped (old
 * space 128 MB, semi-spaces 8 MB) and MALLOC_ARENA_MAX=2, so RSS is that of the process a
 * container runs. A run holds at most `concurrency` pages (~8 MB each) between body and
 * stored part; V8's heap growth towards its cap adds the rest of the peak.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { defaultSettings } from "../src/config.js"
import { rowBuilder } from "../src/domain/rows.js"
import { fetchDataset } from "../src/pipeline/fetchDataset.js"
import { DataEngine } from "../src/services/DataEngine.js"
import { EStat } from "../src/services/estat/EStat.js"
import { pageOfBytes, streamPageOfBytes, yieldToEventLoop } from "../src/services/estat/bodies.js"
import { PIECE_BYTES } from "../src/services/pageWriter/job.js"
import type { GeneratedTableOptions } from "../test/fakes/estat/generated.js"
import { FAKE_APP_ID } from "../test/fakes/estat/server.js"
import { benchServices, startFakeProcess } from "./support.js"

interface Scenario {
  readonly name: string
  readonly table: GeneratedTableOptions
  readonly latencyMs: number
  readonly concurrency: number
  /** The fake encodes every page before the run: its own CPU stays out of the wall time. */
  readonly warm: boolean
}

const scenarios: ReadonlyArray<Scenario> = [
  { name: "small", table: { id: "0009100014", categories: 100, areas: 50, months: 280 }, latencyMs: Number(process.env["LATENCY_MS"] ?? 300), concurrency: 4, warm: true },
  { name: "large", table: { id: "0009100131", categories: 1000, areas: 50, months: 262 }, latencyMs: 0, concurrency: 4, warm: false }
]

/** Samples this process's RSS every 20 ms while `effect` runs. */
const withPeakRss = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function* () {
    let peak = process.memoryUsage.rss()
    let atPeak = process.memoryUsage()
    const timer = setInterval(() => {
      const rss = process.memoryUsage.rss()
      if (rss > peak) {
        peak = rss
        if (process.env["MEM_DETAIL"]) atPeak = process.memoryUsage()
      }
    }, 20)
    const result = yield* effect.pipe(Effect.ensuring(Effect.sync(() => clearInterval(timer))))
    if (process.env["MEM_DETAIL"]) console.log("at peak", Object.fromEntries(Object.entries(atPeak).map(([k, v]) => [k, mb(v)])))
    return { result, peakRss: Math.max(peak, process.memoryUsage.rss()) }
  })

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`

const runScenario = (scenario: Scenario) =>
  Effect.scoped(Effect.gen(function* () {
    const { baseUrl } = yield* startFakeProcess(scenario.table, scenario.latencyMs, scenario.warm)
    const { context } = yield* benchServices(baseUrl, {
      duckdbThreads: Number(process.env["DUCKDB_THREADS"] ?? defaultSettings.duckdbThreads)
    })
    const baseRss = process.memoryUsage.rss()
    const started = Date.now()
    const fetchOnce = fetchDataset({
      statsDataId: scenario.table.id,
      narrowing: {},
      maxRecords: null,
      pageSize: 100_000,
      concurrency: scenario.concurrency,
      withLabels: true,
      store: process.env["STORE"] !== "0",
      resumeRunId: null,
      onProgress: (p) => Effect.sync(() => void (process.env["PAGE_TIMES"] && console.log(`page ${p.pagesDone} at ${Date.now() - started} ms`)))
    })
    const { peakRss, result } = yield* withPeakRss(
      Effect.all(Array.from({ length: runsAtOnce }, () => fetchOnce), { concurrency: "unbounded" }).pipe(
        Effect.map((outcomes) => outcomes[0]!),
        Effect.provide(context)
      )
    )
    const wallMs = Date.now() - started
    const rowsStored = result.recordsFetched * runsAtOnce
    const conversion = yield* measureConversion(baseUrl, scenario.table.id).pipe(Effect.provide(context))
    const pages = result.pagesTotal
    const floorMs = Math.ceil(pages / scenario.concurrency) * scenario.latencyMs
    console.log(`\n${scenario.name}: ${result.recordsFetched.toLocaleString("en")} rows, ${pages} pages, latency ${scenario.latencyMs} ms, concurrency ${scenario.concurrency}` +
      (runsAtOnce > 1 ? `, ${runsAtOnce} runs at once` : ""))
    console.log(`  wall            ${(wallMs / 1000).toFixed(2)} s   (${Math.round(rowsStored / (wallMs / 1000)).toLocaleString("en")} rows/s)`)
    console.log(`  latency floor   ${(floorMs / 1000).toFixed(2)} s = ⌈${pages}/${scenario.concurrency}⌉ × ${scenario.latencyMs} ms; target ≤ 1.2 × floor + conversion`)
    console.log(`  peak RSS        ${mb(peakRss)}   (target ≤ 300 MB; ${mb(baseRss)} before the run)`)
    console.log(`  per page        JSON.parse ${conversion.parseMs.toFixed(0)} ms; bytes → rows ${conversion.decodeMs.toFixed(0)} ms ` +
      `(${((conversion.parseMs / conversion.decodeMs) * 100).toFixed(0)} % of JSON.parse throughput, target ≥ 50 %); rows → Parquet ${conversion.parquetMs.toFixed(0)} ms`)
    console.log(`  conversion      ${((conversion.decodeMs + conversion.parquetMs) * pages / 1000).toFixed(2)} s for all pages on one core; ` +
      `budget 1.2 × floor + conversion = ${((1.2 * floorMs + (conversion.decodeMs + conversion.parquetMs) * pages) / 1000).toFixed(2)} s`)
  }))

/** One page's bytes timed three ways: bare JSON.parse, our decode into rows, and the Parquet write. */
const measureConversion = (baseUrl: string, statsDataId: string) =>
  Effect.gen(function* () {
    const estat = yield* EStat
    const engine = yield* DataEngine
    const meta = yield* estat.getMetaInfo(statsDataId)
    const url = `${baseUrl}/json/getStatsData?appId=${FAKE_APP_ID}&statsDataId=${statsDataId}&metaGetFlg=N&annotationGetFlg=Y&startPosition=1&limit=100000`
    const body = yield* Effect.promise(() => fetch(url).then((r) => r.text()))
    const bytes = new TextEncoder().encode(body)
    const builder = rowBuilder({ statsDataId, dimensions: meta.dimensions, withLabels: true })
    /** Median of 9 timed runs after a warm-up: single runs vary by ±30 % on a shared machine. */
    const time = (f: () => unknown) =>
      Effect.promise(async () => {
        await f()
        const runs: Array<number> = []
        for (let i = 0; i < 9; i++) {
          const start = performance.now()
          await f()
          runs.push(performance.now() - start)
        }
        return runs.sort((a, b) => a - b)[4]!
      })
    const parseMs = yield* time(() => JSON.parse(body))
    // The page writer's own reading: VALUE parsed a piece at a time (the event loop running between
    // them), each piece's rows made into CSV bytes as it is read; it ends when the last chunk is made.
    const decodeMs = yield* time(() => {
      const encoder = builder.csvEncoder()
      return Effect.runPromise(Effect.map(
        streamPageOfBytes([bytes], 200, {
          cells: (cells, head) => Effect.sync(() => {
            for (const _chunk of encoder.add(cells, head.annotations)) continue
          }),
          restart: Effect.sync(() => encoder.end())
        }, yieldToEventLoop, PIECE_BYTES),
        () => encoder.end()
      ))
    })
    // The page whole, for the Parquet write.
    const toRows = Effect.map(pageOfBytes([bytes], 200), (page) => builder.csv(page.cells, page.annotations))
    const rows = yield* toRows
    const dir = mkdtempSync(join(tmpdir(), "estat-bench-parquet-"))
    const started = performance.now()
    for (let i = 0; i < 3; i++) yield* engine.writeParquet(rows, join(dir, `p${i}.parquet`))
    const parquetMs = (performance.now() - started) / 3
    rmSync(dir, { recursive: true, force: true })
    return { parseMs, decodeMs, parquetMs }
  })

const chosen = process.env["SCENARIO"] ?? "all"
/** RUNS=2: that many runs of the table at once (ESTAT_MAX_CONCURRENT_RUNS lets 2 run by default). */
const runsAtOnce = Math.max(1, Number(process.env["RUNS"] ?? 1))
const program = Effect.forEach(scenarios.filter((s) => chosen === "all" || s.name === chosen), runScenario, { discard: true })
Effect.runPromise(program).then(
  () => process.exit(0),
  (error) => {
    console.error(error)
    process.exit(1)
  }
)
