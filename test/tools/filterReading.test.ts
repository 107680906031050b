import { Either } from "effect"
import { describe, expect, it } from "@effect/vitest"
import type { ClassItem, Dimension } from "../../src/domain/estat.js"
import { resolveFilters } from "../../src/domain/filters.js"

const item = (code: string, name: string): ClassItem => ({ code, name, level: "1", unit: null, parentCode: null })
const dimension = (id: string, name: string, items: ReadonlyArray<ClassItem>): Dimension => ({ id, name, description: null, items })

/** Months of 2025 and 2026 up to September, newest first as e-Stat lists them. */
const months = Array.from({ length: 21 }, (_, i) => {
  const index = 2026 * 12 + 8 - i
  const year = Math.floor(index / 12)
  const month = (index % 12) + 1
  const mm = String(month).padStart(2, "0")
  return item(`${year}00${mm}${mm}`, `${year}年${month}月`)
})
const monthly = [
  dimension("cat01", "品目", [item("0001", "総合"), item("0002", "食料")]),
  dimension("area", "地域", [item("00000", "全国"), item("13100", "東京都区部")]),
  dimension("time", "時間軸（月次）", months)
]
const yearly = [dimension("time", "時間軸（年次）", [2019, 2020, 2021, 2022, 2023].map((y) => item(`${y}000000`, `${y}年`)))]

const resolved = (dimensions: ReadonlyArray<Dimension>, filters: Parameters<typeof resolveFilters>[1]) => {
  const result = resolveFilters(dimensions, filters)
  if (Either.isLeft(result)) throw new Error(result.left.message)
  return result.right
}

describe("filters a model writes", () => {
  it("a year or a month of a time dimension names its items, and says which codes it chose", () => {
    const year = resolved(monthly, { time: "2025" })
    expect(year.narrowing).toEqual({ cdTime: months.filter((m) => m.code.startsWith("2025")).map((m) => m.code).join(",") })
    expect(year.applied[0]!.codes).toHaveLength(12)
    expect(year.applied[0]!.note).toBe("\"2025\" read as the period 2025: 12 codes 2025001212…2025000101.")

    const range = resolved(monthly, { time: { from: "2026-03", to: "2026年6月" } })
    expect(range.narrowing).toEqual({ cdTimeFrom: "2026000303", cdTimeTo: "2026000606" })
    expect(range.applied[0]).toMatchObject({ from: "2026000303", to: "2026000606", note: "from \"2026-03\" read as 2026000303 (2026年3月)." })

    const fromYear = resolved(monthly, { time: { from: "2026" } })
    expect(fromYear.narrowing).toEqual({ cdTimeFrom: "2026000101" })
    const toYear = resolved(monthly, { time: { to: "2025" } })
    expect(toYear.narrowing).toEqual({ cdTimeTo: "2025001212" })

    expect(resolved(yearly, { time: { from: "2022" } }).narrowing).toEqual({ cdTimeFrom: "2022000000" })
    expect(resolved(yearly, { time: ["2020", "2021年"] }).narrowing).toEqual({ cdTime: "2020000000,2021000000" })
    // A year is no code or label of other dimensions.
    expect(Either.isLeft(resolveFilters(monthly, { cat01: "2025" }))).toBe(true)
  })

  it("a period the table does not cover says what it covers", () => {
    const result = resolveFilters(yearly, { time: { from: "2030" } })
    expect(Either.isLeft(result) && result.left.message).toBe(
      "Invalid filter time=2030: no item of time (時間軸（年次）) falls in that period; it runs from 2019年 to 2023年."
    )
  })

  it("every bad filter is reported at once", () => {
    const result = resolveFilters(monthly, { areas: "東京都", cat01: ["食品", "総合", "飲料"], time: { from: "2030", to: "2026年13月" } })
    expect(Either.isLeft(result)).toBe(true)
    const message = Either.isLeft(result) ? result.left.message : ""
    expect(message.startsWith("5 filters cannot be used: Invalid filter areas=東京都: the table has no dimension \"areas\"")).toBe(true)
    for (const part of ["Invalid filter cat01=食品:", "Invalid filter cat01=飲料:", "Invalid filter time=2030: no item of time", "Invalid filter time=2026年13月: no item of time"]) {
      expect(message).toContain(part)
    }
  })
})
