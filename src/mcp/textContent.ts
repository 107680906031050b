/**
 * The `text` content of a tool result: a summary line, then every fact of `structuredContent`
 * in a form a model reads well and pays few tokens for. Many clients give the model only this
 * text (Cursor, LangChain agents, every client of a revision before 2025-06-18), so nothing of
 * the structured output may be missing from it.
 *
 * Layout, derived from the value itself (no per-tool code):
 * - scalars as `key: value` lines (nested objects as `parent.key: value`); nulls and empty lists
 *   left out (an absent field is null or empty: the tool's outputSchema lists every field);
 * - lists of scalars on one line, or one `- item` line each when the items are sentences;
 * - lists of objects as a tab-separated table under one header row; inside a row, a list of
 *   two-field objects becomes `a:b` pairs (named in the header), and a longer list of objects
 *   becomes a table indented under its row (its header said once under the parent's when it is
 *   the same under every row, else under each row, typed when the row lists the fields' names
 *   and types; its size left out when a field of the row says it); cells stay on one line;
 * - columns null in every row left out; constant columns of wide tables once above them; a long value written twice named the second time;
 * - text with line breaks outside tables (file content) as a fenced block.
 */

type Json = null | boolean | number | string | ReadonlyArray<Json> | { readonly [key: string]: Json }
type JsonObject = { readonly [key: string]: Json }

const isObject = (value: Json | undefined): value is JsonObject => typeof value === "object" && value !== null && !Array.isArray(value)
const isObjectList = (value: Json | undefined): value is ReadonlyArray<JsonObject> & Json => Array.isArray(value) && value.length > 0 && value.every(isObject)
const isMultiline = (value: Json | undefined): value is string => typeof value === "string" && value.includes("\n")

const scalar = (value: Json): string =>
  value === null ? "" : typeof value === "string" ? value : typeof value === "object" ? JSON.stringify(value) : String(value)

/** A table cell: one line, no tabs. */
const cell = (value: Json | undefined): string => {
  if (value === undefined || value === null) return ""
  if (Array.isArray(value)) return isPairList(value) ? (value as ReadonlyArray<JsonObject>).map(pair).join(", ") : value.map(cell).join(", ")
  if (isObject(value)) return Object.entries(value).map(([k, v]) => `${k}=${cell(v)}`).join(" ")
  return scalar(value).replace(/[\t\r\n]+/g, " ")
}

/** Objects of exactly two scalar fields with the same names (name/type, code/label): written `a:b`. */
const isPairList = (value: ReadonlyArray<Json>): boolean => {
  if (!isObjectList(value)) return false
  const names = Object.keys(value[0]!).join(",")
  return value.every((o) => Object.keys(o).length === 2 && Object.keys(o).join(",") === names && Object.values(o).every((v) => !isObject(v) && !Array.isArray(v)))
}
const pair = (o: JsonObject) => Object.values(o).map(cell).join(":")
const pairsOf = (value: Json | undefined) => (value as ReadonlyArray<JsonObject>).map(pair)
const pairHeader = (key: string, list: ReadonlyArray<JsonObject>) => `${key}(${Object.keys(list[0]!).join(":")})`

/** A column holding lists of larger objects: those become tables of their own. */
const isNestedTable = (rows: ReadonlyArray<JsonObject>, key: string) =>
  rows.some((row) => isObjectList(row[key]) && !isPairList(row[key] as ReadonlyArray<Json>))

const columnsOf = (rows: ReadonlyArray<JsonObject>) => [...new Set(rows.flatMap((row) => Object.keys(row)))]

/**
 * Columns with one value in every row of a wide table (sample rows: the dataset id, the one
 * year, …) or of one whose rows carry tables (every query not truncated): said once above it,
 * not in each row. Narrow tables (query results) stay whole.
 */
const constantColumns = (rows: ReadonlyArray<JsonObject>, columns: ReadonlyArray<string>, carriesTables: boolean) =>
  rows.length < 3 || (columns.length <= 6 && !carriesTables) ? [] : columns.filter((c) => rows.every((row) => cell(row[c]) === cell(rows[0]![c])))

const firstValues = (value: Json | undefined) =>
  Array.isArray(value) && isPairList(value) ? (value as ReadonlyArray<JsonObject>).map((o) => cell(Object.values(o)[0])) : undefined

/**
 * A column of `a:b` pairs that, in every row, names the fields of a nested table in order (a
 * query's columns with their types beside its rows, which may be none): written as that table's header instead.
 */
