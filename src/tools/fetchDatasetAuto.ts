import { Effect, Schema } from "effect"
import * as Tool from "../mcp/tool.js"
import {
  ConvertToJapanese, DatasetId, fetchToolTraits, fetchWholeTable, Force, MaxRecords, runOutputFields, SaveToS3, summarizeRun, withRunOutput
} from "../pipeline/datasetRun.js"

const Input = Schema.Struct({
  dataset_id: DatasetId,
  save_to_s3: SaveToS3,
  convert_to_japanese: ConvertToJapanese,
  max_records: MaxRecords,
  force: Force
})

export const fetchDatasetAuto = Tool.make({
  name: "fetch_dataset_auto",
  title: "Fetch a whole e-Stat table",
  description:
    "Fetches a whole e-Stat table (every page) into storage as a run (Parquet parts + manifest.json), a row per cell: code and " +
    "label columns per dimension, time parts, unit, value (null if suppressed), value_raw, annotation. Result: " +
    "run_id, counts, dimensions, 5 sample rows, storage. Next: load_to_iceberg then analyze_with_athena, or save_dataset_as_csv. " +
    "A failure names the run to resume with fetch_large_dataset_complete.",
  input: Input,
  output: Schema.Struct(runOutputFields),
  ...fetchToolTraits,
  summarize: summarizeRun,
  run: (input) =>
    Effect.map(
      withRunOutput(fetchWholeTable({
        statsDataId: input.dataset_id,
        maxRecords: input.max_records,
        withLabels: input.convert_to_japanese,
        store: input.save_to_s3,
        force: input.force
      })),
      ({ output }) => output
    )
})
