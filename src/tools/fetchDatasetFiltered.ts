import { Clock, Effect, Schema } from "effect"
import { AppConfig } from "../config.js"
import { FilterValue, resolveFilters } from "../domain/filters.js"
import * as Tool from "../mcp/tool.js"
import { EStat } from "../services/estat/EStat.js"
import {
  ConvertToJapanese, DatasetId, fetchToolTraits, Force, progressReporter, runOutputFields, SaveToS3, summarizeRun, withRunOutput
} from "../pipeline/datasetRun.js"
import { fetchUnlessCurrent } from "../pipeline/reuse.js"

const Filters = Schema.Record({ key: Schema.String, value: FilterValue }).pipe(
  Schema.filter((filters) => Object.keys(filters).length > 0 || "filters must be at least one dimension id → value", {
    jsonSchema: { minProperties: 1 },
    description:
      "Dimension id (tab, cat01…cat15, area, time; or its name) → a code or exact label (\"13000\" or \"東京都\"), " +
      "a list of codes/labels (at most 100), a range {\"from\": code|label, \"to\": code|label}, or a hierarchy level {\"level\": 2} / {\"level\": \"1-2\"}. " +
      "For time, a year or month also works: \"2022\", {\"from\": \"2020-04\"}.",
    examples: [{ area: "東京都" }]
  })
)

const Input = Schema.Struct({
  dataset_id: DatasetId,
  filters: Filters,
  save_to_s3: SaveToS3,
  convert_to_japanese: ConvertToJapanese,
  force: Force
})

const AppliedFilter = Schema.Struct({
  dimension: Schema.String,
  name: Schema.String,
  codes: Schema.Array(Schema.Struct({ code: Schema.String, label: Schema.String })),
  from: Schema.NullOr(Schema.String),
  to: Schema.NullOr(Schema.String),
  level: Schema.NullOr(Schema.String),
  /** How a year or month given for time was read, or null. */
  note: Schema.NullOr(Schema.String)
})

const Output = Schema.Struct({
  ...runOutputFields,
  filters_applied: Schema.Array(AppliedFilter),
  /** Rows of the whole table, unfiltered. */
  dataset_total_records: Schema.Int,
  filtered_records: Schema.Int
})

export const fetchDatasetFiltered = Tool.make({
  name: "fetch_dataset_filtered",
  title: "Fetch part of an e-Stat table",
  description:
    "Fetches the rows of an e-Stat table matching filters on its dimensions into a run, as fetch_dataset_auto does. Filters are " +
    "checked against the table's metadata; an unknown dimension or value is an error listing close matches. Result and next steps " +
    "as fetch_dataset_auto, plus filters_applied and the filtered count beside the table's total.",
  input: Input,
  output: Output,
  ...fetchToolTraits,
  summarize: (output) =>
    `The filters keep ${output.filtered_records.toLocaleString("en")} of the table's ${output.dataset_total_records.toLocaleString("en")} rows. ` + summarizeRun(output),
  run: (input) =>
    Effect.gen(function* () {
      const config = yield* AppConfig
      const estat = yield* EStat
      const startedAt = yield* Clock.currentTimeMillis
      const meta = yield* estat.getMetaInfo(input.dataset_id)
      const filters = yield* resolveFilters(meta.dimensions, input.filters)
      // The table's size is in its metadata (OVERALL_TOTAL_NUMBER); counted beside the fetch only when e-Stat left it out.
      const fetched = withRunOutput(fetchUnlessCurrent({
        statsDataId: input.dataset_id,
        narrowing: filters.narrowing,
        maxRecords: null,
        pageSize: config.estatPageSize,
        concurrency: config.estatConcurrency,
        withLabels: input.convert_to_japanese,
        store: input.save_to_s3,
        resumeRunId: null,
        meta,
        onProgress: yield* progressReporter
      }, { force: input.force }), startedAt)
      const [{ outcome, output }, datasetTotal] = yield* Effect.all([
        fetched,
        meta.table.totalRecords === null ? estat.countRecords({ statsDataId: input.dataset_id }) : Effect.succeed(meta.table.totalRecords)
      ], { concurrency: 2 })
      return {
        ...output,
        filters_applied: filters.applied,
        dataset_total_records: datasetTotal,
        filtered_records: outcome.totalRecords
      }
    })
})
