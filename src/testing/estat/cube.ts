import type { FakeCell, FakeClass, FakeDimension, FakeTable, FakeTableInfo } from "./model.js"

/** Every combination of the dimensions' classes, in CLASS_OBJ order (the last axis varies fastest). */
export function* combinations(dimensions: ReadonlyArray<FakeDimension>): Generator<Record<string, string>> {
  const counts = dimensions.map((d) => d.classes.length)
  const total = counts.reduce((a, b) => a * b, 1)
  for (let i = 0; i < total; i++) {
    let rest = i
    const dims: Record<string, string> = {}
    for (let d = dimensions.length - 1; d >= 0; d--) {
      const dim = dimensions[d]!
      dims[dim.id] = dim.classes[rest % counts[d]!]!.code
      rest = Math.floor(rest / counts[d]!)
    }
    yield dims
  }
}

/** Deterministic pseudo-random in [0, 1) from a string (FNV-1a). */
export const hash01 = (text: string) => {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return h / 0x1_0000_0000
}

export const classes = (items: ReadonlyArray<readonly [string, string, string?]>, extra: Partial<FakeClass> = {}): ReadonlyArray<FakeClass> =>
  items.map(([code, name, parentCode]) => ({ code, name, level: extra.level ?? "1", ...extra, ...(parentCode ? { parentCode } : {}) }))

/** A small full cube whose values come from `value(dims)` (undefined = the cell does not exist). */
export const cubeTable = (options: {
  readonly info: FakeTableInfo
  readonly dimensions: ReadonlyArray<FakeDimension>
  readonly notes?: ReadonlyArray<{ readonly char: string; readonly text: string }>
  readonly annotations?: ReadonlyArray<{ readonly code: string; readonly text: string }>
  readonly unitOf?: (dims: Readonly<Record<string, string>>) => string | undefined
  readonly value: (dims: Readonly<Record<string, string>>) => string | undefined
  readonly annotationOf?: (dims: Readonly<Record<string, string>>) => string | undefined
}): FakeTable => {
  const cells: ReadonlyArray<FakeCell> = [...combinations(options.dimensions)].flatMap((dims) => {
    const value = options.value(dims)
    return value === undefined ? [] : [{ dims, value, unit: options.unitOf?.(dims), annotation: options.annotationOf?.(dims) }]
  })
  return {
    info: options.info,
    dimensions: options.dimensions,
    notes: options.notes ?? [],
    annotations: options.annotations ?? [],
    cells: () => cells,
    cellCount: cells.length
  }
}
