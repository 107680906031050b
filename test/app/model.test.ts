import { describe, expect, it } from "@effect/vitest"
import {
  chartData, columnLabel, defaultView, drillDownArguments, firstDrawable, receive, type ResultTable, sortRows, timeLabel, titleOf
} from "../../app/model.js"

/** The explorer's reading of tool results, as the browser runs it (app/model.ts is plain TypeScript, no DOM). */

const row = (area: string, name: string, sex: string, year: number, value: number | null, raw = value === null ? "-" : String(value)) => ({
  area_code: area, area_name: name, cat01_code: sex === "男女計" ? "000" : sex === "男" ? "001" : "002", cat01_name: sex,
  time_code: `${year}000000`, time_name: `${year}年`, time_year: year, time_month: null, time_quarter: null, unit: "千人", value, value_raw: raw
})

const rows = [
  row("47000", "沖縄県", "男女計", 2001, 1320), row("47000", "沖縄県", "男", 2001, null), row("47000", "沖縄県", "女", 2001, null),
  row("47000", "沖縄県", "男女計", 2000, 1318), row("47000", "沖縄県", "男", 2000, null), row("47000", "沖縄県", "女", 2000, null),
  row("47000", "沖縄県", "男女計", 2005, 1390), row("47000", "沖縄県", "男", 2005, 680), row("47000", "沖縄県", "女", 2005, 710)
]
const custom: ResultTable = { title: "クエリ結果", columns: Object.keys(rows[0]!), rows, truncated: false }

describe("the explorer's model", () => {
  it("reads analyze_with_athena's queries and opens on the first that makes a chart", () => {
    const received = receive({
      engine: "duckdb", table_name: "population", database: "estat_db", data_scanned_bytes: null, execution_ms: 12,
      queries: [
        { title: "rows and value statistics", sql: "…", columns: [{ name: "row_count", type: "BIGINT" }], rows: [{ row_count: 3600 }], row_count: 1, truncated: false },
        { title: "by area", sql: "…", columns: [{ name: "area_code", type: "VARCHAR" }, { name: "area_name", type: "VARCHAR" }, { name: "total", type: "DOUBLE" }],
          rows: [{ area_code: "13000", area_name: "東京都", total: 686794 }, { area_code: "47000", area_name: "沖縄県", total: 104000 }], row_count: 2, truncated: true }
      ]
    })!
    expect(received.heading).toBe("duckdb: estat_db.population")
    expect(received.tableName).toBe("population")
    expect(received.tables.map((t) => t.title)).toEqual(["行数と値の統計", "地域別"])
    expect(firstDrawable(received)).toBe(1)
    const byArea = received.tables[1]!
    expect(byArea.truncated).toBe(true)
    const view = defaultView(byArea)!
    expect(view).toEqual({ axis: "area", series: null, measure: "total", fixed: {} })
    expect(chartData(byArea, view)).toMatchObject({
      kind: "bar", axisLabel: "地域", categories: ["東京都", "沖縄県"], codes: ["13000", "47000"],
      series: [{ name: "合計", values: [686794, 104000] }], measureLabel: "合計", unit: null
    })
  })

  it("reads a fetch's sample rows with e-Stat's own dimension names", () => {
    const received = receive({
      dataset_id: "0009990001", title: "男女別人口", records_fetched: 3600, sample_rows: rows.slice(0, 3),
      dimensions: [{ id: "cat01", name: "男女別", item_count: 3 }, { id: "area", name: "全国・都道府県", item_count: 48 }],
      columns: Object.keys(rows[0]!).map((name) => ({ name, type: "VARCHAR" }))
    })!
    expect(received).toMatchObject({ heading: "男女別人口 (0009990001)", tableName: null, dimensionNames: { cat01: "男女別" } })
    expect(received.tables[0]).toMatchObject({ title: "先頭 3 行（全 3,600 行）", truncated: true })
    expect(columnLabel("cat01_name", received.dimensionNames)).toBe("男女別")
    expect(columnLabel("area_code", received.dimensionNames)).toBe("全国・都道府県（コード）")
    expect(columnLabel("time_name")).toBe("時間軸")
    expect(receive({ something: "else" })).toBeUndefined()
    expect(receive("text")).toBeUndefined()
  })

  it("draws rows over time in time order, one series per sex, with the suppressed cells marked and the unit", () => {
    const view = defaultView(custom)!
    expect(view).toEqual({ axis: "time", series: "cat01", measure: "value", fixed: {} })
    const data = chartData(custom, view)
    expect(data).toMatchObject({
      kind: "line", categories: ["2000年", "2001年", "2005年"], unit: "千人", measureLabel: "値",
      series: [
        { name: "男女計", values: [1318, 1320, 1390] },
        { name: "男", values: [null, null, 680] },
        { name: "女", values: [null, null, 710] }
      ]
    })
    expect(data.suppressed).toEqual([
      { index: 0, series: "男", mark: "-" }, { index: 1, series: "男", mark: "-" },
      { index: 0, series: "女", mark: "-" }, { index: 1, series: "女", mark: "-" }
    ])
  })

  it("holds a dimension off the axis at one value, and says which", () => {
    const data = chartData(custom, { axis: "time", series: null, measure: "value", fixed: { cat01: "001" } })
    expect(data.heldAt).toEqual(["分類01: 男"])
    expect(data.series).toEqual([{ name: "値", values: [null, null, 680] }])
  })

  it("labels time from its parts when e-Stat's label is absent", () => {
    expect(timeLabel({ time_year: 2024, time_month: 3 })).toBe("2024年3月")
    expect(timeLabel({ time_year: 2024, time_quarter: 2 })).toBe("2024年第2四半期")
    expect(timeLabel({ time_year: 2024 })).toBe("2024年")
    expect(titleOf("by cat01", { cat01: "男女別" })).toBe("男女別")
    expect(titleOf("by area")).toBe("地域別")
  })

  it("sorts numbers by value and text in Japanese order, empty cells last both ways", () => {
    const table = [{ v: 3, s: "い" }, { v: null, s: "あ" }, { v: 10, s: "う" }]
    expect(sortRows(table, "v", "asc").map((r) => r.v)).toEqual([3, 10, null])
    expect(sortRows(table, "v", "desc").map((r) => r.v)).toEqual([10, 3, null])
    expect(sortRows(table, "s", "asc").map((r) => r.s)).toEqual(["あ", "い", "う"])
  })

  it("drills down with one quoted read-only SELECT", () => {
    expect(drillDownArguments("population", "area_code", "O'Brien")).toEqual({
      table_name: "population",
      analysis_type: "custom",
      custom_query: `SELECT * FROM "population" WHERE "area_code" = 'O''Brien'`,
      max_rows: 1000
    })
  })
})
