/** e-Stat's JSON conversion rules (ESTAT-API.md §6), reproduced. */
import type { FakeTableInfo } from "./model.js"

/** A repeated element that occurs once becomes an object. */
export const one = <A>(items: ReadonlyArray<A>): A | ReadonlyArray<A> => (items.length === 1 ? items[0]! : items)

/** Element text that looks like an integer without leading zeros is emitted as a number. */
export const scalar = (text: string): string | number => (/^(0|[1-9]\d{0,14})$/.test(text) ? Number(text) : text)

/** Compact JSON with non-ASCII and < > & = ' escaped as \u and four upper-case hex digits, as e-Stat sends it. */
export const encodeJson = (value: unknown): string =>
  JSON.stringify(value).replace(/[\u0080-\uffff<>&=']/g, (c) => `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}`)

/** `nowMs` (epoch ms) in Japan time, as e-Stat writes RESULT.DATE. */
const jst = (nowMs: number) => new Date(nowMs + 9 * 3600_000).toISOString().replace("Z", "+09:00")

export const result = (status: number, message: string, nowMs: number) => ({ STATUS: status, ERROR_MSG: message, DATE: jst(nowMs) })

export const messages = {
  ok: "正常に終了しました。",
  noData: "正常に終了しましたが、該当データはありませんでした。",
  auth: "認証に失敗しました。アプリケーションIDを確認して下さい。",
  notFound: (id: string) => `統計表ID（statsDataId）=[${id}]のデータは存在しません。`,
  invalid: (name: string) => `${name}の値が正しくありません。`,
  required: (name: string) => `${name}を指定して下さい。`,
  tooManyCodes: (name: string) => `${name}に指定されたコードの数が上限(100件)を超えています。`,
  internal: "予期しないエラーが発生しました。"
} as const

/** PARAMETER: the received parameters (minus appId) under e-Stat's tag names. */
export const parameterEcho = (params: URLSearchParams, tags: Readonly<Record<string, string>>) => {
  const echo: Record<string, unknown> = { LANG: params.get("lang") ?? "J" }
  for (const [name, tag] of Object.entries(tags)) {
    const value = params.get(name)
    if (value !== null) echo[tag] = scalar(value)
  }
  echo["DATA_FORMAT"] = "J"
  return echo
}

export const tableInf = (info: FakeTableInfo, overallTotal: number) => ({
  "@id": info.id,
  STAT_NAME: { "@code": info.statName[0], "$": info.statName[1] },
  GOV_ORG: { "@code": info.govOrg[0], "$": info.govOrg[1] },
  STATISTICS_NAME: info.statisticsName,
  TITLE: typeof info.title === "string" ? info.title : { "@no": info.title.no, "$": info.title.text },
  CYCLE: info.cycle,
  SURVEY_DATE: scalar(info.surveyDate),
  OPEN_DATE: info.openDate,
  SMALL_AREA: info.smallArea,
  COLLECT_AREA: info.collectArea,
  MAIN_CATEGORY: { "@code": info.mainCategory[0], "$": info.mainCategory[1] },
  SUB_CATEGORY: { "@code": info.subCategory[0], "$": info.subCategory[1] },
  OVERALL_TOTAL_NUMBER: overallTotal,
  UPDATED_DATE: info.updatedDate,
  STATISTICS_NAME_SPEC: { TABULATION_CATEGORY: info.tabulationCategory },
  TITLE_SPEC: { TABLE_NAME: info.tableName }
})
