import { Effect, Schema } from "effect"
import { sanitizeFileName } from "../domain/fileNames.js"
import { type Manifest, manifestKey, STATS_DATA_ID } from "../domain/runs.js"
import * as Tool from "../mcp/tool.js"
import { withDefault } from "../mcp/tool.js"
import { RunUnreadable } from "../pipeline/errors.js"
import { type CsvRequest, runParts, runToCsv } from "../pipeline/runToCsv.js"
import { transformToParquet } from "../pipeline/transform.js"
import { ObjectStore } from "../services/storage/ObjectStore.js"
import { DatasetId, fetchWholeTable } from "../pipeline/datasetRun.js"
import { downloadScope } from "./downloadCsvFromS3.js"
import { resolveRun } from "../pipeline/runReference.js"

const Input = Schema.Struct({
  dataset_id: DatasetId,
  s3_json_path: Schema.optional(Schema.String.pipe(Schema.minLength(1)).annotations({
    description: "What to convert, as a storage key or URI: a complete run (its manifest.json or folder datasets/<dataset_id>/<run_id>/; " +
      "a dataset folder or bare dataset id means its latest complete run) or a saved e-Stat JSON page. Default: fetch the dataset now."
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
  /** The run's manifest (null for a CSV made from a saved page) and how it was chosen. */
  run_manifest: Schema.NullOr(Schema.String),
  run_note: Schema.NullOr(Schema.String),
  records_count: Schema.Int,
  columns: Schema.Array(Schema.String),
  location: Schema.String,
  download_url: Schema.String,
  download_scope: Schema.String,
  expires_at: Schema.NullOr(Schema.String),
  size_bytes: Schema.Int,
  /** null when the CSV holds the whole table; otherwise how it is a part of it (filters, max_records). */
  subset: Schema.NullOr(Schema.String)
})

/** What the CSV is made of: a run, or a saved e-Stat page converted first. */
interface CsvSource {
  readonly statsDataId: string
  readonly runId: string
  readonly location: string
  /** The run's manifest URI, or null for a saved page. */
  readonly manifest: string | null
  readonly note: string | null
  /** How the rows are a part of the table (filters, a row cap), or null for the whole table. */
  readonly subset: string | null
  readonly csv: Pick<CsvRequest, "parts" | "columns" | "expectedRows">
}

const fromRun = (manifest: Manifest, location: string, note: string | null): CsvSource => ({
  statsDataId: manifest.stats_data_id,
  runId: manifest.run_id,
  location,
  manifest: location,
  note,
  subset: [
    Object.keys(manifest.query.narrowing).length > 0 ? `filtered by ${new URLSearchParams(manifest.query.narrowing).toString()}` : null,
    manifest.expected_records < manifest.total_records ? `the first ${manifest.expected_records} of ${manifest.total_records} rows (max_records)` : null
  ].filter((part) => part !== null).join("; ") || null,
  csv: runParts(manifest)
})

/** The whole dataset, fetched now into a new run. */
const freshRun = (statsDataId: string) =>
  Effect.gen(function* () {
    const store = yield* ObjectStore
    const outcome = yield* fetchWholeTable({ statsDataId, withLabels: true, store: true })
    return fromRun(outcome.manifest!, store.uri(manifestKey(statsDataId, outcome.runId)), null)
  })

/** A saved e-Stat JSON page (converted to Parquet first), or a complete run (see resolveRun). */
const storedSource = (location: string) =>
  Effect.gen(function* () {
    const store = yield* ObjectStore
    const key = STATS_DATA_ID.test(location.trim()) ? null : yield* store.keyOf(location)
    if (key !== null && /\.json(\.gz)?$/.test(key) && !key.endsWith("manifest.json")) {
      const converted = yield* transformToParquet({ location, outputPrefix: null })
      if (converted.totalRecords !== null && converted.totalRecords > converted.records) {
        return yield* new RunUnreadable({
          location: converted.source,
          reason: `it is one page (${converted.records} of ${converted.totalRecords} rows); a CSV of the dataset needs all of them — ` +
            "omit s3_json_path to fetch the whole dataset, or give a complete run"
        })
      }
      const target = yield* store.keyOf(converted.target)
      return {
        statsDataId: converted.statsDataId,
        runId: target.split("/").at(-1)!.replace(/\.parquet$/, ""),
        location: converted.source,
        manifest: null,
        note: null,
        subset: null,
        csv: { parts: [target], columns: converted.columns, expectedRows: converted.records }
      } satisfies CsvSource
    }
    const run = yield* resolveRun(location)
    return fromRun(run.manifest, store.uri(run.manifestKey), run.note)
  })

export const saveDatasetAsCsv = Tool.make({
  name: "save_dataset_as_csv",
  title: "Save a dataset as CSV",
  description:
    "Writes a complete dataset as one CSV in storage (UTF-8 with BOM, header, code and label columns), from a complete run " +
    "or fetched now. Result: the run used, row count, columns, location, download_url. Next: " +
    "download_csv_from_s3 for a fresh link or the content inline.",
  input: Input,
  output: Output,
  task: { runsLong: "always" },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  links: (out) => [{ uri: out.location, name: out.location.split("/").at(-1) ?? out.location, mimeType: "text/csv", size: out.size_bytes }],
  summarize: (out) =>
    (out.run_note === null ? "" : `${out.run_note} `) +
    `Saved ${out.records_count} rows${out.subset === null ? "" : ` (${out.subset})`} as CSV. ` +
    "Next: download_csv_from_s3 for a fresh link or the content.",
  summaryStates: ["run_note", "records_count", "subset"],
  run: (input) =>
    Effect.gen(function* () {
      const store = yield* ObjectStore
      const source = input.s3_json_path === undefined ? yield* freshRun(input.dataset_id) : yield* storedSource(input.s3_json_path)
      if (source.statsDataId !== input.dataset_id) {
        return yield* new RunUnreadable({
          location: source.location,
          reason: `it holds dataset ${source.statsDataId}, not ${input.dataset_id}`
        })
      }
      const fileName = (input.output_filename === undefined ? null : sanitizeFileName(input.output_filename, ".csv")) ??
        `${source.statsDataId}_${source.runId}.csv`
      const key = `csv/${source.statsDataId}/${source.runId}/${fileName}`
      const csv = yield* runToCsv({ ...source.csv, key, includeLabels: input.include_labels, lineEnd: input.line_ending === "crlf" ? "\r\n" : "\n" })
      const download = yield* store.downloadUrl(key, { expiresInSeconds: 3600, fileName })
      return {
        dataset_id: source.statsDataId,
        run_id: source.runId,
        run_manifest: source.manifest,
        run_note: source.note,
        records_count: csv.rows,
        columns: csv.columns.map((c) => c.name),
        location: store.uri(key),
        download_url: download.url,
        download_scope: downloadScope(download.url, "location"),
        expires_at: download.expiresAt?.toISOString() ?? null,
        size_bytes: csv.size,
        subset: source.subset
      }
    })
})
