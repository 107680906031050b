import { csvField, type CsvRows } from "./csv.js"
import type { CellValue, ColumnSpec, RowBatch } from "./rowBatch.js"
import type { DataAnnotation, DataCells, Dimension } from "./estat.js"
import { timeParts } from "./timeCode.js"

/**
 * The one row schema of every output (ARCHITECTURE §4.3): one row per e-Stat VALUE cell, with
 * `<dim>_code` (+ `<dim>_name` when labels are asked for) for each dimension in metadata order,
 * calendar parts of the time code, the unit, the value as a number and as sent, and the annotation.
 */

export interface RowShape {
  readonly statsDataId: string
  readonly dimensions: ReadonlyArray<Dimension>
  /** `<dim>_name` columns with the labels from metadata. */
  readonly withLabels: boolean
}

export const columnsOf = (shape: RowShape): ReadonlyArray<ColumnSpec> => [
  { name: "stats_data_id", type: "VARCHAR" },
  ...shape.dimensions.flatMap((d): ReadonlyArray<ColumnSpec> =>
    shape.withLabels
      ? [{ name: `${d.id}_code`, type: "VARCHAR" }, { name: `${d.id}_name`, type: "VARCHAR" }]
      : [{ name: `${d.id}_code`, type: "VARCHAR" }]
  ),
  { name: "time_year", type: "INTEGER" },
  { name: "time_month", type: "INTEGER" },
  { name: "time_quarter", type: "INTEGER" },
  { name: "unit", type: "VARCHAR" },
  { name: "value", type: "DOUBLE" },
  { name: "value_raw", type: "VARCHAR" },
  { name: "annotation", type: "VARCHAR" }
]

/**
 * `"126146099"`, `"-0.3"`, `"1.2e3"`, `"12,345.6"` → a number; special characters (`-`, `***`, `X`, `χ` …) → null.
 * `"-0.0"` (a change rate rounded to zero) is 0: a Parquet dictionary would not keep the zeros apart.
 */
export const parseValue = (raw: string): number | null => {
  // Fast path for plain decimals, the common case by far; Number() alone would also take "0x1F" or "Infinity".
  const first = raw.charCodeAt(0)
  if ((first >= 48 && first <= 57) || first === 45 || first === 43 || first === 46) {
    const second = raw.charCodeAt(1) | 0x20 // lower case
    const radixPrefix = first === 48 && (second === 0x78 || second === 0x62 || second === 0x6f) // 0x 0b 0o
    const n = Number(raw)
    if (!radixPrefix && Number.isFinite(n)) return n === 0 ? 0 : n
  }
  const text = raw.trim().replaceAll(",", "")
  return /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text) ? Number(text) || 0 : null
}

