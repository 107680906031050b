import { Effect, Schema } from "effect"
import * as Tool from "../mcp/tool.js"
import {
  ConvertToJapanese, DatasetId, fetchToolTraits, fetchWholeTable, MaxRecords, runOutputFields, SaveToS3, summarizeRun, withRunOutput
} from "./datasetRun.js"

const Input = Schema.Struct({
  dataset_id: DatasetId,
  save_to_s3: SaveToS3,
  convert_to_japanese: ConvertToJapanese,
  max_records: MaxRecords
})

export const fetchDatasetAuto = Tool.make({
  name: "fetch_dataset_auto",
  title: "Fetch a whole e-Stat table",
  description:
    "Fetches a whole e-Stat table, however many pages it has, into storage as Parquet (one part per page, plus manifest.json): " +
    "one row per cell with a code and a Japanese label column per dimension, time_year/time_month/time_quarter, unit, value (number, " +
    "null for suppressed cells), value_raw and annotation. Reports progress per page. Succeeds only when every row is stored; " +
    "otherwise the error names the run to resume with fetch_large_dataset_complete.",
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
        store: input.save_to_s3
      })),
      ({ output }) => output
    )
})
