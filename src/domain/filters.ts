import { Either, Schema } from "effect"
import type { ClassItem, Dimension } from "./estat.js"
import { foldText } from "./text.js"

/**
 * Filters of `fetch_dataset_filtered`, checked against a table's metadata before the first data call
 * and translated to e-Stat's narrowing parameters (ESTAT-API.md §5): a code or exact label →
 * `cd<Axis>`, a list → `cd<Axis>` (≤ 100), `{from, to}` → `cd<Axis>From/To`, `{level}` → `lv<Axis>`.
 * Labels match exactly (after full-/half-width folding); nothing is ever picked by similarity.
 */

export const FilterValue = Schema.Union(
  Schema.String.pipe(Schema.minLength(1)),
  Schema.Array(Schema.String.pipe(Schema.minLength(1))).pipe(Schema.minItems(1)),
  Schema.Struct({ from: Schema.optional(Schema.String), to: Schema.optional(Schema.String) }),
  Schema.Struct({ level: Schema.Union(Schema.Int, Schema.String.pipe(Schema.pattern(/^(\d+|\d+-\d*|-\d+)$/))) })
).annotations({
  description: "One code or exact label, a list of them, a range {\"from\", \"to\"} or a level {\"level\"}.",
  examples: ["東京都", ["13000", "27000"]]
})
export type FilterValue = typeof FilterValue.Type

export class InvalidFilter extends Schema.TaggedError<InvalidFilter>()("InvalidFilter", {
  dimension: Schema.String,
  value: Schema.String,
  reason: Schema.String,
  closeMatches: Schema.Array(Schema.String)
}) {
  override get message() {
    const close = this.closeMatches.length === 0 ? "" : ` Close matches: ${this.closeMatches.join(", ")}.`
    return `Invalid filter ${this.dimension}=${this.value}: ${this.reason}.${close}`
  }
}

export interface AppliedFilter {
  readonly dimension: string
  readonly name: string
  readonly codes: ReadonlyArray<{ readonly code: string; readonly label: string }>
  readonly from: string | null
  readonly to: string | null
  readonly level: string | null
}

export interface ResolvedFilters {
  readonly narrowing: Readonly<Record<string, string>>
  readonly applied: ReadonlyArray<AppliedFilter>
}

export const MAX_CODES = 100

const axisOf = (id: string) => id.charAt(0).toUpperCase() + id.slice(1) // cat01 → Cat01

