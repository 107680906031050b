import { describe, expect, it } from "@effect/vitest"
import type { TableInfo, TableMeta } from "../../src/domain/estat.js"
import { rankTables, termsOf } from "../../src/domain/ranking.js"

const table = (id: string, overrides: Partial<TableInfo> = {}): TableInfo => ({
  statsDataId: id, title: "", statisticsName: "", statName: "", statCode: "00200521", govOrg: "総務省", govOrgCode: "00200",
  cycle: "年次", surveyDate: "2020", openDate: "2022-01-01", updatedDate: "2022-01-01", smallArea: false, collectArea: "全国",
  mainCategory: "人口・世帯", mainCategoryCode: "02", subCategory: "人口", subCategoryCode: "01", totalRecords: 100,
  tabulationCategory: "", tableName: "", description: "", ...overrides
})
const now = new Date("2026-11-25T00:00:00Z")

describe("ranking", () => {
  it("takes the positive terms of a query, without operators and NOT-terms", () => {
    expect(termsOf("東京 AND 人口 NOT 推計 ＧＤＰ")).toEqual(["東京", "人口", "gdp"])
  })

  it("ranks a title match above a category-only match", () => {
    const ranked = rankTables({ query: "人口", method: "basic", now, tables: [table("1", { title: "事業所数" }), table("2", { title: "男女別人口" })] })
    expect(ranked.map((r) => r.table.statsDataId)).toEqual(["2", "1"])
    expect(ranked[0]!.rank).toBe(1)
    expect(ranked[0]!.matched).toEqual(["人口"])
  })

  it("prefers the fresher of two equal matches and keeps e-Stat's order on ties", () => {
    const old = table("old", { title: "人口", updatedDate: "2012-01-01", openDate: "2012-01-01" })
    const fresh = table("fresh", { title: "人口", updatedDate: "2026-01-01" })
    expect(rankTables({ query: "人口", method: "basic", now, tables: [old, fresh] }).map((r) => r.table.statsDataId)).toEqual(["fresh", "old"])
    const a = table("a", { title: "人口" })
    const b = table("b", { title: "人口" })
    expect(rankTables({ query: "人口", method: "basic", now, tables: [a, b] }).map((r) => r.table.statsDataId)).toEqual(["a", "b"])
  })

  it("enhanced promotes a table whose dimension labels match", () => {
    const plain = table("plain", { title: "人口等基本集計" })
    const bySex = table("bysex", { title: "人口等基本集計" })
    const meta: TableMeta = { table: bySex, dimensions: [{ id: "cat01", name: "男女", description: null, items: [{ code: "1", name: "女", level: "1", unit: null, parentCode: null }] }] }
    const basic = rankTables({ query: "人口 男女", method: "basic", now, tables: [plain, bySex] })
    expect(basic.map((r) => r.table.statsDataId)).toEqual(["plain", "bysex"])
    const enhanced = rankTables({ query: "人口 男女", method: "enhanced", now, tables: [plain, bySex], metas: new Map([["bysex", meta]]) })
    expect(enhanced.map((r) => r.table.statsDataId)).toEqual(["bysex", "plain"])
  })

  it("keeps scores within [0, 1] with 3 decimals", () => {
    const ranked = rankTables({ query: "人口", method: "basic", now, tables: [table("1", { title: "人口", statisticsName: "人口", tableName: "人口", mainCategory: "人口" }), table("2", { updatedDate: "", openDate: "", totalRecords: null })] })
    for (const r of ranked) {
      expect(r.score).toBeGreaterThanOrEqual(0)
      expect(r.score).toBeLessThanOrEqual(1)
      expect(Math.round(r.score * 1000) / 1000).toBe(r.score)
    }
  })
})
