/**
 * The `text` content of a tool result: a summary line, then every fact of `structuredContent`
 * in a form a model reads well and pays few tokens for. Many clients give the model only this
 * text (Cursor, LangChain agents, every client of a revision before 2025-06-18), so nothing of
 * the structured output may be missing from it.
 *
 * Layout, derived from the value itself (no per-tool code):
 * - scalars as `key: value` lines (nested objects as `parent.key: value`; nulls and empty lists left out);
 * - lists of scalars on one line, or one `- item` line each when the items are sentences;
 * - lists of objects as a tab-separated table under one header row; inside a row, a list of
 *   two-field objects becomes `a:b` pairs (named in the header) and a longer list of objects
 *   becomes a table after the parent table (one for all parents when they share fields, else
 *   one per parent row, its header typed when the parent lists the fields' names and types);
 *   cells stay on one line (tabs and line breaks become spaces);
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

/** The first text column whose values tell the rows apart names them in their nested tables (else `#1`, `#2`, …). */
const labelColumn = (rows: ReadonlyArray<JsonObject>) =>
  columnsOf(rows).find((c) => rows.every((row) => typeof row[c] === "string") && new Set(rows.map((row) => row[c])).size === rows.length)

/**
 * Columns with one value in every row of a wide table (sample rows: the dataset id, the one
 * year, …): said once above it, not in each row. Narrow tables (query results) stay whole.
 */
const constantColumns = (rows: ReadonlyArray<JsonObject>, columns: ReadonlyArray<string>) =>
  rows.length < 3 || columns.length <= 6 ? [] : columns.filter((c) => rows.every((row) => cell(row[c]) === cell(rows[0]![c])))

const firstValues = (value: Json | undefined) =>
  Array.isArray(value) && isPairList(value) ? (value as ReadonlyArray<JsonObject>).map((o) => cell(Object.values(o)[0])) : undefined

/**
 * A column of `a:b` pairs that, in every row, names the fields of a nested table in order (a
 * query's columns with their types beside its rows): written into that table's header instead.
 */
const headerColumn = (rows: ReadonlyArray<JsonObject>, nested: ReadonlyArray<string>) => {
  for (const of of nested) {
    for (const described of columnsOf(rows)) {
      const fits = rows.every((row) => {
        const names = firstValues(row[described])
        const inner = row[of]
        return names !== undefined && isObjectList(inner) && names.join("\t") === columnsOf(inner).join("\t")
      })
      if (fits) return { described, of }
    }
  }
  return undefined
}

/** `header`: each column's name as written (`name:type` when the parent row typed it). */
const isAbsent = (value: Json | undefined) => value === null || value === undefined || (Array.isArray(value) && value.length === 0)

const table = (key: string, rows: ReadonlyArray<JsonObject>, header?: ReadonlyArray<string>): Array<string> => {
  // A column null in every row says nothing, as a null scalar does.
  const columns = columnsOf(rows).filter((c) => !rows.every((row) => isAbsent(row[c])))
  // A list its row types (a query's rows beside its columns) is a table of its own, even of two fields.
  const typed = headerColumn(rows, columns.filter((c) => rows.some((row) => isObjectList(row[c]))))
  const nested = columns.filter((c) => isNestedTable(rows, c) || c === typed?.of)
  const constant = constantColumns(rows, columns.filter((c) => !nested.includes(c)))
  const flat = columns.filter((c) => !nested.includes(c) && !constant.includes(c) && c !== typed?.described)
  const names = flat.map((c) => {
    const sample = rows.map((row) => row[c]).find((v) => Array.isArray(v) && v.length > 0) as ReadonlyArray<Json> | undefined
    return sample !== undefined && isPairList(sample) ? pairHeader(c, sample as ReadonlyArray<JsonObject>) : header?.[columnsOf(rows).indexOf(c)] ?? c
  })
  const lines = [`${key} (${rows.length}):`]
  if (constant.length > 0) lines.push(`in every row: ${constant.map((c) => `${c}=${cell(rows[0]![c]) || "null"}`).join(", ")}`)
  lines.push(names.join("\t"), ...rows.map((row) => flat.map((c) => cell(row[c])).join("\t")))
  for (const c of nested) lines.push(...nestedTables(key, c, rows, c === typed?.of ? typed.described : undefined))
  return lines
}

/**
 * The lists of objects in column `c` of `rows`: one table with the parent's label as its first
 * column when they all have the same fields (dimensions of each search result), else one table
 * per parent row (the rows of each analysis query).
 */
const nestedTables = (key: string, c: string, rows: ReadonlyArray<JsonObject>, described?: string): Array<string> => {
  const labelledBy = labelColumn(rows)
  const children = rows.map((row, index) => ({
    label: labelledBy === undefined ? `#${index + 1}` : String(row[labelledBy]),
    value: row[c],
    header: described === undefined ? undefined : pairsOf(row[described])
  }))
  const lists = children.filter((child) => isObjectList(child.value)) as ReadonlyArray<{ label: string; value: ReadonlyArray<JsonObject> }>
  const shapes = new Set(lists.map((child) => columnsOf(child.value).join(",")))
  if (described === undefined && lists.length > 1 && lists.length === children.length && shapes.size === 1) {
    return table(`${key}.${c}`, lists.flatMap((child) => child.value.map((item) => ({ [labelledBy ?? "#"]: child.label, ...item }))))
  }
  return children.flatMap((child) =>
    isObjectList(child.value) ? table(`${key}[${child.label}].${c}`, child.value, child.header)
      : Array.isArray(child.value) && child.value.length === 0 ? [`${key}[${child.label}].${c}: none`]
      : [])
}

const block = (key: string, text: string) => [`${key}:`, "```", text.replace(/\n$/, ""), "```"]

const list = (key: string, items: ReadonlyArray<Json>) =>
  items.some((item) => typeof item === "string" && (item.length > 60 || item.includes(", ")))
    ? [`${key}:`, ...items.map((item) => `- ${cell(item)}`)]
    : [`${key}: ${items.map(cell).join(", ")}`]

/** Long values (paths, URLs) already written under another key are named, not repeated. */
type Seen = Map<string, string>

const fields = (value: JsonObject, prefix: string, seen: Seen): { readonly head: Array<string>; readonly tail: Array<string> } => {
  const head: Array<string> = []
  const tail: Array<string> = []
  for (const [key, v] of Object.entries(value)) {
    const name = prefix + key
    if (v === null || v === undefined || (Array.isArray(v) && v.length === 0)) continue
    if (isMultiline(v)) tail.push(...block(name, v))
    else if (isObject(v)) {
      const inner = fields(v, `${name}.`, seen)
      head.push(...inner.head)
      tail.push(...inner.tail)
    } else if (Array.isArray(v)) {
      if (isPairList(v)) head.push(`${pairHeader(name, v as ReadonlyArray<JsonObject>)}: ${(v as ReadonlyArray<JsonObject>).map(pair).join(", ")}`)
      else if (isObjectList(v)) tail.push(...table(name, v))
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

/** The text content of a result: the summary, then the structured output's facts (its encoded, JSON form). */
export const renderText = (summary: string, structured: unknown): string => {
  const value = structured as Json
  if (!isObject(value)) return value === undefined ? summary : `${summary}\n${scalar(value)}`
  const { head, tail } = fields(value, "", new Map())
  return [summary, ...head, ...tail].join("\n")
}
