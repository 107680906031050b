import type { DataAnnotation, DataCells, Dimension } from "./estat.js"
import { timeParts } from "./timeCode.js"

/**
 * The one row schema of every output (ARCHITECTURE §4.3): one row per e-Stat VALUE cell, with
 * `<dim>_code` (+ `<dim>_name` when labels are asked for) for each dimension in metadata order,
 * calendar parts of the time code, the unit, the value as a number and as sent, and the annotation.
 */

export type ColumnType = "VARCHAR" | "INTEGER" | "DOUBLE"

export interface ColumnSpec {
  readonly name: string
  readonly type: ColumnType
}

export type CellValue = string | number | null

/** Rows column by column, in the order of `columns`. */
export interface RowBatch {
  readonly columns: ReadonlyArray<ColumnSpec>
  readonly values: ReadonlyArray<ReadonlyArray<CellValue>>
  readonly count: number
}

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

/** `"126146099"`, `"-0.3"`, `"1.2e3"`, `"12,345.6"` → a number; special characters (`-`, `***`, `X`, `χ` …) → null. */
export const parseValue = (raw: string): number | null => {
  // Fast path for plain decimals, the common case by far; Number() alone would also take "0x1F" or "Infinity".
  const first = raw.charCodeAt(0)
  if ((first >= 48 && first <= 57) || first === 45 || first === 43 || first === 46) {
    const second = raw.charCodeAt(1) | 0x20 // lower case
    const radixPrefix = first === 48 && (second === 0x78 || second === 0x62 || second === 0x6f) // 0x 0b 0o
    const n = Number(raw)
    if (!radixPrefix && Number.isFinite(n)) return n
  }
  const text = raw.trim().replaceAll(",", "")
  return /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text) ? Number(text) : null
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

  return {
    columns,
    /** One pass over the cells, filling preallocated columns (a page is 100,000 rows). */
    build: (cells: DataCells, annotations: ReadonlyArray<DataAnnotation>): RowBatch => {
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
        const code = cells.annotation[i] ?? null
        annotation[i] = code !== null ? notes.get(code) ?? code : number === null && raw !== "" ? raw : null
      }
      const out: Array<ReadonlyArray<CellValue>> = [new Array<string>(n).fill(shape.statsDataId)]
      shape.dimensions.forEach((_, d) => {
        out.push(codes[d]!)
        if (shape.withLabels) out.push(nameColumns[d]!)
      })
      out.push(year, month, quarter, unit, value, cells.raw, annotation)
      return { columns, values: out, count: n }
    }
  }
}

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

/** Dimensions of the metadata that the cells do not carry (a page that does not belong to the table). */
export const missingDimensions = (dimensions: ReadonlyArray<Dimension>, cells: DataCells): ReadonlyArray<string> =>
  cells.count === 0 ? [] : dimensions.filter((d) => cells.dims[d.id] === undefined).map((d) => d.id)

/** The first `limit` rows of a batch as objects keyed by column name (samples in tool outputs). */
export const sampleRows = (batch: RowBatch, limit: number): ReadonlyArray<Readonly<Record<string, CellValue>>> =>
  Array.from({ length: Math.min(limit, batch.count) }, (_, row) =>
    Object.fromEntries(batch.columns.map((c, col) => [c.name, batch.values[col]![row] ?? null]))
  )