const headerColumn = (rows: ReadonlyArray<JsonObject>, nested: ReadonlyArray<string>) => {
  for (const of of nested) {
    for (const described of columnsOf(rows)) {
      const fits = rows.every((row) => {
        const names = firstValues(row[described])
        const inner = row[of]
        return names !== undefined && Array.isArray(inner) &&
          (inner.length === 0 || (isObjectList(inner) && names.join("\t") === columnsOf(inner).join("\t")))
      })
      if (fits && rows.some((row) => isObjectList(row[of]))) return { described, of }
    }
  }
  return undefined
}

const isAbsent = (value: Json | undefined) => value === null || value === undefined || (Array.isArray(value) && value.length === 0)

/** How rows are written: the columns of each row's line and their header, what all share, the tables under each row. */
interface Layout {
  readonly flat: ReadonlyArray<string>
  /** How each column is named: in the header, and before its value when all rows share it. */
  readonly names: ReadonlyArray<string>
  readonly constant: ReadonlyArray<string>
  readonly constantNames: ReadonlyArray<string>
  readonly nested: ReadonlyArray<string>
  readonly typed: { readonly described: string; readonly of: string } | undefined
  /** Nested columns whose tables have the same fields under every row: their header is said once, under the parent's. */
  readonly shared: ReadonlyMap<string, Layout>
}

/** `header`: each column's name as written (`name:type` when the parent row typed it). */
const layoutOf = (rows: ReadonlyArray<JsonObject>, header?: ReadonlyArray<string>, sayConstants = true): Layout => {
  const all = columnsOf(rows)
  // A column null in every row says nothing, as a null scalar does — unless the parent typed it (a query's column).
  const columns = header === undefined ? all.filter((c) => !rows.every((row) => isAbsent(row[c]))) : all
  // A list its row types (a query's rows beside its columns) is a table of its own, even of two fields.
  const typed = headerColumn(rows, columns.filter((c) => rows.some((row) => isObjectList(row[c]))))
  const nested = columns.filter((c) => isNestedTable(rows, c) || c === typed?.of)
  const constant = sayConstants ? constantColumns(rows, columns.filter((c) => !nested.includes(c) && c !== typed?.described), nested.length > 0) : []
  const flat = columns.filter((c) => !nested.includes(c) && !constant.includes(c) && c !== typed?.described)
  const nameOf = (c: string) => {
    const sample = rows.map((row) => row[c]).find((v) => Array.isArray(v) && v.length > 0) as ReadonlyArray<Json> | undefined
    return sample !== undefined && isPairList(sample) ? pairHeader(c, sample as ReadonlyArray<JsonObject>) : header?.[all.indexOf(c)] ?? c
  }
  const shared = new Map<string, Layout>()
  for (const c of nested.filter((c) => c !== typed?.of)) {
    const lists = rows.map((row) => row[c]).filter(isObjectList)
    if (lists.length > 1 && new Set(lists.map((list) => columnsOf(list).join("\t"))).size === 1) shared.set(c, layoutOf(lists.flatMap((list): ReadonlyArray<JsonObject> => list), undefined, false))
  }
  return { flat, names: flat.map(nameOf), constant, constantNames: constant.map(nameOf), nested, typed, shared }
}

const everyRow = (rows: ReadonlyArray<JsonObject>, layout: Layout) =>
  `in every row: ${layout.constant.map((c, i) => `${layout.constantNames[i]}=${cell(rows[0]![c]) || "null"}`).join(", ")}`

/** A nested table's rows are indented by one space more than their parent's. */
const STEP = " "

/** The headers of the nested tables said once (` dimensions: id	name…`), indented as their rows will be. */
const sharedHeaders = (layout: Layout, indent: string): Array<string> =>
  [...layout.shared].flatMap(([c, inner]) => [`${indent}${STEP}${c}: ${inner.names.join("\t")}`, ...sharedHeaders(inner, indent + STEP)])

/** A row's line, then the tables of its nested columns, indented under it. */
const rowLines = (row: JsonObject, layout: Layout, indent: string): Array<string> => {
  const lines = [indent + layout.flat.map((c) => cell(row[c])).join("\t")]
  for (const c of layout.nested) {
    const value = row[c]
    const shared = layout.shared.get(c)
    if (shared !== undefined) {
      if (isObjectList(value)) lines.push(...value.flatMap((child) => rowLines(child, shared, indent + STEP)))
    } else if (isObjectList(value) || (c === layout.typed?.of && Array.isArray(value))) {
      const header = c === layout.typed?.of ? pairsOf(row[layout.typed.described]) : undefined
      lines.push(...table(c, value as ReadonlyArray<JsonObject>, indent + STEP, Object.values(row), header))
    } else if (Array.isArray(value)) lines.push(`${indent}${STEP}${c}: none`)
  }
  return lines
}

