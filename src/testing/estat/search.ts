import type { FakeTable } from "./model.js"

const haystack = (table: FakeTable) => {
  const i = table.info
  const title = typeof i.title === "string" ? i.title : i.title.text
  return [title, i.statisticsName, i.statName[1], i.tableName, i.tabulationCategory, i.mainCategory[1], i.subCategory[1]].join(" ")
}

/** searchWord with e-Stat's operators: terms separated by spaces (AND), `AND`, `OR`, `NOT`, left to right. */
export const matchesSearchWord = (table: FakeTable, searchWord: string): boolean => {
  const text = haystack(table)
  const tokens = searchWord.replace(/\u3000/g, " ").split(" ").filter((t) => t !== "")
  let result: boolean | undefined
  let op = "AND"
  for (const token of tokens) {
    if (token === "AND" || token === "OR" || token === "NOT") {
      op = token
      continue
    }
    const hit = text.includes(token)
    result = result === undefined ? (op === "NOT" ? !hit : hit) : op === "OR" ? result || hit : op === "NOT" ? result && !hit : result && hit
    op = "AND"
  }
  return result ?? true
}

export const matchesFilters = (table: FakeTable, params: URLSearchParams): boolean => {
  const i = table.info
  const field = params.get("statsField")
  if (field !== null && !(field.length === 2 ? i.mainCategory[0] === field : `${i.mainCategory[0]}${i.subCategory[0]}` === field)) return false
  const code = params.get("statsCode")
  if (code !== null && !(code.length === 5 ? i.govOrg[0] === code : i.statName[0] === code)) return false
  const survey = params.get("surveyYears")
  if (survey !== null && !i.surveyDate.startsWith(survey.slice(0, 4))) return false
  const updated = params.get("updatedDate")
  if (updated !== null) {
    const [from = "", to = ""] = updated.split("-")
    const date = i.updatedDate.replaceAll("-", "")
    if (from !== "" && date < from.padEnd(8, "0")) return false
    if (to !== "" && date > to.padEnd(8, "9")) return false
  }
  const word = params.get("searchWord")
  return word === null || matchesSearchWord(table, word)
}
