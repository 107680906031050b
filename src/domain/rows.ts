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
    build: (cells: DataCells, annotations: ReadonlyArray<DataAnnotation>): RowBatch => {
      const n = cells.count
      const notes = new Map(annotations.map((a) => [a.code, a.text]))
      const out: Array<ReadonlyArray<CellValue>> = [new Array<string>(n).fill(shape.statsDataId)]
      for (const d of shape.dimensions) {
        const codes = cells.dims[d.id] ?? new Array<string>(n).fill("")
        out.push(codes)
        if (shape.withLabels) {
          const names = labels.get(d.id)!
          out.push(codes.map((code) => names.get(code) ?? null))
        }
      }
      const times = cells.dims["time"]
      const parts = times === undefined ? undefined : times.map(timeOf)
      out.push(parts?.map((p) => p.year) ?? new Array<null>(n).fill(null))
      out.push(parts?.map((p) => p.month) ?? new Array<null>(n).fill(null))
      out.push(parts?.map((p) => p.quarter) ?? new Array<null>(n).fill(null))
      out.push(cells.unit.map((unit, i) => unit ?? unitFromItems(itemUnits, cells, i)))
      const values = cells.raw.map(parseValue)
      out.push(values)
      out.push(cells.raw)
      out.push(cells.annotation.map((code, i) =>
        code !== null ? notes.get(code) ?? code : values[i] === null && cells.raw[i] !== "" ? cells.raw[i]! : null
      ))
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

/** The first `limit` rows of a batch as objects keyed by column name (samples in tool outputs). */
export const sampleRows = (batch: RowBatch, limit: number): ReadonlyArray<Readonly<Record<string, CellValue>>> =>
  Array.from({ length: Math.min(limit, batch.count) }, (_, row) =>
    Object.fromEntries(batch.columns.map((c, col) => [c.name, batch.values[col]![row] ?? null]))
  )
