import { Schema } from "effect"
import type { ColumnSpec } from "./rowBatch.js"

/**
 * Apache Iceberg v2 table metadata and the Avro schemas of manifest lists and manifests, as the
 * spec writes them (field ids included), for unpartitioned append-only tables of the row schema.
 */

export const IcebergField = Schema.Struct({
  id: Schema.Number,
  name: Schema.String,
  required: Schema.Boolean,
  type: Schema.String
})
export interface IcebergField extends Schema.Schema.Type<typeof IcebergField> {}

export const IcebergSchema = Schema.Struct({
  type: Schema.Literal("struct"),
  "schema-id": Schema.Number,
  fields: Schema.Array(IcebergField)
})
export interface IcebergSchema extends Schema.Schema.Type<typeof IcebergSchema> {}

const Strings = Schema.Record({ key: Schema.String, value: Schema.String })

export const Snapshot = Schema.Struct({
  "snapshot-id": Schema.Number,
  "parent-snapshot-id": Schema.optionalWith(Schema.Number, { exact: true }),
  "sequence-number": Schema.Number,
  "timestamp-ms": Schema.Number,
  "manifest-list": Schema.String,
  summary: Strings,
  "schema-id": Schema.Number
})
export interface Snapshot extends Schema.Schema.Type<typeof Snapshot> {}

/** `vN.metadata.json` as this catalog writes it: unpartitioned, unsorted, one schema; read back through this schema. */
export const TableMetadata = Schema.Struct({
  "format-version": Schema.Literal(2),
  "table-uuid": Schema.String,
  location: Schema.String,
  "last-sequence-number": Schema.Number,
  "last-updated-ms": Schema.Number,
  "last-column-id": Schema.Number,
  "current-schema-id": Schema.Number,
  schemas: Schema.Array(IcebergSchema),
  "default-spec-id": Schema.Literal(0),
  "partition-specs": Schema.Array(Schema.Struct({ "spec-id": Schema.Number, fields: Schema.Tuple() })),
  "last-partition-id": Schema.Number,
  "default-sort-order-id": Schema.Literal(0),
  "sort-orders": Schema.Array(Schema.Struct({ "order-id": Schema.Number, fields: Schema.Tuple() })),
  properties: Strings,
  "current-snapshot-id": Schema.optionalWith(Schema.Number, { exact: true }),
  refs: Schema.Record({ key: Schema.String, value: Schema.Struct({ "snapshot-id": Schema.Number, type: Schema.Literal("branch") }) }),
  snapshots: Schema.Array(Snapshot),
  "snapshot-log": Schema.Array(Schema.Struct({ "timestamp-ms": Schema.Number, "snapshot-id": Schema.Number })),
  "metadata-log": Schema.Array(Schema.Struct({ "timestamp-ms": Schema.Number, "metadata-file": Schema.String }))
})
export interface TableMetadata extends Schema.Schema.Type<typeof TableMetadata> {}

/** The row schema's types in Iceberg (the same names in Athena's DDL). */
export const icebergTypes: Readonly<Record<ColumnSpec["type"], string>> = { VARCHAR: "string", INTEGER: "int", DOUBLE: "double" }

export const schemaOf = (columns: ReadonlyArray<ColumnSpec>): IcebergSchema => ({
  type: "struct",
  "schema-id": 0,
  fields: columns.map((c, i) => ({ id: i + 1, name: c.name, required: false, type: icebergTypes[c.type] }))
})

/** Columns that differ between a table's schema and a run's (names and types), for the error message. */
export const schemaDifferences = (schema: IcebergSchema, columns: ReadonlyArray<ColumnSpec>): ReadonlyArray<string> => {
  const wanted = new Map(schema.fields.map((f) => [f.name, f.type]))
  const given = new Map(columns.map((c) => [c.name, icebergTypes[c.type]]))
  return [
    ...[...wanted].filter(([name]) => !given.has(name)).map(([name, type]) => `${name} (${type}) missing from the run`),
    ...[...given].filter(([name]) => !wanted.has(name)).map(([name, type]) => `${name} (${type}) not in the table`),
    ...[...given].filter(([name, type]) => wanted.has(name) && wanted.get(name) !== type).map(([name, type]) => `${name}: table ${wanted.get(name)}, run ${type}`)
  ]
}

