import { describe, expect, it } from "@effect/vitest"
import { applyKeywordSuggestions, keywordDictionary, suggestKeywords } from "../../src/domain/keywords.js"
import { normalizeText, splitTerms } from "../../src/domain/text.js"

const suggested = (query: string) => suggestKeywords(query).map((s) => `${s.term}→${s.suggested}`)

describe("keyword dictionary", () => {
  it("has at least 100 mappings over the required categories, no duplicate terms, no identity rows", () => {
    expect(keywordDictionary.length).toBeGreaterThanOrEqual(100)
    const categories = new Set(keywordDictionary.map((e) => e.category))
    for (const c of ["income", "age", "population", "region", "labour", "household", "health", "education", "housing", "prices", "industry"]) {
      expect(categories.has(c as never), c).toBe(true)
      expect(keywordDictionary.filter((e) => e.category === c).length, c).toBeGreaterThanOrEqual(5)
    }
    expect(new Set(keywordDictionary.map((e) => e.term)).size).toBe(keywordDictionary.length)
    expect(keywordDictionary.every((e) => e.term !== e.suggested && e.reason.length > 0)).toBe(true)
  })
})

describe("suggestKeywords", () => {
  it("finds everyday words inside Japanese phrases", () => {
    expect(suggested("北海道の収入")).toEqual(["収入→所得"])
    expect(suggested("東京都の年収の推移")).toEqual(["年収→年間収入"]) // the longer 年収, not 収入
  })

  it("matches regardless of full/half width and English case", () => {
    expect(suggested("ＧＤＰ　成長")).toEqual(["gdp→国内総生産"])
    expect(suggested("Population of Tokyo")).toEqual(["population→人口"])
    expect(suggested("ﾊﾟｰﾄ 時給")).toEqual(["パート→パートタイム労働者", "時給→1時間当たり所定内給与額"])
  })

  it("stays quiet on official terms and on one-character words inside phrases", () => {
    expect(suggested("所得")).toEqual([])
    expect(suggested("消費者物価指数")).toEqual([]) // contains 物価, already official
    expect(suggested("年間収入 都道府県")).toEqual([])
    expect(suggested("札幌市の人口")).toEqual([]) // 市 only as a whole term
    expect(suggested("市 人口")).toEqual(["市→市区町村"])
  })

  it("lists suggestions in query order, each once, with reason and alternatives", () => {
    const out = suggestKeywords("高齢者 一人暮らし 高齢者")
    expect(out.map((s) => s.term)).toEqual(["高齢者", "一人暮らし"])
    expect(out[1]).toEqual({ term: "一人暮らし", suggested: "単独世帯", reason: "e-Stat の統計表では『単独世帯』という用語が使われます", alternatives: ["単身世帯"] })
  })
})

describe("applyKeywordSuggestions", () => {
  it("replaces inside phrases and whole terms separated by either width of space", () => {
    expect(applyKeywordSuggestions("北海道の収入", { 収入: "所得" }).transformed_query).toBe("北海道の所得")
    expect(applyKeywordSuggestions("東京　年収 推移", { 年収: "年間収入", 推移: "時系列" })).toEqual({
      original_query: "東京　年収 推移",
      transformed_query: "東京　年間収入 時系列",
      applied: [{ term: "年収", replacement: "年間収入", occurrences: 1 }, { term: "推移", replacement: "時系列", occurrences: 1 }],
      unmatched: []
    })
  })

  it("keeps ASCII word boundaries and reports unmatched terms", () => {
    const out = applyKeywordSuggestions("population pop", { pop: "人口", salary: "賃金" })
    expect(out.transformed_query).toBe("population 人口")
    expect(out.unmatched).toEqual(["salary"])
  })

  it("applies longer keys first, never re-scans replacements, matches full-width input", () => {
    const out = applyKeywordSuggestions("ＧＤＰと年収と収入", { 収入: "所得", 年収: "年間収入", gdp: "国内総生産", 所得: "X" })
    expect(out.transformed_query).toBe("国内総生産と年間収入と所得")
    expect(out.applied.find((a) => a.term === "収入")?.occurrences).toBe(1)
    expect(out.unmatched).toEqual(["所得"])
  })

  it("leaves the query unchanged with nothing accepted", () => {
    expect(applyKeywordSuggestions("人口 東京", {})).toEqual({ original_query: "人口 東京", transformed_query: "人口 東京", applied: [], unmatched: [] })
  })
})

describe("text normalisation", () => {
  it("folds widths and spaces", () => {
    expect(normalizeText("ＧＤＰ　２０２０  ｼﾞﾝｺｳ")).toBe("GDP 2020 ジンコウ")
    expect(splitTerms("東京　AND 人口")).toEqual(["東京", "AND", "人口"])
  })
})
