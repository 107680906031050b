import { Effect, Schema } from "effect"
import { AppConfig } from "../config.js"
import { sanitizeFileName } from "../domain/fileNames.js"
import { manifestKey } from "../domain/runs.js"
import * as Tool from "../mcp/tool.js"
import { withDefault } from "../mcp/tool.js"
import { fetchDataset } from "../pipeline/fetchDataset.js"
import { RunUnreadable } from "../pipeline/errors.js"
import { manifestKeyOf, readManifest, requireComplete } from "../pipeline/runs.js"
import { runToCsv } from "../pipeline/runToCsv.js"
import { ObjectStore } from "../services/storage/ObjectStore.js"
import { DatasetId, progressReporter } from "./datasetRun.js"

const Input = Schema.Struct({
  dataset_id: DatasetId,
  s3_json_path: Schema.optional(Schema.String.pipe(Schema.minLength(1)).annotations({
    description: "A run to convert: its manifest.json or its folder (datasets/<dataset_id>/<run_id>/), as a storage key or URI. Default: fetch the whole dataset now."
  })),
  output_filename: Schema.optional(Schema.String.pipe(Schema.minLength(1), Schema.maxLength(200)).annotations({
    description: "File name for the CSV (path parts are dropped, .csv is added). Default: <dataset_id>_<run_id>.csv."
  })),
  include_labels: withDefault(Schema.Boolean, true, "Include the `<dimension>_name` label columns beside the codes."),
  line_ending: withDefault(Schema.Literal("crlf", "lf"), "crlf", "Line ends: crlf (Excel) or lf.")
})

const Output = Schema.Struct({
  dataset_id: Schema.String,
  run_id: Schema.String,
  records_count: Schema.Int,
  columns: Schema.Array(Schema.String),
  location: Schema.String,
  download_url: Schema.String,
  expires_at: Schema.NullOr(Schema.String),
  size_bytes: Schema.Int
})

export const saveDatasetAsCsv = Tool.make({
  name: "save_dataset_as_csv",
  title: "Save a dataset as CSV",
  description:
    "Writes a complete e-Stat dataset as one CSV file in storage (csv/<dataset_id>/<run_id>/…): UTF-8 with BOM so Excel reads " +
    "Japanese correctly, a header row, code and label columns, values as numbers. Converts an existing complete run, or fetches " +
    "the whole dataset first. Returns the file's location and a download URL (presigned, 1 hour, on S3).",
  input: Input,
  output: Output,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  links: (out) => [{ uri: out.location, name: out.location.split("/").at(-1) ?? out.location, mimeType: "text/csv", size: out.size_bytes }],
  summarize: (out) => `Saved ${out.records_count.toLocaleString("en")} rows of ${out.dataset_id} as CSV (${out.size_bytes.toLocaleString("en")} bytes): ${out.location}`,
  run: (input) =>
    Effect.gen(function* () {
      const store = yield* ObjectStore
      const config = yield* AppConfig
      const manifest = input.s3_json_path === undefined
        ? (yield* fetchDataset({
          statsDataId: input.dataset_id,
          narrowing: {},
          maxRecords: null,
          pageSize: config.estatPageSize,
          concurrency: config.estatConcurrency,
          withLabels: true,
          store: true,
          resumeRunId: null,
          onProgress: yield* progressReporter
        })).manifest!
        : yield* Effect.gen(function* () {
          const key = manifestKeyOf(yield* store.keyOf(input.s3_json_path!))
          return yield* Effect.flatMap(readManifest(key), (m) => requireComplete(m, store.uri(key)))
        })
      if (manifest.stats_data_id !== input.dataset_id) {
        return yield* new RunUnreadable({
          location: store.uri(manifestKey(manifest.stats_data_id, manifest.run_id)),
          reason: `it is a run of dataset ${manifest.stats_data_id}, not ${input.dataset_id}`
        })
      }
      const fileName = (input.output_filename === undefined ? null : sanitizeFileName(input.output_filename, ".csv")) ??
        `${manifest.stats_data_id}_${manifest.run_id}.csv`
      const key = `csv/${manifest.stats_data_id}/${manifest.run_id}/${fileName}`
      const csv = yield* runToCsv({ manifest, key, includeLabels: input.include_labels, lineEnd: input.line_ending === "crlf" ? "\r\n" : "\n" })
      const download = yield* store.downloadUrl(key, { expiresInSeconds: 3600, fileName })
      return {
        dataset_id: manifest.stats_data_id,
        run_id: manifest.run_id,
        records_count: csv.rows,
        columns: csv.columns.map((c) => c.name),
        location: store.uri(key),
        download_url: download.url,
        expires_at: download.expiresAt?.toISOString() ?? null,
        size_bytes: csv.size
      }
    })
})
