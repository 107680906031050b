import { Effect, Schema } from "effect"
import { RunId } from "../domain/runs.js"
import * as Tool from "../mcp/tool.js"
import { withDefault } from "../mcp/tool.js"
import {
  ConvertToJapanese, DatasetId, fetchToolTraits, fetchWholeTable, Force, MaxRecords, runOutputFields, SaveToS3, summarizeRun, withRunOutput
} from "../pipeline/datasetRun.js"

const Input = Schema.Struct({
  dataset_id: DatasetId,
  max_records: MaxRecords,
  chunk_size: withDefault(Schema.Int.pipe(Schema.between(1, 100_000)), 100_000, "Rows per e-Stat request (page)."),
  concurrency: withDefault(Schema.Int.pipe(Schema.between(1, 8)), 4, "Pages fetched in parallel."),
  save_to_s3: SaveToS3,
  convert_to_japanese: ConvertToJapanese,
  resume_run_id: Schema.optional(RunId.annotations({
    description: "A partial run to finish (an error named it): only its missing pages are fetched, into it. Keep the other arguments."
  })),
  force: Force
})

const Output = Schema.Struct({
  ...runOutputFields,
  chunks_total: Schema.Int,
  chunks_retrieved: Schema.Int,
  /** Pages already in the run before this call (resume). */
  chunks_reused: Schema.Int,
  chunks_failed: Schema.Array(Schema.Int)
})

export const fetchLargeDatasetComplete = Tool.make({
  name: "fetch_large_dataset_complete",
  title: "Fetch a large e-Stat table with explicit control",
  description:
    "fetch_dataset_auto with control for tables of millions of rows: page size, pages in parallel, a row cap, resume_run_id " +
    "to finish a partial run. Memory stays bounded; cancelling leaves the run partial. Result and next steps as fetch_dataset_auto.",
  input: Input,
  output: Output,
  ...fetchToolTraits,
  summarize: (output) =>
    summarizeRun(output) + (output.chunks_reused > 0 ? ` Resumed: ${output.chunks_reused} page(s) were already stored.` : ""),
  run: (input) =>
    Effect.map(
      withRunOutput(fetchWholeTable({
        statsDataId: input.dataset_id,
        maxRecords: input.max_records,
        pageSize: input.chunk_size,
        concurrency: input.concurrency,
        withLabels: input.convert_to_japanese,
        store: input.save_to_s3,
        resumeRunId: input.resume_run_id,
        force: input.force
      })),
      ({ outcome, output }) => ({
        ...output,
        chunks_total: outcome.pagesTotal,
        chunks_retrieved: outcome.pagesFetchedNow,
        chunks_reused: outcome.pagesTotal - outcome.pagesFetchedNow,
        chunks_failed: (outcome.manifest?.failed_pages ?? []).map((page) => page.index)
      })
    )
})
