import { Effect, Schema } from "effect"
import { AppConfig } from "../config.js"
import * as Tool from "../mcp/tool.js"
import { fetchDataset } from "../pipeline/fetchDataset.js"
import {
  ConvertToJapanese, DatasetId, MaxRecords, progressReporter, runLinks, runOutput, runOutputFields, SaveToS3, summarizeRun
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
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  links: runLinks,
  summarize: summarizeRun,
  run: (input) =>
    Effect.gen(function* () {
      const config = yield* AppConfig
      const startedAt = Date.now()
      const outcome = yield* fetchDataset({
        statsDataId: input.dataset_id,
        narrowing: {},
        maxRecords: input.max_records ?? null,
        pageSize: config.estatPageSize,
        concurrency: config.estatConcurrency,
        withLabels: input.convert_to_japanese,
        store: input.save_to_s3,
        resumeRunId: null,
        onProgress: yield* progressReporter
      })
      return runOutput(outcome, startedAt)
    })
})
