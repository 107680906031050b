import { describe, expect, it } from "@effect/vitest"
import { suggestKeywords } from "../../src/domain/keywords.js"

const suggested = (query: string) => suggestKeywords(query).map((s) => `${s.term}→${s.suggested}`)

describe("keyword suggestions a model can use", () => {
  it("drops a suggestion whose official term the query already uses", () => {
    expect(suggested("北海道の収入")).toEqual(["収入→所得"])
    expect(suggested("北海道の収入と所得")).toEqual([])
    expect(suggested("収入 所得 年収")).toEqual(["年収→年間収入"])
    expect(suggested("ＧＤＰ 国内総生産")).toEqual([])
  })
})