/** Turns pages of one table into rows of the shape; label and time lookups are built once per run. */
export const rowBuilder = (shape: RowShape) => {
  const columns = columnsOf(shape)
  const labels = new Map(shape.dimensions.map((d) => [d.id, new Map(d.items.map((i) => [i.code, i.name]))]))
  // A unit on a dimension's item (tab or cat01) applies when the cell carries none.
  const itemUnits = shape.dimensions.flatMap((d) => {
    const units = new Map(d.items.flatMap((i) => (i.unit === null ? [] : [[i.code, i.unit] as const])))
    return units.size === 0 ? [] : [{ id: d.id, units }]
  })
  const timeLabels = labels.get("time")
  const timeCache = new Map<string, ReturnType<typeof timeParts>>()
  const timeOf = (code: string) => {
    let parts = timeCache.get(code)
    if (parts === undefined) timeCache.set(code, parts = timeParts(code, timeLabels?.get(code) ?? null))
    return parts
  }
  // Per run: the CSV of the fields that repeat, each with its trailing comma.
  const lead = utf8.encode(csvField(shape.statsDataId) + ",")
  const dimFields = shape.dimensions.map((d) => {
    const names = labels.get(d.id)!
    return fieldCache((code) => shape.withLabels ? `${csvField(code)},${csvField(names.get(code) ?? null)},` : `${csvField(code)},`)
  })
  const timeFields = fieldCache((code) => {
    const parts = timeOf(code)
    return `${csvField(parts.year)},${csvField(parts.month)},${csvField(parts.quarter)},`
  })
  const noTimeParts = utf8.encode(`${csvField(null)},${csvField(null)},${csvField(null)},`)
  const unitField = fieldCache((unit) => `${csvField(unit)},`)
  const rawField = fieldCache((raw) => `${csvField(raw)},`)

  /** One pass over the cells, filling preallocated columns. */
  const build = (cells: DataCells, annotations: ReadonlyArray<DataAnnotation>): RowBatch => {
    const n = cells.count
    const notes = new Map(annotations.map((a) => [a.code, a.text]))
    const codes = shape.dimensions.map((d) => cells.dims[d.id] ?? new Array<string>(n).fill(""))
    const names = shape.withLabels ? shape.dimensions.map((d) => labels.get(d.id)!) : []
    const nameColumns = names.map(() => new Array<string | null>(n))
    const times = cells.dims["time"]
    const year = new Array<number | null>(n)
    const month = new Array<number | null>(n)
    const quarter = new Array<number | null>(n)
    const unit = new Array<string | null>(n)
    const value = new Array<number | null>(n)
    const annotation = new Array<string | null>(n)
    for (let i = 0; i < n; i++) {
      for (let d = 0; d < names.length; d++) nameColumns[d]![i] = names[d]!.get(codes[d]![i]!) ?? null
      const parts = times === undefined ? null : timeOf(times[i]!)
      year[i] = parts?.year ?? null
      month[i] = parts?.month ?? null
      quarter[i] = parts?.quarter ?? null
      unit[i] = cells.unit[i] ?? (itemUnits.length === 0 ? null : unitFromItems(itemUnits, cells, i))
      const raw = cells.raw[i]!
      const number = parseValue(raw)
      value[i] = number
      annotation[i] = annotationOf(cells.annotation[i] ?? null, notes, raw, number)
    }
    const out: Array<ReadonlyArray<CellValue>> = [new Array<string>(n).fill(shape.statsDataId)]
    shape.dimensions.forEach((_, d) => {
      out.push(codes[d]!)
      if (shape.withLabels) out.push(nameColumns[d]!)
    })
    out.push(year, month, quarter, unit, value, cells.raw, annotation)
    return { columns, values: out, count: n }
  }

  /**
   * `build`'s rows as CSV bytes, made in `buffer`: `add` a batch of cells at a time (it gives the
   * chunks it fills, each to be used before going on), then `end` for what is left (or to drop it).
   */
  const csvEncoder = (buffer: Uint8Array) => {
    const annotationField = fieldCache((text) => csvField(text) + "\n")
    let chunk = buffer
    let at = 0
    function* add(cells: DataCells, annotations: ReadonlyArray<DataAnnotation>): Generator<Uint8Array> {
      const notes = new Map(annotations.map((a) => [a.code, a.text]))
      const dimCodes = shape.dimensions.map((d) => cells.dims[d.id] ?? new Array<string>(cells.count).fill(""))
      const times = cells.dims["time"]
      // Cells come sorted by their axes, the last (usually time) varying fastest: the fields before
      // it repeat from row to row and are copied as one piece while they do.
      const last = dimCodes.length - 1
      let prefix = lead
      for (let i = 0; i < cells.count; i++) {
        if (i === 0 || !sameLeadingCodes(dimCodes, i)) prefix = concatBytes([lead, ...dimCodes.slice(0, last).map((codes, d) => dimFields[d]!(codes[i]!))])
        const lastField = last < 0 ? EMPTY : dimFields[last]!(dimCodes[last]![i]!)
        const timeField = times === undefined ? noTimeParts : timeFields(times[i]!)
        const unit = cells.unit[i] ?? (itemUnits.length === 0 ? null : unitFromItems(itemUnits, cells, i))
        const unitBytes = unit === null ? nullField : unitField(unit)
        const raw = cells.raw[i]!
        // A plain decimal is its own CSV field, and DuckDB reads it as the very double Number() makes of it.
        const plain = isPlainDecimal(raw)
        const number = plain ? 0 : parseValue(raw)
        const valueText = plain ? raw : number === null ? csvField(null) : String(number)
        const rawBytes = plain ? null : rawField(raw)
        const note = annotationOf(cells.annotation[i] ?? null, notes, raw, number)
        const noteBytes = note === null ? nullLast : annotationField(note)
        const size = prefix.length + lastField.length + timeField.length + unitBytes.length + valueText.length + 1 +
          (rawBytes === null ? raw.length + 1 : rawBytes.length) + noteBytes.length
        if (at + size > chunk.length) {
          yield chunk.subarray(0, at)
          if (size > chunk.length) chunk = new Uint8Array(size)
          at = 0
        }
        at = copyBytes(chunk, at, prefix)
        at = copyBytes(chunk, at, lastField)
        at = copyBytes(chunk, at, timeField)
        at = copyBytes(chunk, at, unitBytes)
        at = copyAscii(chunk, at, valueText)
        chunk[at++] = COMMA
        if (rawBytes === null) {
          at = copyAscii(chunk, at, raw)
          chunk[at++] = COMMA
        } else {
          at = copyBytes(chunk, at, rawBytes)
        }
        at = copyBytes(chunk, at, noteBytes)
      }
    }
    /** The last chunk, not full (empty when the rows ended a chunk). */
    const end = () => {
      const rest = chunk.subarray(0, at)
      at = 0
      return rest
    }
    return { add, end }
  }

  function* csvChunks(cells: DataCells, annotations: ReadonlyArray<DataAnnotation>, buffer: Uint8Array): Generator<Uint8Array> {
    const encoder = csvEncoder(buffer)
    yield* encoder.add(cells, annotations)
    const rest = encoder.end()
    if (rest.length > 0) yield rest
  }

  return {
    columns,
    build,
    /** The first `limit` rows of a page as objects keyed by column name (samples in tool outputs). */
    sample: (page: { readonly cells: DataCells; readonly annotations: ReadonlyArray<DataAnnotation> }, limit: number) =>
      sampleRows(build(firstCells(page.cells, limit), page.annotations), limit),
    /**
     * The rows of `build` as CSV bytes made straight from the page's columns, a chunk at a time:
     * the repeated fields (codes with their labels, time parts, units) are encoded once per run.
     */
    csv: (cells: DataCells, annotations: ReadonlyArray<DataAnnotation>): CsvRows => ({
      columns,
      count: cells.count,
      chunks: () => csvChunks(cells, annotations, csvBuffer())
    }),
    /** The rows of `csv` for cells that come in batches (a page read piece by piece), made in one buffer. */
    csvEncoder: () => csvEncoder(csvBuffer())
  }

}

