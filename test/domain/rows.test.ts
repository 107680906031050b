import { describe, expect, it } from "@effect/vitest"
import type { Dimension } from "../../src/domain/estat.js"
import { parseValue, rowBuilder, sampleRows } from "../../src/domain/rows.js"
import { timeParts } from "../../src/domain/timeCode.js"

describe("timeParts", () => {
  it.each([
    ["2020000000", "2020年", { year: 2020, month: null, quarter: null }],
    ["2025100000", "2025年度", { year: 2025, month: null, quarter: null }],
    ["2025000909", "2025年9月", { year: 2025, month: 9, quarter: 3 }],
    ["2024001212", null, { year: 2024, month: 12, quarter: 4 }],
    ["1994000103", "1994年1～3月期", { year: 1994, month: null, quarter: 1 }],
    ["1994001012", null, { year: 1994, month: null, quarter: 4 }],
    ["2019q3", "2019年第3四半期", { year: 2019, month: null, quarter: 3 }],
    ["A2021", "2021年7月", { year: 2021, month: 7, quarter: 3 }],
    ["2021000307", "2021年（3月～7月）", { year: 2021, month: null, quarter: null }],
    ["xyz", "合計", { year: null, month: null, quarter: null }]
  ] as const)("%s (%s)", (code, label, expected) => {
    expect(timeParts(code, label)).toEqual(expected)
  })
})

describe("parseValue", () => {
  it.each([
    ["126146099", 126146099], ["102.5", 102.5], ["-0.3", -0.3], ["0.0", 0], ["-0.0", 0], ["-0", 0], [" -0,000 ", 0], ["12,345.6", 12345.6], ["1.2e3", 1200], [" 7 ", 7],
    ["0x1F", null], ["Infinity", null], ["-", null], ["***", null], ["…", null], ["...", null], ["X", null], ["Ｘ", null], ["χ", null], ["", null], ["NA", null]
  ] as const)("%s → %s", (raw, expected) => {
    expect(parseValue(raw)).toBe(expected)
  })
})

describe("rowBuilder", () => {
  const dimensions: ReadonlyArray<Dimension> = [
    { id: "tab", name: "表章項目", description: null, items: [{ code: "1", name: "指数", level: "", unit: null, parentCode: null }, { code: "3", name: "変化率", level: "", unit: "%", parentCode: null }] },
    { id: "area", name: "地域", description: null, items: [{ code: "00000", name: "全国", level: "1", unit: null, parentCode: null }] },
    { id: "time", name: "時間軸", description: null, items: [{ code: "2025000101", name: "2025年1月", level: "4", unit: null, parentCode: null }] }
  ]

  it("labels codes, derives time parts, falls back to the item's unit, keeps glyphs and annotation texts", () => {
    const builder = rowBuilder({ statsDataId: "0004052037", dimensions, withLabels: true })
    const batch = builder.build({
      count: 3,
      dims: { tab: ["1", "3", "3"], area: ["00000", "00000", "99999"], time: ["2025000101", "2025000101", "2025000101"] },
      unit: [null, null, "%"],
      annotation: [null, "A1", null],
      raw: ["101.2", "***", "0.5"]
    }, [{ code: "A1", text: "速報値" }])
    expect(sampleRows(batch, 5)).toEqual([
      { stats_data_id: "0004052037", tab_code: "1", tab_name: "指数", area_code: "00000", area_name: "全国", time_code: "2025000101", time_name: "2025年1月", time_year: 2025, time_month: 1, time_quarter: 1, unit: null, value: 101.2, value_raw: "101.2", annotation: null },
      { stats_data_id: "0004052037", tab_code: "3", tab_name: "変化率", area_code: "00000", area_name: "全国", time_code: "2025000101", time_name: "2025年1月", time_year: 2025, time_month: 1, time_quarter: 1, unit: "%", value: null, value_raw: "***", annotation: "速報値" },
      { stats_data_id: "0004052037", tab_code: "3", tab_name: "変化率", area_code: "99999", area_name: null, time_code: "2025000101", time_name: "2025年1月", time_year: 2025, time_month: 1, time_quarter: 1, unit: "%", value: 0.5, value_raw: "0.5", annotation: null }
    ])
  })

  it("without labels there are only code columns", () => {
    const builder = rowBuilder({ statsDataId: "x", dimensions, withLabels: false })
    expect(builder.columns.map((c) => c.name)).toEqual(["stats_data_id", "tab_code", "area_code", "time_code", "time_year", "time_month", "time_quarter", "unit", "value", "value_raw", "annotation"])
  })
})
