import type { FakeCell, FakeDimension, FakeTable } from "./model.js"
import { specialValues } from "./model.js"

/**
 * A generated table of any size for paging tests and benchmarks: a dense cube of
 * `tab × cat01 × area × time` (months, newest first), deterministic values, a special
 * character every `specialEvery` cells and an annotation every `annotationEvery` cells.
 * Cells are computed from their position, so a page of a 13-million-row table costs only its own rows.
 */
export interface GeneratedTableOptions {
  readonly id: string
  readonly categories: number
  readonly areas: number
  readonly months: number
  readonly specialEvery?: number
  readonly annotationEvery?: number
}

const pad = (n: number, width: number) => String(n).padStart(width, "0")

const generatedDimensions = (options: GeneratedTableOptions): ReadonlyArray<FakeDimension> => {
  const lastYear = 2026
  return [
    { id: "tab", name: "表章項目", classes: [{ code: "01", name: "指数", level: "" }] },
    {
      id: "cat01",
      name: "品目",
      classes: Array.from({ length: options.categories }, (_, i) =>
        i === 0 ? { code: "0001", name: "総合", level: "1" } : { code: pad(i + 1, 4), name: `品目${i + 1}`, level: "2", parentCode: "0001" })
    },
    {
      id: "area",
      name: "地域",
      classes: Array.from({ length: options.areas }, (_, i) =>
        i === 0 ? { code: "00000", name: "全国", level: "1" } : { code: `${pad(i, 2)}000`, name: `地域${i}`, level: "2", parentCode: "00000" })
    },
    {
      id: "time",
      name: "時間軸（月次）",
      classes: Array.from({ length: options.months }, (_, i) => {
        const year = lastYear - Math.floor(i / 12)
        const month = 12 - (i % 12)
        return { code: `${year}00${pad(month, 2)}${pad(month, 2)}`, name: `${year}年${month}月`, level: "4" }
      })
    }
  ]
}

/** The value text of cell `index`: a number with one decimal, or a special character. */
const generatedValue = (options: GeneratedTableOptions, index: number) => {
  const every = options.specialEvery ?? 997
  if (index % every === every - 1) return specialValues[Math.floor(index / every) % specialValues.length]!
  return (((index * 7919) % 100_000) / 10).toFixed(1)
}

export const generatedTable = (options: GeneratedTableOptions): FakeTable => {
  const dimensions = generatedDimensions(options)
  const counts = dimensions.map((d) => d.classes.length)
  const cellCount = counts.reduce((a, b) => a * b, 1)
  const annotationEvery = options.annotationEvery ?? 1009
  const cellAt = (index: number): FakeCell => {
    const dims: Record<string, string> = {}
    let rest = index
    for (let d = dimensions.length - 1; d >= 0; d--) {
      dims[dimensions[d]!.id] = dimensions[d]!.classes[rest % counts[d]!]!.code
      rest = Math.floor(rest / counts[d]!)
    }
    return {
      dims,
      value: generatedValue(options, index),
      ...(index % annotationEvery === annotationEvery - 1 ? { annotation: "A1" } : {})
    }
  }
  return {
    info: {
      id: options.id, statName: ["00200573", "消費者物価指数"], govOrg: ["00200", "総務省"],
      statisticsName: "消費者物価指数（生成）", title: `生成された大きな表（${cellCount}セル）`,
      cycle: "月次", surveyDate: "202601-202612", openDate: "2026-11-01", smallArea: 0, collectArea: "全国",
      mainCategory: ["14", "物価"], subCategory: ["01", "物価"], updatedDate: "2026-11-01",
      tabulationCategory: "生成", tableName: "生成された大きな表"
    },
    dimensions,
    notes: [{ char: "***", text: "該当データがない場合を示す。" }, { char: "-", text: "数字が得られないもの" }],
    annotations: [{ code: "A1", text: "速報値" }],
    cells: function* () {
      for (let i = 0; i < cellCount; i++) yield cellAt(i)
    },
    cellAt,
    cellCount
  }
}

/** The fake's own sum of the numeric values (what a complete, correct fetch must add up to). */
export const generatedSum = (options: GeneratedTableOptions, cells: number) => {
  let sum = 0
  for (let i = 0; i < cells; i++) {
    const value = Number(generatedValue(options, i))
    if (!Number.isNaN(value)) sum += value
  }
  return sum
}