/**
 * DuckDB gets a page's CSV in writes of about this size. Each write lets the event loop run, and a
 * chunk is a few ms of work at full speed (×4 on a 0.25-vCPU task): small enough for `/health`.
 */
const CSV_CHUNK_BYTES = 1 << 18
const csvBuffer = () => new Uint8Array(CSV_CHUNK_BYTES)
const utf8 = new TextEncoder()
const COMMA = 44
const EMPTY = new Uint8Array(0)
const nullField = utf8.encode(`${csvField(null)},`)
const nullLast = utf8.encode(`${csvField(null)}\n`)

/** Row `i` has the codes of row `i - 1` on every axis but the last. */
const sameLeadingCodes = (dimCodes: ReadonlyArray<ReadonlyArray<string>>, i: number) => {
  for (let d = 0; d < dimCodes.length - 1; d++) if (dimCodes[d]![i] !== dimCodes[d]![i - 1]) return false
  return true
}

// A loop beats TypedArray#set (and TextEncoder) on the few bytes of most fields; set wins beyond ~8.
const copyBytes = (target: Uint8Array, at: number, bytes: Uint8Array) => {
  if (bytes.length > 8) target.set(bytes, at)
  else for (let i = 0; i < bytes.length; i++) target[at + i] = bytes[i]!
  return at + bytes.length
}

