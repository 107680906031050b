/**
 * Rows as every stage passes them along (the row builder, CSV, Parquet, SQL results): typed
 * columns and their values, column by column. Apart from rows.ts so that csv.ts needs only this.
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
