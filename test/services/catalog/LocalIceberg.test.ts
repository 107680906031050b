import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { Effect } from "effect"
import { describe, expect, it } from "@effect/vitest"
import { parquetMetadata } from "hyparquet"
import { avroMetadata, avroRead, icebergRead } from "icebird"
import { runToLoad } from "../../../src/services/lakehouse/Lakehouse.js"
import { fetchDataset } from "../../../src/pipeline/fetchDataset.js"
import { make } from "../../../src/services/catalog/LocalIceberg.js"
import { DataEngine, quoteLiteral } from "../../../src/services/DataEngine.js"
import { ObjectStore } from "../../../src/services/storage/ObjectStore.js"
import { generatedTable } from "../../fakes/estatServer.js"
import { withFileFetch } from "../../support/fileFetch.js"
import { baseRequest, pipelineContext } from "../../support/pipeline.js"

const table = generatedTable({ id: "0009000009", categories: 3, areas: 4, months: 12 }) // 144 rows

/** icebird's own Avro reader: an independent check of the files we write. */
const readAvro = (path: string) => {
  const bytes = readFileSync(path)
  const reader = { view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), offset: 0 }
  const { metadata, syncMarker } = avroMetadata(reader)
  return { metadata, records: avroRead({ reader, metadata, syncMarker }) as Array<Record<string, unknown>> }
}

describe("local Iceberg v2 tables", () => {
  it.scopedLive("one snapshot per load, idempotent per run, appends and replaces; files readable by independent readers", () =>
    Effect.gen(function* () {
      const { context } = yield* pipelineContext("local", { tables: [table] })
      const store = yield* Effect.provide(ObjectStore, context)
      const engine = yield* Effect.provide(DataEngine, context)
      const catalog = yield* make.pipe(Effect.provide(context))
      const runOf = (pageSize: number) =>
        Effect.map(fetchDataset(baseRequest(table.info.id, { pageSize })).pipe(Effect.provide(context)), (outcome) => runToLoad(outcome.manifest!))
      const first = yield* runOf(100)
      const second = yield* runOf(50)

      const refused = yield* Effect.flip(catalog.append("estat_db", "prices", first, { create: false, mode: "append" }))
      expect(refused.message).toContain("does not exist; pass create_if_not_exists: true")
      const created = yield* catalog.append("estat_db", "prices", first, { create: true, mode: "append" })
      expect(created).toMatchObject({ recordsLoaded: 144, tableTotalRecords: 144, alreadyLoaded: false })
      const again = yield* catalog.append("estat_db", "prices", first, { create: true, mode: "append" })
      expect(again).toMatchObject({ recordsLoaded: 0, tableTotalRecords: 144, alreadyLoaded: true, snapshotId: created.snapshotId })
      const appended = yield* catalog.append("estat_db", "prices", second, { create: true, mode: "append" })
      expect(appended).toMatchObject({ recordsLoaded: 144, tableTotalRecords: 288 })

      const { files, metadata, records } = yield* catalog.currentFiles("estat_db", "prices")
      expect(records).toBe(288)
      expect(files.length).toBe(2 + 3)
      const [counted] = (yield* engine.query(`SELECT count(*) AS n, count(DISTINCT area_name) AS areas FROM read_parquet([${files.map(quoteLiteral).join(", ")}])`)).rows
      expect(counted).toEqual({ n: 288, areas: 4 })

      // The metadata as the spec has it: version 2 after two commits, two snapshots chained, the main branch on the last.
      const hint = new TextDecoder().decode(yield* store.getBytes("warehouse/estat_db/prices/metadata/version-hint.text"))
      expect(hint).toBe("2")
      expect(metadata).toMatchObject({ "format-version": 2, "last-sequence-number": 2, "current-snapshot-id": appended.snapshotId })
      expect(metadata.snapshots.map((s) => s.summary["estat.run-id"])).toEqual([first.runId, second.runId])
      expect(metadata.snapshots[1]!["parent-snapshot-id"]).toBe(created.snapshotId)
      expect(metadata.refs).toEqual({ main: { "snapshot-id": appended.snapshotId, type: "branch" } })
      expect(metadata.schemas[0]!.fields.slice(0, 3)).toEqual([
        { id: 1, name: "stats_data_id", required: false, type: "string" },
        { id: 2, name: "tab_code", required: false, type: "string" },
        { id: 3, name: "tab_name", required: false, type: "string" }
      ])

      // Manifest list and manifests, read with icebird's Avro reader; data files carry field ids.
      const list = readAvro(fileURLToPath(metadata.snapshots[1]!["manifest-list"]))
      expect(list.metadata["format-version"]).toBe("2")
      expect((list.metadata["avro.schema"] as { fields: Array<unknown> }).fields[0]).toMatchObject({ name: "manifest_path", "field-id": 500 })
      expect(list.records.map((m) => Number(m["added_rows_count"]))).toEqual([144, 144])
      const manifest = readAvro(fileURLToPath(list.records[1]!["manifest_path"] as string))
      expect(manifest.metadata["content"]).toBe("data")
      expect(manifest.records.length).toBe(3)
      expect(manifest.records[0]).toMatchObject({ status: 1, data_file: { file_format: "PARQUET", content: 0 } })
      const parquet = readFileSync(files[0]!)
      const schema = parquetMetadata(parquet.buffer.slice(parquet.byteOffset, parquet.byteOffset + parquet.byteLength)).schema
      expect(schema.slice(1, 3).map((s) => [s.name, s.field_id])).toEqual([["stats_data_id", 1], ["tab_code", 2]])

      // icebird, an independent Iceberg reader, reads the whole table back from its metadata.
      const rows = yield* Effect.promise(() => withFileFetch(() => icebergRead({ tableUrl: metadata.location, metadata: metadata as never })))
      expect(rows.length).toBe(288)
      expect(new Set(rows.map((r) => r["run_id"]))).toEqual(new Set([first.runId, second.runId]))
      expect(rows.filter((r) => r["area_name"] === "地域1").length).toBe(288 / 4)

      // replace: the new snapshot holds only this run.
      const replaced = yield* catalog.append("estat_db", "prices", { ...first, runId: `${first.runId}-r` }, { create: false, mode: "replace" })
      expect(replaced).toMatchObject({ recordsLoaded: 144, tableTotalRecords: 144 })
      expect((yield* catalog.currentFiles("estat_db", "prices")).records).toBe(144)

      // A run with other columns is refused, naming them.
      const mismatch = yield* Effect.flip(catalog.append("estat_db", "prices", { ...first, runId: "x", columns: first.columns.filter((c) => c.name !== "unit") }, { create: false, mode: "append" }))
      expect(mismatch.message).toBe("Table estat_db.prices: the run's columns differ from the table's: unit (string) missing from the run")
    }))
})