/**
 * A list of objects, at the top or as a row's own table: `key (n): header` (n left out when a
 * field of its row already says it), what every row shares, the shared headers of nested tables,
 * then each row with its nested rows indented under it.
 */
const table = (key: string, rows: ReadonlyArray<JsonObject>, indent: string, parent: ReadonlyArray<Json>, header?: ReadonlyArray<string>) => {
  const layout = layoutOf(rows, header)
  const counted = parent.includes(rows.length)
  const title = `${indent}${key}${counted ? "" : ` (${rows.length})`}:`
  const names = (rows.length === 0 ? header ?? [] : layout.names).join("\t")
  // A typed header (`row_count:BIGINT	total:DOUBLE`) under its row, which says how many rows follow, needs no title.
  const untitled = header !== undefined && counted && layout.constant.length === 0
  return [
    ...(untitled ? [indent + names] : layout.constant.length === 0 ? [`${title} ${names}`] : [title, indent + everyRow(rows, layout), indent + names]),
    ...sharedHeaders(layout, indent),
    ...rows.flatMap((row) => rowLines(row, layout, indent))
  ]
}

const block = (key: string, text: string) => [`${key}:`, "```", text.replace(/\n$/, ""), "```"]

const list = (key: string, items: ReadonlyArray<Json>) =>
  items.some((item) => typeof item === "string" && (item.length > 60 || item.includes(", ")))
    ? [`${key}:`, ...items.map((item) => `- ${cell(item)}`)]
    : [`${key}: ${items.map(cell).join(", ")}`]

/** Long values (paths, URLs) already written under another key are named, not repeated. */
type Seen = Map<string, string>

const fields = (value: JsonObject, prefix: string, seen: Seen, stated: (key: string) => boolean = () => false): { readonly head: Array<string>; readonly tail: Array<string> } => {
  const head: Array<string> = []
  const tail: Array<string> = []
  for (const [key, v] of Object.entries(value)) {
    const name = prefix + key
    if (v === null || v === undefined || (Array.isArray(v) && v.length === 0) || stated(key)) continue
    if (isMultiline(v)) tail.push(...block(name, v))
    else if (isObject(v)) {
      const inner = fields(v, `${name}.`, seen)
      head.push(...inner.head)
      tail.push(...inner.tail)
    } else if (Array.isArray(v)) {
      if (isPairList(v)) head.push(`${pairHeader(name, v as ReadonlyArray<JsonObject>)}: ${(v as ReadonlyArray<JsonObject>).map(pair).join(", ")}`)
      else if (isObjectList(v)) tail.push(...table(name, v, "", []))
      else if (seen.has(cell(v))) head.push(`${name}: ${(v as ReadonlyArray<Json>).length === 1 ? "one item, " : ""}same as ${seen.get(cell(v))}`)
      else tail.push(...list(name, v as ReadonlyArray<Json>))
    } else {
      const text = cell(v)
      const earlier = seen.get(text)
      head.push(earlier === undefined ? `${name}: ${text}` : `${name}: same as ${earlier}`)
      if (earlier === undefined && text.length >= 20) seen.set(text, name)
    }
  }
  return { head, tail }
}

/** Whether the summary says this value: a string anywhere in it, a number or boolean as a word of its own ("in 46 ms", not "2046"). */
const holds = (summary: string, value: string | number | boolean) =>
  typeof value === "string" ? summary.includes(value) : summary.split(/[^\w.-]+/).some((word) => word.replace(/\.$/, "") === String(value))

/**
 * The text content of a result: the summary, then the structured output's facts (its encoded,
 * JSON form). `said`: top-level scalars the summary states in words (`duckdb on estat_db.prices`);
 * their `key: value` lines are left out, each only when the summary does hold its value.
 */
export const renderText = (summary: string, structured: unknown, said: ReadonlyArray<string> = []): string => {
  const value = structured as Json
  if (!isObject(value)) return value === undefined ? summary : `${summary}\n${scalar(value)}`
  const stated = (key: string) => {
    const v = value[key]
    return said.includes(key) && (typeof v === "string" || typeof v === "number" || typeof v === "boolean") && holds(summary, v)
  }
  const { head, tail } = fields(value, "", new Map(), stated)
  return [summary, ...head, ...tail].join("\n")
}