export const resolveFilters = (
  dimensions: ReadonlyArray<Dimension>,
  filters: Readonly<Record<string, FilterValue>>
): Either.Either<ResolvedFilters, InvalidFilter> => {
  const narrowing: Record<string, string> = {}
  const applied: Array<AppliedFilter> = []
  for (const [key, value] of Object.entries(filters)) {
    const dimension = dimensions.find((d) => d.id === key) ?? dimensions.find((d) => foldText(d.name) === foldText(key))
    if (dimension === undefined) {
      return Either.left(new InvalidFilter({
        dimension: key,
        value: describe(value),
        reason: `the table has no dimension "${key}"; its dimensions are ${dimensions.map((d) => `${d.id} (${d.name})`).join(", ")}`,
        closeMatches: closeMatches(key, dimensions.flatMap((d) => [d.id, d.name]))
      }))
    }
    const twice = applied.find((a) => a.dimension === dimension.id)
    if (twice !== undefined) {
      return Either.left(new InvalidFilter({
        dimension: key,
        value: describe(value),
        reason: `${dimension.id} (${dimension.name}) is already filtered; give each dimension once (a list takes several values)`,
        closeMatches: []
      }))
    }
    const axis = axisOf(dimension.id)
    const base = { dimension: dimension.id, name: dimension.name, codes: [], from: null, to: null, level: null }
    if (typeof value === "string" || isList(value)) {
      const wanted: ReadonlyArray<string> = typeof value === "string" ? [value] : value
      const items: Array<ClassItem> = []
      for (const text of wanted) {
        const item = resolveItem(dimension, text)
        if (Either.isLeft(item)) return Either.left(item.left)
        if (!items.some((i) => i.code === item.right.code)) items.push(item.right)
      }
      if (items.length > MAX_CODES) {
        return Either.left(new InvalidFilter({
          dimension: dimension.id,
          value: `${items.length} codes`,
          reason: `e-Stat accepts at most ${MAX_CODES} codes per dimension; use {from, to} or {level}, or split the request`,
          closeMatches: []
        }))
      }
      narrowing[`cd${axis}`] = items.map((i) => i.code).join(",")
      applied.push({ ...base, codes: items.map((i) => ({ code: i.code, label: i.name })) })
    } else if ("level" in value) {
      const level = String(value.level)
      const levels = new Set(dimension.items.map((i) => i.level).filter((l) => l !== ""))
      const [lo, hi] = level.includes("-") ? level.split("-") : [level, level]
      const matches = [...levels].some((l) => (lo === "" || Number(l) >= Number(lo)) && (hi === "" || Number(l) <= Number(hi)))
      if (!matches) {
        return Either.left(new InvalidFilter({
          dimension: dimension.id,
          value: `{level: ${level}}`,
          reason: `no item of ${dimension.id} (${dimension.name}) has that level; its levels are ${[...levels].sort().join(", ") || "none"}`,
          closeMatches: []
        }))
      }
      narrowing[`lv${axis}`] = level
      applied.push({ ...base, level })
    } else {
      if (value.from === undefined && value.to === undefined) {
        return Either.left(new InvalidFilter({ dimension: dimension.id, value: "{}", reason: "a range needs from, to or both", closeMatches: [] }))
      }
      const from = value.from === undefined ? undefined : resolveItem(dimension, value.from)
      const to = value.to === undefined ? undefined : resolveItem(dimension, value.to)
      if (from !== undefined && Either.isLeft(from)) return Either.left(from.left)
      if (to !== undefined && Either.isLeft(to)) return Either.left(to.left)
      if (from !== undefined) narrowing[`cd${axis}From`] = from.right.code
      if (to !== undefined) narrowing[`cd${axis}To`] = to.right.code
      applied.push({ ...base, from: from?.right.code ?? null, to: to?.right.code ?? null })
    }
  }
  return Either.right({ narrowing, applied })
}

/** A code, else an exact label; an unknown or ambiguous one is an error with what would fit. */
const resolveItem = (dimension: Dimension, text: string): Either.Either<ClassItem, InvalidFilter> => {
  const byCode = dimension.items.find((i) => i.code === text.trim())
  if (byCode !== undefined) return Either.right(byCode)
  const byLabel = dimension.items.filter((i) => foldText(i.name) === foldText(text))
  if (byLabel.length === 1) return Either.right(byLabel[0]!)
  if (byLabel.length > 1) {
    return Either.left(new InvalidFilter({
      dimension: dimension.id,
      value: text,
      reason: `the label is used by ${byLabel.length} items; give one of their codes`,
      closeMatches: byLabel.map((i) => `${i.code} (${i.name})`)
    }))
  }
  const candidates = closeMatches(text, dimension.items.map((i) => `${i.code} (${i.name})`), (c) => c.slice(c.indexOf("(") + 1, -1))
  return Either.left(new InvalidFilter({
    dimension: dimension.id,
    value: text,
    reason: `no item of ${dimension.id} (${dimension.name}) has this code or label`,
    closeMatches: candidates
  }))
}

const isList = (value: FilterValue): value is ReadonlyArray<string> => Array.isArray(value)

const describe = (value: FilterValue) => (typeof value === "string" ? value : JSON.stringify(value))

/** Up to 5 candidates whose text contains the query, is contained in it, or is a few edits away. */
export const closeMatches = (query: string, candidates: ReadonlyArray<string>, textOf: (c: string) => string = (c) => c) => {
  const q = foldText(query)
  return candidates
    .map((candidate) => {
      const text = foldText(textOf(candidate))
      const distance = text.includes(q) || q.includes(text) ? 0 : editDistance(q, text)
      return { candidate, distance }
    })
    .filter(({ distance }) => distance <= Math.max(1, Math.floor(q.length / 3)))
    .sort((a, b) => a.distance - b.distance)
    .slice(0, 5)
    .map(({ candidate }) => candidate)
}

const editDistance = (a: string, b: string) => {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    previous = current
  }
  return previous[b.length]!
}
