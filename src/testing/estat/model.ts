/** The fake e-Stat's own data model: tables as e-Stat keeps them, before any wire encoding. */

export interface FakeClass {
  readonly code: string
  readonly name: string
  readonly level?: string
  readonly unit?: string
  readonly parentCode?: string
}

export interface FakeDimension {
  readonly id: string
  readonly name: string
  readonly classes: ReadonlyArray<FakeClass>
}

export interface FakeCell {
  readonly dims: Readonly<Record<string, string>>
  readonly unit?: string | undefined
  readonly value: string
  readonly annotation?: string | undefined
}

export interface FakeTableInfo {
  readonly id: string
  readonly statName: readonly [code: string, name: string]
  readonly govOrg: readonly [code: string, name: string]
  readonly statisticsName: string
  /** With a table number (`{ "@no", "$" }` on the wire) or plain. */
  readonly title: string | { readonly no: string; readonly text: string }
  readonly cycle: string
  readonly surveyDate: string
  readonly openDate: string
  readonly smallArea: 0 | 1
  readonly collectArea: string
  readonly mainCategory: readonly [code: string, name: string]
  readonly subCategory: readonly [code: string, name: string]
  readonly updatedDate: string
  readonly tabulationCategory: string
  readonly tableName: string
}

export interface FakeTable {
  readonly info: FakeTableInfo
  readonly dimensions: ReadonlyArray<FakeDimension>
  readonly notes: ReadonlyArray<{ readonly char: string; readonly text: string }>
  readonly annotations: ReadonlyArray<{ readonly code: string; readonly text: string }>
  /** The existing cells, in e-Stat's row order (the cube may be sparse). */
  readonly cells: () => Iterable<FakeCell>
  /** Cell `index` of a dense table, without walking the ones before it (generated tables). */
  readonly cellAt?: (index: number) => FakeCell
  readonly cellCount: number
}

export const specialValues: ReadonlyArray<string> = ["-", "***", "…", "X", "χ"]
