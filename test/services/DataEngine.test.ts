import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { describe, expect, it } from "@effect/vitest"
import type { RowBatch } from "../../src/domain/rows.js"
import { make, quoteLiteral } from "../../src/services/DataEngine.js"

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
      const file = join(mkdtempSync(join(tmpdir(), "estat-parquet-")), "part.parquet")
      yield* db.writeParquet(batch, file)
      const back = yield* db.query(`SELECT label, year, value FROM read_parquet(${quoteLiteral(file)})`)
      expect(back.columns).toEqual([{ name: "label", type: "VARCHAR" }, { name: "year", type: "INTEGER" }, { name: "value", type: "DOUBLE" }])
      expect(back.rows).toEqual(batch.values[0]!.map((label, i) => ({ label, year: batch.values[1]![i], value: batch.values[2]![i] })))
    }))

  it.scoped("a failing statement is a DataEngineError with DuckDB's reason", () =>
    Effect.gen(function* () {
      const db = yield* engine
      const error = yield* Effect.flip(db.query("SELECT * FROM read_parquet('/nonexistent/x.parquet')"))
      expect(error._tag).toBe("DataEngineError")
      expect(error.message).toMatch(/^The embedded DuckDB engine failed to run a query: .*No files found/)
    }))
})
