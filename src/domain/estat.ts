/**
 * Normalised e-Stat data, after the quirks of the wire format (object-vs-array,
 * numbers-vs-strings, `$` text nodes, empty strings, missing blocks) are gone.
 * Every consumer of the EStat service sees only these shapes.
 */

/** One statistical table as listed by getStatsList / described in TABLE_INF. */
export interface TableInfo {
  readonly statsDataId: string
  readonly title: string
  readonly statisticsName: string
  /** STAT_NAME label and code (government statistics code, 8 digits). */
  readonly statName: string
  readonly statCode: string
  readonly govOrg: string
  readonly govOrgCode: string
  readonly cycle: string
  /** SURVEY_DATE as text ("202010", "201601-201612"); "" when e-Stat says 0. */
  readonly surveyDate: string
  readonly openDate: string
  readonly updatedDate: string
  readonly smallArea: boolean
  readonly collectArea: string
  readonly mainCategory: string
  readonly mainCategoryCode: string
  readonly subCategory: string
  readonly subCategoryCode: string
  /** OVERALL_TOTAL_NUMBER; null when e-Stat reports 0 or omits it (unreliable for sizing). */
  readonly totalRecords: number | null
  readonly tabulationCategory: string
  readonly tableName: string
  readonly description: string
}

export interface SearchTablesQuery {
  readonly searchWord?: string | undefined
  readonly statsField?: string | undefined
  readonly statsCode?: string | undefined
  readonly surveyYears?: string | undefined
  readonly openYears?: string | undefined
  readonly updatedDate?: string | undefined
  readonly startPosition?: number | undefined
  readonly limit?: number | undefined
}

export interface SearchTablesPage {
  /** e-Stat's total hit count (DATALIST_INF.NUMBER); 0 when nothing matched. */
  readonly total: number
  readonly tables: ReadonlyArray<TableInfo>
  /** startPosition of the next page, when there is one. */
  readonly nextKey: number | null
}

/** One CLASS item of a dimension. */
export interface ClassItem {
  readonly code: string
  readonly name: string
  /** "@level" as given ("" when e-Stat leaves it empty); meanings are table-specific. */
  readonly level: string
  readonly unit: string | null
  readonly parentCode: string | null
}

/** One CLASS_OBJ: a dimension (axis) of a table, in metadata order. */
export interface Dimension {
  /** "tab" | "cat01".."cat15" | "area" | "time" */
  readonly id: string
  readonly name: string
  readonly description: string | null
  readonly items: ReadonlyArray<ClassItem>
}

export interface TableMeta {
  readonly table: TableInfo
  readonly dimensions: ReadonlyArray<Dimension>
}

/** Narrowing of a getStatsData call: e-Stat parameter name → value (`cdCat01`, `lvArea`, `cdTimeFrom` …). */
export interface DataQuery {
  readonly statsDataId: string
  readonly narrowing?: Readonly<Record<string, string>> | undefined
}

export interface DataNote {
  /** The special character used in `$` (e.g. "***", "-", "X"). */
  readonly char: string
  readonly text: string
}

export interface DataAnnotation {
  readonly code: string
  readonly text: string
}

/** One VALUE cell: its code on each axis of the table, in metadata order. */
export interface DataValue {
  readonly dims: Readonly<Record<string, string>>
  readonly unit: string | null
  readonly annotation: string | null
  /** `$` as sent: a number as text, or a special character. */
  readonly raw: string
}

/**
 * A page's VALUE cells, column by column: a 100,000-row page is a handful of arrays rather than
 * 100,000 objects, which is what keeps several pages in flight within a small container.
 */
export interface DataCells {
  readonly count: number
  /** Per axis of the table (`tab`, `cat01`, `area`, `time` …): the code of each cell. */
  readonly dims: Readonly<Record<string, ReadonlyArray<string>>>
  readonly unit: ReadonlyArray<string | null>
  readonly annotation: ReadonlyArray<string | null>
  readonly raw: ReadonlyArray<string>
}

/** A page without its cells (what a page read as its cells come tells first). */
export type PageHead = Omit<DataPage, "cells">

export interface DataPage {
  readonly totalNumber: number
  readonly fromNumber: number
  readonly toNumber: number
  readonly nextKey: number | null
  readonly notes: ReadonlyArray<DataNote>
  readonly annotations: ReadonlyArray<DataAnnotation>
  readonly cells: DataCells
}

/** One cell of a page as an object (samples, tests). */
export const cellAt = (cells: DataCells, index: number): DataValue => ({
  dims: Object.fromEntries(Object.entries(cells.dims).map(([id, codes]) => [id, codes[index] ?? ""])),
  unit: cells.unit[index] ?? null,
  annotation: cells.annotation[index] ?? null,
  raw: cells.raw[index] ?? ""
})

/** One page of a paged fetch: 1-based `index`, e-Stat's `startPosition` and `limit`. */
export interface PageRequest {
  readonly index: number
  readonly startPosition: number
  readonly limit: number
}

/** The pages covering the first `records` rows, `pageSize` at a time. */
export const planPages = (records: number, pageSize: number): ReadonlyArray<PageRequest> =>
  Array.from({ length: Math.ceil(records / pageSize) }, (_, k) => ({
    index: k + 1,
    startPosition: k * pageSize + 1,
    limit: Math.min(pageSize, records - k * pageSize)
  }))