const copyAscii = (target: Uint8Array, at: number, text: string) => {
  for (let i = 0; i < text.length; i++) target[at + i] = text.charCodeAt(i)
  return at + text.length
}

const concatBytes = (pieces: ReadonlyArray<Uint8Array>) => {
  const bytes = new Uint8Array(pieces.reduce((sum, p) => sum + p.length, 0))
  let at = 0
  for (const piece of pieces) {
    bytes.set(piece, at)
    at += piece.length
  }
  return bytes
}

/** Encodes a field once per distinct text (up to `limit` texts; beyond, every time). */
const fieldCache = (encode: (text: string) => string, limit = 10_000) => {
  const cache = new Map<string, Uint8Array>()
  return (text: string): Uint8Array => {
    let bytes = cache.get(text)
    if (bytes === undefined) {
      bytes = utf8.encode(encode(text))
      if (cache.size < limit) cache.set(text, bytes)
    }
    return bytes
  }
}

/**
 * `-12`, `0.5`, `126146099`: text that is its own CSV field and that DuckDB reads as the very
 * double `parseValue` makes of it (so not `-0.0`, which `parseValue` makes 0).
 */
const isPlainDecimal = (text: string): boolean => {
  const negative = text.charCodeAt(0) === 45
  let i = negative ? 1 : 0
  let nonZero = false
  const digitsFrom = i
  for (; i < text.length && isDigit(text.charCodeAt(i)); i++) nonZero ||= text.charCodeAt(i) !== 48
  if (i === digitsFrom) return false
  if (i < text.length) {
    if (text.charCodeAt(i) !== 46) return false
    const fractionFrom = ++i
    for (; i < text.length && isDigit(text.charCodeAt(i)); i++) nonZero ||= text.charCodeAt(i) !== 48
    if (i < text.length || i === fractionFrom) return false
  }
  return nonZero || !negative
}

const isDigit = (code: number) => code >= 48 && code <= 57

/** The cell's annotation text (its code when the legend lacks it), else the glyph of a special value. */
const annotationOf = (code: string | null, notes: ReadonlyMap<string, string>, raw: string, value: number | null) =>
  code !== null ? notes.get(code) ?? code : value === null && raw !== "" ? raw : null

const unitFromItems = (
  itemUnits: ReadonlyArray<{ readonly id: string; readonly units: ReadonlyMap<string, string> }>,
  cells: DataCells,
  index: number
): string | null => {
  for (const { id, units } of itemUnits) {
    const unit = units.get(cells.dims[id]?.[index] ?? "")
    if (unit !== undefined) return unit
  }
  return null
}

const firstCells = (cells: DataCells, limit: number): DataCells => ({
  count: Math.min(limit, cells.count),
  dims: Object.fromEntries(Object.entries(cells.dims).map(([id, codes]) => [id, codes.slice(0, limit)])),
  unit: cells.unit.slice(0, limit),
  annotation: cells.annotation.slice(0, limit),
  raw: cells.raw.slice(0, limit)
})

/** Dimensions of the metadata that the cells do not carry (a page that does not belong to the table). */
export const missingDimensions = (dimensions: ReadonlyArray<Dimension>, cells: DataCells): ReadonlyArray<string> =>
  cells.count === 0 ? [] : dimensions.filter((d) => cells.dims[d.id] === undefined).map((d) => d.id)

/** The first `limit` rows of a batch as objects keyed by column name (samples in tool outputs). */
export const sampleRows = (batch: RowBatch, limit: number): ReadonlyArray<Readonly<Record<string, CellValue>>> =>
  Array.from({ length: Math.min(limit, batch.count) }, (_, row) =>
    Object.fromEntries(batch.columns.map((c, col) => [c.name, batch.values[col]![row] ?? null]))
  )
