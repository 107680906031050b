import { describe, expect, it } from "@effect/vitest"
import { renderText } from "../../src/mcp/textContent.js"

describe("renderText", () => {
  it("writes scalars as lines, lists of objects as one table each, and leaves nulls, empty lists and all-null columns out", () => {
    const text = renderText("Did it.", {
      id: "0003445078",
      count: 2,
      done: true,
      missing: null,
      none: [],
      storage: { manifest: "file:///data/datasets/0003445078/r1/manifest.json" },
      items: [{ code: "1", label: "男" }, { code: "2", label: "女" }],
      dims: [{ id: "cat01", name: "男女", labels: ["総数", "男"], level: null }, { id: "area", name: "地域", labels: ["全国"], level: null }]
    })
    expect(text).toBe([
      "Did it.",
      "id: 0003445078",
      "count: 2",
      "done: true",
      "storage.manifest: file:///data/datasets/0003445078/r1/manifest.json",
      "items(code:label): 1:男, 2:女",
      "dims (2): id\tname\tlabels",
      "cat01\t男女\t総数, 男",
      "area\t地域\t全国"
    ].join("\n"))
  })

  it("names repeated long values, says constant columns of wide tables once, and keeps cells on one line", () => {
    const url = "file:///data/csv/0003445078/r1/out.csv"
    const rows = [1, 2, 3].map((n) => ({ a: "x", b: "y", c: "z", d: "w", e: null, f: 2020, g: n, h: `line\t${n}\nnext` }))
    const text = renderText("S", { location: url, download_url: url, paths: [url], rows })
    expect(text.split("\n")).toEqual([
      "S",
      `location: ${url}`,
      "download_url: same as location",
      "paths: one item, same as location",
      "rows (3):",
      "in every row: a=x, b=y, c=z, d=w, f=2020",
      "g\th",
      "1\tline 1 next",
      "2\tline 2 next",
      "3\tline 3 next"
    ])
  })

  it("writes a nested table under its row, its header once when every row's has the same fields", () => {
    const text = renderText("R", {
      results: [
        { id: "0003445078", title: "人口", dimensions: [{ id: "cat01", name: "男女", item_count: 3 }, { id: "area", name: "地域", item_count: 12 }] },
        { id: "0003448233", title: "推計", dimensions: [{ id: "time", name: "時間軸", item_count: 1 }] },
        { id: "0003445080", title: "年齢" }
      ]
    })
    expect(text.split("\n")).toEqual([
      "R",
      "results (3): id\ttitle",
      " dimensions: id\tname\titem_count",
      "0003445078\t人口",
      " cat01\t男女\t3",
      " area\t地域\t12",
      "0003448233\t推計",
      " time\t時間軸\t1",
      "0003445080\t年齢"
    ])
  })

  it("types a nested table's header from its row's pair column, leaves out a size the row states, and fences text with line breaks outside tables", () => {
    const text = renderText("Q", {
      queries: [
        { title: "by year", sql: "SELECT 1", columns: [{ name: "y", type: "INTEGER" }, { name: "n", type: "BIGINT" }], rows: [{ y: 2020, n: 3 }, { y: 2021, n: null }], row_count: 2 },
        { title: "custom", sql: "SELECT\n2", columns: [{ name: "v", type: "DOUBLE" }, { name: "w", type: "DOUBLE" }], rows: [{ v: 1.5, w: null }], row_count: 1 },
        { title: "none", sql: "SELECT 3", columns: [{ name: "k", type: "VARCHAR" }, { name: "v", type: "DOUBLE" }], rows: [], row_count: 0 }
      ],
      content: "a,b\n1,2\n"
    })
    expect(text.split("\n")).toEqual([
      "Q",
      "queries (3): title\tsql\trow_count",
      // Under each query its rows, headed by their typed columns (row_count says how many).
      "by year\tSELECT 1\t2",
      " y:INTEGER\tn:BIGINT",
      " 2020\t3",
      " 2021\t",
      "custom\tSELECT 2\t1",
      // A query's column null in every row is still one of its columns.
      " v:DOUBLE\tw:DOUBLE",
      " 1.5\t",
      "none\tSELECT 3\t0",
      // No rows, but their columns and types all the same.
      " k:VARCHAR\tv:DOUBLE",
      "content:",
      "```",
      "a,b",
      "1,2",
      "```"
    ])
  })

  it("keeps the type of a query's column every row shares", () => {
    const names = ["a", "b", "c", "d", "e", "f", "g"]
    const rows = [1, 2, 3].map((n) => Object.fromEntries(names.map((name) => [name, name === "g" ? n : name])))
    const text = renderText("W", { queries: [{ title: "wide", columns: names.map((name) => ({ name, type: name === "g" ? "BIGINT" : "VARCHAR" })), rows }] })
    expect(text.split("\n")).toEqual([
      "W", "queries (1): title", "wide",
      " rows (3):",
      " in every row: a:VARCHAR=a, b:VARCHAR=b, c:VARCHAR=c, d:VARCHAR=d, e:VARCHAR=e, f:VARCHAR=f",
      " g:BIGINT", " 1", " 2", " 3"
    ])
  })

  it("says the size of a nested table its row does not state, and when one is empty", () => {
    const text = renderText("N", { queries: [{ title: "a", rows: [{ a: 1, b: 2, c: 3 }] }, { title: "b", rows: [] }] })
    expect(text.split("\n")).toEqual(["N", "queries (2): title", "a", " rows (1): a\tb\tc", " 1\t2\t3", "b", " rows: none"])
  })

  it("leaves out the lines of the fields the summary states, each only when the summary holds its value", () => {
    const queries = ["a", "b", "c"].map((title) => ({ title, sql: `SELECT '${title}'`, columns: [{ name: "n", type: "BIGINT" }], rows: [{ n: 1 }], row_count: 1, truncated: false }))
    const said = ["engine", "database", "table_name", "execution_ms", "data_scanned_bytes"]
    const text = renderText("duckdb on estat_db.prices in 46 ms.", {
      engine: "duckdb", table_name: "prices", database: "estat_db", queries, data_scanned_bytes: 4, execution_ms: 46
    }, said)
    expect(text.split("\n")).toEqual([
      "duckdb on estat_db.prices in 46 ms.",
      // 4 is not a word of the summary ("46" is another number): its line stays.
      "data_scanned_bytes: 4",
      "queries (3):",
      // What every query shares, once, when the rows carry tables of their own.
      "in every row: row_count=1, truncated=false",
      "title\tsql",
      "a\tSELECT 'a'", " n:BIGINT", " 1",
      "b\tSELECT 'b'", " n:BIGINT", " 1",
      "c\tSELECT 'c'", " n:BIGINT", " 1"
    ])
  })
})
