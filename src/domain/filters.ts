import { Either, Schema } from "effect"
import type { ClassItem, Dimension } from "./estat.js"
import { foldText } from "./text.js"
import { periodOf, rangeOf, spanOf } from "./timePeriods.js"

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
  /** How a value that is no code or label was read (a year or month of a time dimension), or null. */
  readonly note: string | null
}

export interface ResolvedFilters {
  readonly narrowing: Readonly<Record<string, string>>
  readonly applied: ReadonlyArray<AppliedFilter>
}

/** Every filter that cannot be used, reported together so one correction fixes them all. */
export class InvalidFilters extends Schema.TaggedError<InvalidFilters>()("InvalidFilters", {
  problems: Schema.Array(InvalidFilter)
}) {
  override get message() {
    return this.problems.length === 1
      ? this.problems[0]!.message
      : `${this.problems.length} filters cannot be used: ${this.problems.map((p) => p.message).join(" ")}`
  }
}

export const MAX_CODES = 100

const axisOf = (id: string) => id.charAt(0).toUpperCase() + id.slice(1) // cat01 → Cat01

type Resolved = { readonly narrowing: Readonly<Record<string, string>>; readonly applied: AppliedFilter }

export const resolveFilters = (
  dimensions: ReadonlyArray<Dimension>,
  filters: Readonly<Record<string, FilterValue>>
): Either.Either<ResolvedFilters, InvalidFilters> => {
  const problems: Array<InvalidFilter> = []
  const resolved: Array<Resolved> = []
  const seen = new Set<string>()
  for (const [key, value] of Object.entries(filters)) {
    const dimension = dimensions.find((d) => d.id === key) ?? dimensions.find((d) => foldText(d.name) === foldText(key))
    if (dimension === undefined) {
      problems.push(new InvalidFilter({
        dimension: key,
        value: describe(value),
        reason: `the table has no dimension "${key}"; its dimensions are ${dimensions.map((d) => `${d.id} (${d.name})`).join(", ")}`,
        closeMatches: closeMatches(key, dimensions.flatMap((d) => [d.id, d.name]))
      }))
      continue
    }
    if (seen.has(dimension.id)) {
      problems.push(new InvalidFilter({
        dimension: key,
        value: describe(value),
        reason: `${dimension.id} (${dimension.name}) is already filtered; give each dimension once (a list takes several values)`,
        closeMatches: []
      }))
      continue
    }
    seen.add(dimension.id)
    const one = resolveOne(dimension, value)
    if (Either.isLeft(one)) problems.push(...one.left)
    else resolved.push(one.right)
  }
  return problems.length > 0
    ? Either.left(new InvalidFilters({ problems }))
    : Either.right({ narrowing: Object.assign({}, ...resolved.map((r) => r.narrowing)), applied: resolved.map((r) => r.applied) })
}

/** Every problem of one filter's values at once (two unknown labels in a list are two problems). */
const collect = <A>(results: ReadonlyArray<Either.Either<A, InvalidFilter>>): Either.Either<ReadonlyArray<A>, ReadonlyArray<InvalidFilter>> => {
  const lefts = results.filter(Either.isLeft).map((r) => r.left)
  return lefts.length > 0 ? Either.left(lefts) : Either.right(results.filter(Either.isRight).map((r) => r.right))
}

