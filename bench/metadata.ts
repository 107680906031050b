/**
 * Issue 16's figures: what the metadata cache, the first-page count and run reuse save. Against the
 * fake e-Stat in another process answering every request after LATENCY_MS (default 300), on the
 * local backend, each call made twice, printed side by side: wall time, e-Stat requests, and
 * sequential round trips (requests that waited for another; the ones in flight together count once).
 *
 *   npm run bench:metadata        (LATENCY_MS=300)
 *
 * 1. fetch_dataset_filtered, one page (東京都's 3 rows of the census table; the second time the
 *    stored run answers: the table is unchanged);
 *    then another filter (the table's metadata now cached);
 * 2. search_estat_data, enhanced: getStatsList, then its candidates' metadata (cached the second time);
 * 3. fetch_dataset_auto of the whole 1.4M-row table (14 pages), then again.
 */
import { FetchHttpClient } from "@effect/platform"
import { Effect } from "effect"
import type { Tool } from "../src/mcp/tool.js"
import type { ToolRequirements } from "../src/tools/registry.js"
import { fetchDatasetAuto } from "../src/tools/fetchDatasetAuto.js"
import { fetchDatasetFiltered } from "../src/tools/fetchDatasetFiltered.js"
import { searchEstatData } from "../src/tools/searchEstatData.js"
import type { ReceivedRequest } from "../test/fakes/estat/server.js"
import { sequentialRoundTrips } from "../test/support/roundTrips.js"
import { callTool } from "../test/support/toolResult.js"
import { benchServices, startFakeProcess } from "./support.js"

const table = { id: "0009100014", categories: 100, areas: 50, months: 280 }
/** The census fixture (36 rows): filtering the generated table would time the fake's scan of 1.4M cells, not the server. */
const CENSUS = "0003445078"
const latencyMs = Number(process.env["LATENCY_MS"] ?? 300)

interface Figures {
  readonly seconds: number
  readonly requests: number
  readonly roundTrips: number
  readonly note: string
}

/** fetch that notes when each e-Stat request went out and when its answer began. */
const countingFetch = (log: Array<ReceivedRequest>): typeof globalThis.fetch => async (input, init) => {
  const url = new URL(input instanceof Request ? input.url : String(input))
  const entry = { endpoint: url.pathname.split("/").at(-1) ?? "", params: url.searchParams, startedAt: performance.now(), endedAt: null as number | null }
  log.push(entry)
  const response = await globalThis.fetch(input, init)
  entry.endedAt = performance.now()
  return response
}

const scenarios: ReadonlyArray<{ readonly name: string; readonly tool: Tool<ToolRequirements>; readonly args: Record<string, unknown>; readonly note: (out: Record<string, unknown>) => string }> = [
  {
    name: "filtered fetch, one page",
    tool: fetchDatasetFiltered,
    args: { dataset_id: CENSUS, filters: { area: "東京都" } },
    note: (out) => `${out["records_fetched"]} rows${out["reused"] === true ? ", reused" : ""}`
  },
  {
    name: "…another filter",
    tool: fetchDatasetFiltered,
    args: { dataset_id: CENSUS, filters: { area: "大阪府" } },
    note: (out) => `${out["records_fetched"]} rows${out["reused"] === true ? ", reused" : ""}`
  },
  {
    name: "enhanced search 「人口」",
    tool: searchEstatData,
    args: { query: "人口" },
    note: (out) => `${(out["results"] as ReadonlyArray<unknown>).length} results`
  },
  {
    name: "whole 1.4M-row table",
    tool: fetchDatasetAuto,
    args: { dataset_id: table.id },
    note: (out) => `${Number(out["records_fetched"]).toLocaleString("en")} rows${out["reused"] === true ? ", reused" : ""}`
  }
]

const program = Effect.scoped(Effect.gen(function* () {
  const { baseUrl } = yield* startFakeProcess(table, latencyMs, true)
  const { context } = yield* benchServices(baseUrl)
  // Unmeasured: the first Parquet write starts DuckDB, the first calls warm the code.
  yield* callTool(fetchDatasetAuto, { dataset_id: "0004052037" }).pipe(Effect.provide(context))
  const measure = (scenario: typeof scenarios[number]) =>
    Effect.gen(function* () {
      const log: Array<ReceivedRequest> = []
      const started = performance.now()
      const result = yield* callTool(scenario.tool, scenario.args).pipe(
        Effect.provideService(FetchHttpClient.Fetch, countingFetch(log)),
        Effect.provide(context)
      )
      if (result.isError === true) return yield* Effect.die(new Error(`${scenario.name}: ${JSON.stringify(result.content)}`))
      return {
        seconds: (performance.now() - started) / 1000,
        requests: log.length,
        roundTrips: sequentialRoundTrips(log),
        note: scenario.note(result.structuredContent as Record<string, unknown>)
      } satisfies Figures
    })
  const cell = (f: Figures) => `${f.seconds.toFixed(2).padStart(6)} s ${String(f.roundTrips).padStart(2)} rt ${String(f.requests).padStart(2)} req  ${f.note}`.padEnd(48)
  console.log(`e-Stat latency ${latencyMs} ms per request; rt = sequential round trips, req = e-Stat requests\n`)
  console.log(`${"".padEnd(26)}${"first".padEnd(48)}second`)
  for (const scenario of scenarios) {
    const first = yield* measure(scenario)
    const second = yield* measure(scenario)
    console.log(`${scenario.name.padEnd(26)}${cell(first)}${cell(second)}`)
  }
}))

Effect.runPromise(program).then(
  () => process.exit(0),
  (error) => {
    console.error(error)
    process.exit(1)
  }
)
