import { FileSystem } from "@effect/platform"
import { Effect, Stream } from "effect"
import { csvHeader, csvLines, excelDialect, UTF8_BOM } from "../domain/csv.js"
import type { Manifest } from "../domain/runs.js"
import { DataEngine, quoteIdentifier, quoteLiteral } from "../services/DataEngine.js"
import { ObjectStore, StorageFailure } from "../services/storage/ObjectStore.js"
import { RunUnreadable } from "./errors.js"

export interface CsvRequest {
  /** Parquet files in the row schema, in order (a run's parts, or one transformed page). */
  readonly parts: ReadonlyArray<string>
  readonly columns: ReadonlyArray<{ readonly name: string }>
  /** Rows the parts must hold, when known (a run's manifest says). */
  readonly expectedRows: number | null
  /** Where the CSV goes in storage. */
  readonly key: string
  readonly includeLabels: boolean
  readonly lineEnd: "\n" | "\r\n"
}

/** The CSV request of a complete run. */
export const runParts = (manifest: Manifest) => ({
  parts: [...manifest.pages].sort((a, b) => a.index - b.index).map((p) => p.key),
  columns: manifest.columns,
  expectedRows: manifest.records_fetched
})

/**
 * Parquet parts (a complete run) as one CSV file (UTF-8 with BOM, a header of column names), written part by
 * part and chunk by chunk — nothing holds more than one Parquet part — then stored atomically.
 */
export const runToCsv = (request: CsvRequest) =>
  Effect.scoped(Effect.gen(function* () {
    const store = yield* ObjectStore
    const engine = yield* DataEngine
    const fs = yield* FileSystem.FileSystem
    const dialect = excelDialect(request.lineEnd)
    const columns = request.columns.filter((c) => request.includeLabels || !c.name.endsWith("_name"))
    const select = columns.map((c) => quoteIdentifier(c.name)).join(", ")
    const encoder = new TextEncoder()
    const ioError = (operation: string) => (e: { readonly message: string }) =>
      new StorageFailure({ operation, location: store.uri(request.key), reason: e.message })

    const out = yield* store.scratchFile(".csv")
    const file = yield* fs.open(out, { flag: "w" }).pipe(Effect.mapError(ioError("write")))
    const write = (text: string) => file.writeAll(encoder.encode(text)).pipe(Effect.mapError(ioError("write")))
    yield* write(UTF8_BOM + csvHeader(columns, dialect))

    let rows = 0
    for (const partKey of request.parts) {
      yield* Effect.scoped(Effect.gen(function* () {
        const part = yield* store.localFile(partKey)
        yield* engine.scan(`SELECT ${select} FROM read_parquet(${quoteLiteral(part)})`).pipe(
          Stream.runForEach((batch) => {
            rows += batch.count
            return write(csvLines(batch, 0, batch.count, dialect))
          })
        )
      }))
    }
    if (request.expectedRows !== null && rows !== request.expectedRows) {
      return yield* new RunUnreadable({
        location: store.uri(request.key),
        reason: `its parts hold ${rows} rows but the manifest says ${request.expectedRows}`
      })
    }
    yield* file.sync.pipe(Effect.mapError(ioError("write")))
    const stored = yield* store.putFile(request.key, out, "text/csv; charset=utf-8")
    return { rows, columns, size: stored.size }
  }))
