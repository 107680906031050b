import type { FakeCell, FakeDimension } from "./model.js"

/**
 * getStatsData narrowing (ESTAT-API.md §5): `cd<Axis>` (comma list, ≤ 100 codes),
 * `cd<Axis>From`/`To` (code range), `lv<Axis>` (`X`, `X-X`, `-X`, `X-`), all ANDed.
 */
export type Narrowing =
  | { readonly _tag: "ok"; readonly keep: (cell: FakeCell) => boolean; readonly echo: Record<string, string>; readonly all: boolean }
  | { readonly _tag: "error"; readonly status: number; readonly param: string }

const axisName = (id: string) => id.charAt(0).toUpperCase() + id.slice(1) // cat01 → Cat01
const tagName = (id: string) => id.toUpperCase()

const levelTest = (spec: string): ((level: number) => boolean) | undefined => {
  const m = /^(\d*)(-?)(\d*)$/.exec(spec)
  if (m === null || (m[1] === "" && m[3] === "")) return undefined
  const [, lo, dash, hi] = m
  if (dash === "") return (l) => l === Number(lo)
  return (l) => (lo === "" || l >= Number(lo)) && (hi === "" || l <= Number(hi))
}

export const narrowing = (params: URLSearchParams, dimensions: ReadonlyArray<FakeDimension>): Narrowing => {
  const tests: Array<(cell: FakeCell) => boolean> = []
  const echo: Record<string, string> = {}
  for (const dim of dimensions) {
    const axis = axisName(dim.id)
    const codes = params.get(`cd${axis}`)
    if (codes !== null) {
      const list = codes.split(",").map((c) => c.trim()).filter((c) => c !== "")
      if (list.length > 100) return { _tag: "error", status: 105, param: `cd${axis}` }
      const set = new Set(list)
      tests.push((cell) => set.has(cell.dims[dim.id] ?? ""))
      echo[`CODE_${tagName(dim.id)}_SELECT`] = codes
    }
    const from = params.get(`cd${axis}From`)
    const to = params.get(`cd${axis}To`)
    if (from !== null) {
      tests.push((cell) => (cell.dims[dim.id] ?? "") >= from)
      echo[`CODE_${tagName(dim.id)}_FROM`] = from
    }
    if (to !== null) {
      tests.push((cell) => (cell.dims[dim.id] ?? "") <= to)
      echo[`CODE_${tagName(dim.id)}_TO`] = to
    }
    const lv = params.get(`lv${axis}`)
    if (lv !== null) {
      const test = levelTest(lv)
      if (test === undefined) return { _tag: "error", status: 102, param: `lv${axis}` }
      const levels = new Map(dim.classes.map((c) => [c.code, Number(c.level ?? "1")]))
      tests.push((cell) => test(levels.get(cell.dims[dim.id] ?? "") ?? -1))
      echo[`LEVEL_${tagName(dim.id)}_COND`] = lv
    }
  }
  return { _tag: "ok", keep: (cell) => tests.every((t) => t(cell)), echo, all: tests.length === 0 }
}
