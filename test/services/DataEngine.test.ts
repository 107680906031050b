import { existsSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Deferred, Effect, Fiber, Option } from "effect"
import { describe, expect, it } from "@effect/vitest"
import { csvRowsOfBatch } from "../../src/domain/csv.js"
import type { Dimension } from "../../src/domain/estat.js"
import type { RowBatch } from "../../src/domain/rowBatch.js"
import { rowBuilder, sampleRows } from "../../src/domain/rows.js"
import { CpuPacer } from "../../src/services/CpuPacer.js"
import { make, quoteLiteral } from "../../src/services/DataEngine.js"

/** A Parquet path in a temp folder removed with the test's scope. */
const scratchParquet = (name: string) =>
  Effect.map(
    Effect.acquireRelease(Effect.sync(() => mkdtempSync(join(tmpdir(), "estat-parquet-"))), (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))),
    (dir) => join(dir, `${name}.parquet`)
  )

const engine = make({ duckdbMemoryLimit: "128MB", duckdbTempDir: join(tmpdir(), "estat-duckdb-test"), duckdbThreads: 1 })

describe("DataEngine", () => {
  it.scoped("writes a Parquet part whose text, nulls and numbers read back exactly", () =>
    Effect.gen(function* () {
      const db = yield* engine
      const tricky = ["plain", "a,b", 'say "hi"', "line\nbreak", "\\N", "", " padded ", "東京都，区部", "χ"]
      const batch: RowBatch = {
        columns: [{ name: "label", type: "VARCHAR" }, { name: "year", type: "INTEGER" }, { name: "value", type: "DOUBLE" }],
        values: [
          [...tricky, null],
          [...tricky.map((_, i) => 2000 + i), null],
          [...tricky.map((_, i) => (i === 3 ? -0.1 : i * 1234567.891)), null]
        ],
        count: tricky.length + 1
      }
      const file = yield* scratchParquet("part")
      yield* db.writeParquet(csvRowsOfBatch(batch), file)
      const back = yield* db.query(`SELECT label, year, value FROM read_parquet(${quoteLiteral(file)})`)
      expect(back.columns).toEqual([{ name: "label", type: "VARCHAR" }, { name: "year", type: "INTEGER" }, { name: "value", type: "DOUBLE" }])
      expect(back.rows).toEqual(batch.values[0]!.map((label, i) => ({ label, year: batch.values[1]![i], value: batch.values[2]![i] })))
    }))

  it.scoped("in two steps (CSV, then Parquet from it) it makes the part writeParquet makes; the CSV stays for the caller to remove", () =>
    Effect.gen(function* () {
      const db = yield* engine
      const batch: RowBatch = {
        columns: [{ name: "label", type: "VARCHAR" }, { name: "value", type: "DOUBLE" }],
        values: [["a,b", 'say "hi"', null], [1.5, null, -2]],
        count: 3
      }
      const whole = yield* scratchParquet("whole")
      const stepped = yield* scratchParquet("stepped")
      const csv = `${stepped}.csv`
      yield* db.writeParquet(csvRowsOfBatch(batch), whole)
      yield* db.writeCsv(csvRowsOfBatch(batch), csv)
      expect(existsSync(csv)).toBe(true)
      yield* db.csvToParquet(csv, batch.columns, stepped)
      expect(existsSync(csv)).toBe(true)
      const read = (file: string) => db.query(`SELECT label, value FROM read_parquet(${quoteLiteral(file)})`)
      const back = yield* read(stepped)
      expect(back.rows).toEqual([{ label: "a,b", value: 1.5 }, { label: 'say "hi"', value: null }, { label: null, value: -2 }])
      expect(back).toEqual(yield* read(whole))
    }))

  it.scoped("a page's rows made as CSV bytes read back as exactly the rows of its row batch, across chunks", () =>
    Effect.gen(function* () {
      const db = yield* engine
      const dimensions: ReadonlyArray<Dimension> = [
        { id: "tab", name: "表章項目", description: null, items: [
          { code: "1", name: "指数", level: "", unit: null, parentCode: null },
          { code: "3", name: "変化率, \"前年比\"", level: "", unit: "%", parentCode: null }
        ] },
        { id: "area", name: "地域", description: null, items: [
          { code: "00000", name: "全国", level: "1", unit: null, parentCode: null },
          { code: "\\N", name: " 空白つき ", level: "2", unit: null, parentCode: null },
          { code: "13000", name: "東京都\n(区部)", level: "2", unit: null, parentCode: null }
        ] },
        { id: "time", name: "時間軸", description: null, items: [
          { code: "2025000101", name: "2025年1月", level: "4", unit: null, parentCode: null },
          { code: "2024000000", name: "2024年", level: "1", unit: null, parentCode: null }
        ] }
      ]
      const raws = ["101.2", "-0.3", "-0.0", "007", "126146099", "0.0", "12,345.6", "1.2e3", " 7 ", "-", "***", "χ", "", "0x1F", "1.", ".5", "\\N", 'say "x"']
      const areas = ["00000", "\\N", "13000", "99999"]
      const times = ["2025000101", "2024000000", "xyz"]
      // 30,000 rows: several 1 MB chunks, so rows meet chunk ends.
      const n = 30_000
      const cells = {
        count: n,
        dims: {
          tab: Array.from({ length: n }, (_, i) => (i % 7 < 4 ? "1" : "3")),
          area: Array.from({ length: n }, (_, i) => areas[Math.floor(i / 3) % areas.length]!),
          time: Array.from({ length: n }, (_, i) => times[i % times.length]!)
        },
        unit: Array.from({ length: n }, (_, i) => (i % 11 === 0 ? "円" : null)),
        annotation: Array.from({ length: n }, (_, i) => (i % 13 === 0 ? "A1" : i % 17 === 0 ? "Z9" : null)),
        raw: Array.from({ length: n }, (_, i) => raws[i % raws.length]!)
      }
      const notes = [{ code: "A1", text: "速報値, \"暫定\"" }]
      const builder = rowBuilder({ statsDataId: "0004052037", dimensions, withLabels: true })
      const rows = builder.csv(cells, notes)
      const sizes = Array.from(rows.chunks(), (chunk) => chunk.length)
      expect(sizes.length).toBeGreaterThan(1)
      expect(sizes.every((size) => size <= 1 << 20)).toBe(true)
      const file = yield* scratchParquet("page")
      yield* db.writeParquet(rows, file)
      const back = yield* db.query(`SELECT * FROM read_parquet(${quoteLiteral(file)})`)
      expect(back.columns.map((c) => c.name)).toEqual(builder.columns.map((c) => c.name))
      expect(back.rows).toEqual(sampleRows(builder.build(cells, notes), n))
    }))

  it.scoped("the bulk-free setting a part is written with is put back, also when the write fails", () =>
    Effect.gen(function* () {
      const db = yield* engine
      const setting = Effect.map(
        db.query("SELECT current_setting('allocator_bulk_deallocation_flush_threshold') AS v"),
        (r) => r.rows[0]?.["v"]
      )
      const before = yield* setting
      // Text where an INTEGER is declared: DuckDB's COPY itself fails.
      const rows = csvRowsOfBatch({ columns: [{ name: "x", type: "INTEGER" }], values: [[1, "not a number"]], count: 2 })
      const error = yield* Effect.flip(db.writeParquet(rows, yield* scratchParquet("part")))
      expect(error.message).toMatch(/failed to write a Parquet part: Conversion Error/)
      expect(yield* setting).toBe(before)
      expect(before).toMatch(/^6[0-9](\.\d+)? ?Mi?B$/)
    }))

  it.scoped("a failing statement is a DataEngineError with DuckDB's reason", () =>
    Effect.gen(function* () {
      const db = yield* engine
      const error = yield* Effect.flip(db.query("SELECT * FROM read_parquet('/nonexistent/x.parquet')"))
      expect(error._tag).toBe("DataEngineError")
      expect(error.message).toMatch(/^The embedded DuckDB engine failed to run a query: .*No files found/)
    }))

  it.scoped("a Parquet part waits for the CpuPacer's turn before DuckDB starts on it", () =>
    Effect.gen(function* () {
      const asked = yield* Deferred.make<void>()
      const go = yield* Deferred.make<void>()
      const pacer = { budget: Option.some(0.25), turn: Effect.zipRight(Deferred.succeed(asked, undefined), Deferred.await(go)) }
      const db = yield* Effect.provideService(engine, CpuPacer, pacer)
      const batch: RowBatch = { columns: [{ name: "n", type: "INTEGER" }], values: [[1, 2, 3]], count: 3 }
      const file = yield* scratchParquet("paced")
      const writing = yield* Effect.fork(db.writeParquet(csvRowsOfBatch(batch), file))
      yield* Deferred.await(asked)
      expect(existsSync(file)).toBe(false)
      yield* Deferred.succeed(go, undefined)
      yield* Fiber.join(writing)
      expect((yield* db.query(`SELECT sum(n) AS s FROM read_parquet(${quoteLiteral(file)})`)).rows).toEqual([{ s: 6 }])
    }))
})