const resolveOne = (dimension: Dimension, value: FilterValue): Either.Either<Resolved, ReadonlyArray<InvalidFilter>> => {
  const axis = axisOf(dimension.id)
  const base = { dimension: dimension.id, name: dimension.name, codes: [], from: null, to: null, level: null, note: null }
  if (typeof value === "string" || isList(value)) {
    const wanted: ReadonlyArray<string> = typeof value === "string" ? [value] : value
    return Either.flatMap(collect(wanted.map((text) => resolveItems(dimension, text))), (found) => {
      const items = found.flatMap((f) => f.items).filter((item, i, all) => all.findIndex((x) => x.code === item.code) === i)
      if (items.length > MAX_CODES) {
        return Either.left([new InvalidFilter({
          dimension: dimension.id,
          value: `${items.length} codes`,
          reason: `e-Stat accepts at most ${MAX_CODES} codes per dimension; use {from, to} or {level}, or split the request`,
          closeMatches: []
        })])
      }
      const notes = found.map((f) => f.note).filter((n): n is string => n !== null)
      return Either.right({
        narrowing: { [`cd${axis}`]: items.map((i) => i.code).join(",") },
        applied: { ...base, codes: items.map((i) => ({ code: i.code, label: i.name })), note: notes.length > 0 ? notes.join(" ") : null }
      })
    })
  }
  if ("level" in value) {
    const level = String(value.level)
    const levels = new Set(dimension.items.map((i) => i.level).filter((l) => l !== ""))
    const [lo, hi] = level.includes("-") ? level.split("-") : [level, level]
    const matches = [...levels].some((l) => (lo === "" || Number(l) >= Number(lo)) && (hi === "" || Number(l) <= Number(hi)))
    if (!matches) {
      return Either.left([new InvalidFilter({
        dimension: dimension.id,
        value: `{level: ${level}}`,
        reason: `no item of ${dimension.id} (${dimension.name}) has that level; its levels are ${[...levels].sort().join(", ") || "none"}`,
        closeMatches: []
      })])
    }
    return Either.right({ narrowing: { [`lv${axis}`]: level }, applied: { ...base, level } })
  }
  if (value.from === undefined && value.to === undefined) {
    return Either.left([new InvalidFilter({ dimension: dimension.id, value: "{}", reason: "a range needs from, to or both", closeMatches: [] })])
  }
  const ends = collect([
    value.from === undefined ? Either.right(null) : resolveEnd(dimension, value.from, "from"),
    value.to === undefined ? Either.right(null) : resolveEnd(dimension, value.to, "to")
  ])
  return Either.map(ends, ([from, to]) => {
    const notes = [from?.note, to?.note].filter((n): n is string => n !== null && n !== undefined)
    return {
      narrowing: {
        ...(from == null ? {} : { [`cd${axis}From`]: from.item.code }),
        ...(to == null ? {} : { [`cd${axis}To`]: to.item.code })
      },
      applied: { ...base, from: from?.item.code ?? null, to: to?.item.code ?? null, note: notes.length > 0 ? notes.join(" ") : null }
    }
  })
}

/** A code, else an exact label, else (time only) a year or month: the items it names, and how a period was read. */
const resolveItems = (dimension: Dimension, text: string): Either.Either<{ readonly items: ReadonlyArray<ClassItem>; readonly note: string | null }, InvalidFilter> =>
  Either.orElse(Either.map(resolveItem(dimension, text), (item) => ({ items: [item], note: null })), (unknown) => {
    const period = dimension.id === "time" ? periodOf(text) : null
    if (period === null) return Either.left(unknown)
    const items = dimension.items.filter((item) => {
      const span = spanOf(item)
      return span !== null && span.start >= period.start && span.end <= period.end
    })
    if (items.length === 0) return Either.left(noItemIn(dimension, text))
    return Either.right({
      items,
      note: `${JSON.stringify(text)} read as the period ${period.label}: ${items.length === 1 ? items[0]!.code : `${items.length} codes ${items[0]!.code}…${items.at(-1)!.code}`}.`
    })
  })

/** A range end: a code or label, else (time only) the first item from a period's start or the last up to its end. */
const resolveEnd = (dimension: Dimension, text: string, end: "from" | "to"): Either.Either<{ readonly item: ClassItem; readonly note: string | null }, InvalidFilter> =>
  Either.orElse(Either.map(resolveItem(dimension, text), (item) => ({ item, note: null })), (unknown) => {
    const period = dimension.id === "time" ? periodOf(text) : null
    if (period === null) return Either.left(unknown)
    const spans = dimension.items.flatMap((item) => {
      const span = spanOf(item)
      return span === null ? [] : [{ item, span }]
    })
    const chosen = end === "from"
      ? spans.filter((s) => s.span.start >= period.start).sort((a, b) => a.span.start - b.span.start)[0]
      : spans.filter((s) => s.span.end <= period.end).sort((a, b) => b.span.end - a.span.end)[0]
    if (chosen === undefined) return Either.left(noItemIn(dimension, text))
    return Either.right({ item: chosen.item, note: `${end} ${JSON.stringify(text)} read as ${chosen.item.code} (${chosen.item.name}).` })
  })

const noItemIn = (dimension: Dimension, text: string) => {
  const range = rangeOf(dimension.items)
  return new InvalidFilter({
    dimension: dimension.id,
    value: text,
    reason: `no item of ${dimension.id} (${dimension.name}) falls in that period` + (range === null ? "" : `; it runs from ${range.first.name} to ${range.last.name}`),
    closeMatches: []
  })
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
    reason: `no item of ${dimension.id} (${dimension.name}) has this code or label` +
      (dimension.id === "time" ? " (a year such as 2022 or a month such as 2022-04 also works)" : ""),
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
