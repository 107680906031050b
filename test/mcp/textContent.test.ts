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
      "dims (2):",
      "id\tname\tlabels",
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

  it("types a nested table's header from its parent's pair column, and fences text with line breaks outside tables", () => {
    const text = renderText("Q", {
      queries: [
        { title: "by year", sql: "SELECT 1", columns: [{ name: "y", type: "INTEGER" }, { name: "n", type: "BIGINT" }], rows: [{ y: 2020, n: 3 }, { y: 2021, n: null }] },
        { title: "custom", sql: "SELECT\n2", columns: [{ name: "v", type: "DOUBLE" }], rows: [{ v: 1.5 }] },
        { title: "two columns", sql: "SELECT 3", columns: [{ name: "k", type: "VARCHAR" }, { name: "v", type: "DOUBLE" }], rows: [{ k: "a", v: 1 }] }
      ],
      content: "a,b\n1,2\n"
    })
    expect(text.split("\n")).toEqual([
      "Q",
      "queries (3):",
      "title\tsql",
      "by year\tSELECT 1",
      "custom\tSELECT 2",
      "two columns\tSELECT 3",
      "queries[by year].rows (2):",
      "y:INTEGER\tn:BIGINT",
      "2020\t3",
      "2021\t",
      "queries[custom].rows (1):",
      "v:DOUBLE",
      "1.5",
      "queries[two columns].rows (1):",
      "k:VARCHAR\tv:DOUBLE",
      "a\t1",
      "content:",
      "```",
      "a,b\n1,2",
      "```"
    ].join("\n").split("\n"))
  })

  it("names nested tables by row number when no text column tells the rows apart, and says when one is empty", () => {
    const text = renderText("N", { queries: [{ title: "same", rows: [{ a: 1, b: 2, c: 3 }] }, { title: "same", rows: [] }] })
    expect(text.split("\n")).toEqual(["N", "queries (2):", "title", "same", "same", "queries[#1].rows (1):", "a\tb\tc", "1\t2\t3", "queries[#2].rows: none"])
  })
})
