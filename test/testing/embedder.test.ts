// The README's embedding example, as an embedder writes it (they import from "estat-mcp/testing").
import { Effect, TestClock } from "effect"
import { expect, layer } from "@effect/vitest"
import { callTool, sampleTableIds, servicesLayer } from "../../src/testing/index.js"

/** The structured result of a tool call that must succeed. */
const run = (name: string, args: Record<string, unknown>) =>
  Effect.flatMap(callTool(name, args), (result) =>
    result.isError ? Effect.dieMessage(`${name} failed: ${JSON.stringify(result.content)}`) : Effect.succeed(result.structuredContent as Record<string, unknown>))

layer(servicesLayer())("an embedder's test on estat-mcp's mocked layers", (it) => {
  it.effect("the README's example: fetches a sample table", () =>
    Effect.gen(function* () {
      const fetched = yield* callTool("fetch_dataset_auto", { dataset_id: sampleTableIds.populationByPrefectureAndYear })
      expect(fetched.structuredContent).toMatchObject({ records_fetched: 3600, complete: true })
    }))

  it.effect("search → fetch → save CSV → load → analyze, with no appId and no network", () =>
    Effect.gen(function* () {
      // Ranking weighs how recently each table was updated: the TestClock says when "now" is.
      yield* TestClock.setTime(Date.parse("2026-11-29T00:00:00Z"))
      const found = yield* run("search_estat_data", { query: "都道府県 人口" })
      const first = (found["results"] as Array<{ dataset_id: string; total_records: number }>)[0]!
      expect(first).toMatchObject({ dataset_id: sampleTableIds.populationByPrefectureAndYear, total_records: 3600 })

      const fetched = yield* run("fetch_dataset_auto", { dataset_id: first.dataset_id })
      expect(fetched).toMatchObject({ records_fetched: 3600, complete: true })
      const csv = yield* run("save_dataset_as_csv", { dataset_id: first.dataset_id })
      expect(csv).toMatchObject({ records_count: 3600 })

      const storage = fetched["storage"] as { parquet_prefix: string }
      const loaded = yield* run("load_to_iceberg", { table_name: "population", s3_parquet_path: storage.parquet_prefix })
      expect(loaded).toMatchObject({ records_loaded: 3600, engine: "duckdb" })
      const analysis = yield* run("analyze_with_athena", {
        table_name: "population",
        analysis_type: "custom",
        custom_query: "SELECT time_year, value FROM population WHERE area_code = '13000' AND cat01_code = '000' AND time_year IN (2008, 2024) ORDER BY time_year"
      })
      const rows = (analysis["queries"] as Array<{ rows: Array<{ time_year: number; value: number }> }>)[0]!.rows
      // The sample's Tokyo peaks in 2008 and declines after.
      expect(rows.map((r) => r.time_year)).toEqual([2008, 2024])
      expect(rows[0]!.value).toBe(14048)
      expect(rows[1]!.value).toBeLessThan(14048)
    }))

  it.effect("an e-Stat error reaches the caller as the tool's error result", () =>
    Effect.gen(function* () {
      const result = yield* callTool("fetch_dataset_auto", { dataset_id: "0000000000" })
      expect(result.isError).toBe(true)
      expect(JSON.stringify(result.content)).toContain("STATUS 300")
    }))
})
