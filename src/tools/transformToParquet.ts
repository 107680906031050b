import { Effect, Schema } from "effect"
import * as Tool from "../mcp/tool.js"
import { transformToParquet as transform } from "../pipeline/transform.js"
import { datasetToRun } from "../pipeline/runReference.js"

const Input = Schema.Struct({
  s3_json_path: Schema.String.pipe(Schema.minLength(1)).annotations({
    description:
      "What to convert, as a storage key or URI: a saved e-Stat getStatsData JSON page (also .json.gz; a bare VALUE array in " +
      "a folder named by its dataset id, e.g. raw/0003445078/page.json), or a complete run (its manifest.json or folder; " +
      "a dataset folder or bare dataset id means its latest complete run)."
  }),
  data_type: Schema.optional(Schema.String.pipe(Schema.maxLength(100)).annotations({ description: "A label of your own, echoed in the result." })),
  output_prefix: Schema.optional(Schema.String.pipe(Schema.minLength(1), Schema.maxLength(300)).annotations({
    description: "Storage folder for the output (default transformed/<dataset_id>/); the file gets a new name."
  }))
})

const Output = Schema.Struct({
  source_path: Schema.String,
  /** The run converted (source_path is its manifest), or null for a saved page. */
  run_id: Schema.NullOr(Schema.String),
  target_path: Schema.String,
  target_paths: Schema.Array(Schema.String),
  dataset_id: Schema.String,
  records_processed: Schema.Int,
  /** Rows the source's query matches on e-Stat, when the source says; more than records_processed for one page of several. */
  source_total_records: Schema.NullOr(Schema.Int),
  columns: Schema.Array(Schema.Struct({ name: Schema.String, type: Schema.String })),
  data_type: Schema.NullOr(Schema.String),
  /** How a dataset reference became its latest run; null when a page or run was named. */
  run_note: Schema.NullOr(Schema.String)
})

export const transformToParquet = Tool.make({
  name: "transform_to_parquet",
  title: "Convert saved e-Stat JSON or a run to Parquet",
  description:
    "Converts a saved e-Stat JSON page into one zstd Parquet file in the row schema of the fetch tools, or merges a complete " +
    "run's parts into one file. Never overwrites its input. Result: target_path, row count, columns.",
  input: Input,
  output: Output,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  links: (out) => out.target_paths.map((uri) => ({ uri, name: uri.split("/").at(-1) ?? uri, mimeType: "application/vnd.apache.parquet" })),
  summarize: (out) =>
    (out.run_note === null ? "" : `${out.run_note} `) +
    // "all": the source's total is the count written (source_total_records, said here once).
    `Wrote ${out.source_total_records === out.records_processed ? "all " : ""}${out.records_processed} rows of ${out.dataset_id} to one Parquet file.` +
    (out.source_total_records !== null && out.source_total_records > out.records_processed
      ? ` The source is one page: e-Stat has ${out.source_total_records} rows for this query (fetch_dataset_auto gets them all).`
      : ""),
  summaryStates: ["run_note", "records_processed", "dataset_id", "source_total_records"],
  run: (input) =>
    Effect.gen(function* () {
      const source = yield* datasetToRun(input.s3_json_path)
      const outcome = yield* transform({ location: source.location, outputPrefix: input.output_prefix ?? null })
      return {
        source_path: outcome.source,
        run_id: outcome.runId,
        target_path: outcome.target,
        target_paths: [outcome.target],
        dataset_id: outcome.statsDataId,
        records_processed: outcome.records,
        source_total_records: outcome.totalRecords,
        columns: outcome.columns,
        data_type: input.data_type ?? null,
        run_note: source.note
      }
    })
})