export const newTableMetadata = (options: { readonly uuid: string; readonly location: string; readonly schema: IcebergSchema; readonly now: number }): TableMetadata => ({
  "format-version": 2,
  "table-uuid": options.uuid,
  location: options.location,
  "last-sequence-number": 0,
  "last-updated-ms": options.now,
  "last-column-id": Math.max(0, ...options.schema.fields.map((f) => f.id)),
  "current-schema-id": 0,
  schemas: [options.schema],
  "default-spec-id": 0,
  "partition-specs": [{ "spec-id": 0, fields: [] }],
  "last-partition-id": 999,
  "default-sort-order-id": 0,
  "sort-orders": [{ "order-id": 0, fields: [] }],
  properties: { "write.format.default": "parquet", "write.parquet.compression-codec": "zstd" },
  refs: {},
  snapshots: [],
  "snapshot-log": [],
  "metadata-log": []
})

export const currentSnapshot = (metadata: TableMetadata): Snapshot | undefined =>
  metadata.snapshots.find((s) => s["snapshot-id"] === metadata["current-snapshot-id"])

/** Avro schema of manifest list entries (spec: manifest_file, v2). */
export const manifestFileSchema = {
  type: "record",
  name: "manifest_file",
  fields: [
    { name: "manifest_path", type: "string", "field-id": 500 },
    { name: "manifest_length", type: "long", "field-id": 501 },
    { name: "partition_spec_id", type: "int", "field-id": 502 },
    { name: "content", type: "int", "field-id": 517 },
    { name: "sequence_number", type: "long", "field-id": 515 },
    { name: "min_sequence_number", type: "long", "field-id": 516 },
    { name: "added_snapshot_id", type: "long", "field-id": 503 },
    { name: "added_files_count", type: "int", "field-id": 504 },
    { name: "existing_files_count", type: "int", "field-id": 505 },
    { name: "deleted_files_count", type: "int", "field-id": 506 },
    { name: "added_rows_count", type: "long", "field-id": 512 },
    { name: "existing_rows_count", type: "long", "field-id": 513 },
    { name: "deleted_rows_count", type: "long", "field-id": 514 }
  ]
} as const

/** Avro schema of manifest entries (spec: manifest_entry with data_file, v2, unpartitioned). */
export const manifestEntrySchema = {
  type: "record",
  name: "manifest_entry",
  fields: [
    { name: "status", type: "int", "field-id": 0 },
    { name: "snapshot_id", type: ["null", "long"], default: null, "field-id": 1 },
    { name: "sequence_number", type: ["null", "long"], default: null, "field-id": 3 },
    { name: "file_sequence_number", type: ["null", "long"], default: null, "field-id": 4 },
    {
      name: "data_file",
      "field-id": 2,
      type: {
        type: "record",
        name: "r2",
        fields: [
          { name: "content", type: "int", "field-id": 134 },
          { name: "file_path", type: "string", "field-id": 100 },
          { name: "file_format", type: "string", "field-id": 101 },
          { name: "partition", type: { type: "record", name: "r102", fields: [] }, "field-id": 102 },
          { name: "record_count", type: "long", "field-id": 103 },
          { name: "file_size_in_bytes", type: "long", "field-id": 104 }
        ]
      }
    }
  ]
} as const

export interface ManifestFile {
  readonly manifest_path: string
  readonly manifest_length: number
  readonly partition_spec_id: number
  readonly content: number
  readonly sequence_number: number
  readonly min_sequence_number: number
  readonly added_snapshot_id: number
  readonly added_files_count: number
  readonly existing_files_count: number
  readonly deleted_files_count: number
  readonly added_rows_count: number
  readonly existing_rows_count: number
  readonly deleted_rows_count: number
}

export interface ManifestEntry {
  /** 0 existing, 1 added, 2 deleted. */
  readonly status: number
  readonly snapshot_id: number | null
  readonly sequence_number: number | null
  readonly file_sequence_number: number | null
  readonly data_file: {
    readonly content: number
    readonly file_path: string
    readonly file_format: string
    readonly partition: Readonly<Record<string, never>>
    readonly record_count: number
    readonly file_size_in_bytes: number
  }
}
