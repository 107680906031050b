import { fileURLToPath } from "node:url"
import { DuckDBInstance } from "@duckdb/node-api"
import { describe, expect, it, onTestFinished } from "@effect/vitest"
import { generatedTable } from "../fakes/estatServer.js"
import { useE2E } from "../support/e2eServer.js"
import { firstText } from "../support/toolResult.js"

const table = generatedTable({ id: "0009000010", categories: 4, areas: 3, months: 24, specialEvery: 11 }) // 288 rows

interface Query { title: string; sql: string; rows: Array<Record<string, unknown>>; row_count: number; truncated: boolean; columns: Array<{ name: string; type: string }> }

/** The local lakehouse end to end: fetch → load → load again → load a second run → analyses equal DuckDB on the parts. */
describe("load_to_iceberg and analyze_with_athena on the local backend", () => {
  const e2e = useE2E("e2e-lake", [table])

  const call = async (name: string, args: Record<string, unknown>) => {
    const result = await e2e().client.callTool({ name, arguments: args })
    if (result.isError) throw new Error(firstText(result))
    return result.structuredContent as Record<string, unknown>
  }

  it("loads runs once each, appends, and analyses like DuckDB on the Parquet parts", async () => {
    const first = await call("fetch_dataset_auto", { dataset_id: table.info.id }) as { storage: { parquet_prefix: string }; run_id: string }
    // force: an unchanged table's second fetch would answer with the first run (issue 16).
    const second = await call("fetch_dataset_auto", { dataset_id: table.info.id, force: true }) as { storage: { parquet_prefix: string }; run_id: string }
    const loaded = await call("load_to_iceberg", { table_name: "prices", s3_parquet_path: first.storage.parquet_prefix })
    expect(loaded).toMatchObject({ table_name: "prices", database: "estat_db", engine: "duckdb", records_loaded: 288, table_total_records: 288, already_loaded: false })
    const again = await call("load_to_iceberg", { table_name: "prices", s3_parquet_path: first.storage.parquet_prefix })
    expect(again).toMatchObject({ records_loaded: 0, table_total_records: 288, already_loaded: true, snapshot_id: loaded["snapshot_id"] })
    const appended = await call("load_to_iceberg", { table_name: "prices", s3_parquet_path: second.storage.parquet_prefix })
    expect(appended).toMatchObject({ records_loaded: 288, table_total_records: 576 })

    // What DuckDB computes directly on both runs' parts.
    const parts = [first, second].map((r) => `${fileURLToPath(r.storage.parquet_prefix)}*.parquet`)
    const db = await DuckDBInstance.create(":memory:")
    const connection = await db.connect()
    onTestFinished(() => {
      connection.closeSync()
      db.closeSync()
    })
    const direct = async (sql: string) =>
      (await connection.runAndReadAll(sql.replaceAll("FROM prices", `FROM read_parquet(['${parts.join("', '")}'])`))).getRowObjectsJson()

    const basic = await call("analyze_with_athena", { table_name: "prices" }) as { queries: Array<Query>; engine: string }
    expect(basic.queries.map((q) => q.title)).toEqual(["rows and value statistics", "by year"])
    const [stats] = basic.queries[0]!.rows
    const [expected] = await direct("SELECT count(*) AS n, count(value) AS numeric, avg(value) AS average FROM prices")
    expect(stats).toMatchObject({ row_count: Number(expected!["n"]), numeric_values: Number(expected!["numeric"]) })
    expect(stats!["avg_value"] as number).toBeCloseTo(Number(expected!["average"]), 6)
    const byYear = basic.queries[1]!.rows
    const expectedYears = await direct("SELECT time_year, count(*) AS n, sum(value) AS total FROM prices GROUP BY 1 ORDER BY 1")
    expect(byYear.map((r) => [r["time_year"], r["row_count"]])).toEqual(expectedYears.map((r) => [Number(r["time_year"]), Number(r["n"])]))
    for (const [i, r] of byYear.entries()) expect(r["total"] as number).toBeCloseTo(Number(expectedYears[i]!["total"]), 6)

    const advanced = await call("analyze_with_athena", { table_name: "prices", analysis_type: "advanced", max_rows: 2 }) as { queries: Array<Query> }
    expect(advanced.queries.map((q) => q.title)).toEqual(["rows and value statistics", "by year", "by tab", "by cat01", "by area", "trend by year"])
    const byArea = advanced.queries.find((q) => q.title === "by area")!
    expect(byArea).toMatchObject({ row_count: 2, truncated: true })
    expect(byArea.columns.map((c) => c.name)).toEqual(["area_code", "area_name", "row_count", "total", "average"])
    const trend = advanced.queries.at(-1)!.rows
    expect(trend[0]!["change"]).toBeNull()

    const custom = await call("analyze_with_athena", {
      table_name: "prices", analysis_type: "custom", custom_query: "SELECT run_id, count(*) AS n FROM prices GROUP BY run_id ORDER BY run_id"
    }) as { queries: Array<Query> }
    expect(custom.queries[0]!.rows).toEqual([{ run_id: first.run_id, n: 288 }, { run_id: second.run_id, n: 288 }].sort((a, b) => a.run_id.localeCompare(b.run_id)))

    const unknown = await e2e().client.callTool({ name: "analyze_with_athena", arguments: { table_name: "pricez" } })
    expect(firstText(unknown)).toBe("Table estat_db.pricez: it does not exist; the tables are prices")
    const refused = await e2e().client.callTool({ name: "analyze_with_athena", arguments: { table_name: "prices", analysis_type: "custom", custom_query: "DROP TABLE prices" } })
    expect(refused.isError).toBe(true)
    expect(firstText(refused)).toContain("The query was rejected: it is a DROP statement, not a SELECT statement")
    const injected = await e2e().client.callTool({ name: "load_to_iceberg", arguments: { table_name: "prices; drop table x", s3_parquet_path: first.storage.parquet_prefix } })
    expect(injected.isError).toBe(true)
    expect(firstText(injected)).toContain("use lower-case letters, digits and _ only")
  })
})
