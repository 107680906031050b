import { Clock, Effect, Schema } from "effect"
import { ToolContext, withDefault } from "../mcp/tool.js"
import { AppConfig } from "../config.js"
import { STATS_DATA_ID } from "../domain/runs.js"
import type { FetchOutcome, FetchProgress } from "./fetchDataset.js"
import { fetchUnlessCurrent } from "./reuse.js"

/** Arguments and output shared by the three fetch tools (TOOLS.md §3–5). */

export const DatasetId = Schema.String.pipe(
  Schema.pattern(STATS_DATA_ID, { message: () => "dataset_id must be e-Stat's 10-digit statsDataId (search_estat_data finds one)" })
).annotations({ description: "e-Stat statsDataId (10 digits), from search_estat_data.", examples: ["0003410379"] })

export const SaveToS3 = withDefault(
  Schema.Boolean,
  true,
  "Store the run (S3 on aws, DATA_DIR locally). false: fetch and check every page, store nothing."
)

export const ConvertToJapanese = withDefault(
  Schema.Boolean,
  true,
  "Add a Japanese label column `<dimension>_name` beside each `<dimension>_code`."
)

export const MaxRecords = Schema.optional(
  Schema.Int.pipe(Schema.positive()).annotations({ description: "Fetch at most this many rows (e-Stat's first ones). Default: all." })
)

export const Force = withDefault(Schema.Boolean, false, "Refetch even if a stored run of this query is current.")

const Cell = Schema.NullOr(Schema.Union(Schema.String, Schema.Number))

export const runOutputFields = {
  dataset_id: Schema.String,
  title: Schema.String,
  run_id: Schema.String,
  /** Rows the run holds by design: the table's (or filter's) total, or max_records when smaller. */
  expected_records: Schema.Int,
  records_fetched: Schema.Int,
  complete: Schema.Boolean,
  pages: Schema.Int,
  dimensions: Schema.Array(Schema.Struct({ id: Schema.String, name: Schema.String, item_count: Schema.Int })),
  columns: Schema.Array(Schema.Struct({ name: Schema.String, type: Schema.String })),
  sample_rows: Schema.Array(Schema.Record({ key: Schema.String, value: Cell })),
  storage: Schema.NullOr(Schema.Struct({ manifest: Schema.String, parquet_prefix: Schema.String })),
  elapsed_seconds: Schema.Number,
  /** true: a stored run of this query answered, the table being unchanged on e-Stat (nothing fetched). */
  reused: Schema.Boolean,
  fetched_at: Schema.String,
  estat_updated_date: Schema.String,
  /** What changed on e-Stat since the run of this query this one replaces (update date, rows), or null. */
  changed: Schema.NullOr(Schema.String)
}

const runOutput = (outcome: FetchOutcome, elapsedMs: number) => ({
  dataset_id: outcome.meta.table.statsDataId,
  title: outcome.meta.table.title,
  run_id: outcome.runId,
  expected_records: outcome.expectedRecords,
  records_fetched: outcome.recordsFetched,
  complete: outcome.recordsFetched === outcome.expectedRecords,
  pages: outcome.pagesTotal,
  dimensions: outcome.meta.dimensions.map((d) => ({ id: d.id, name: d.name, item_count: d.items.length })),
  columns: outcome.columns,
  sample_rows: outcome.sampleRows,
  storage: outcome.storage === null ? null : { manifest: outcome.storage.manifest, parquet_prefix: outcome.storage.parquetPrefix },
  elapsed_seconds: Math.round(elapsedMs / 100) / 10,
  reused: outcome.reused,
  fetched_at: outcome.fetchedAt,
  estat_updated_date: outcome.meta.table.updatedDate,
  changed: outcome.replaces === null
    ? null
    : `since run ${outcome.replaces.runId}: updated ${outcome.replaces.updatedDate ?? "(not recorded)"} → ${outcome.meta.table.updatedDate}, ` +
      `${outcome.replaces.totalRecords.toLocaleString("en")} → ${outcome.totalRecords.toLocaleString("en")} rows`
})

/** A run with the tool output every fetch tool shares, timed from `startedAt` (default: when the run starts). */
export const withRunOutput = <E, R>(run: Effect.Effect<FetchOutcome, E, R>, startedAt?: number) =>
  Effect.gen(function* () {
    const from = startedAt ?? (yield* Clock.currentTimeMillis)
    const outcome = yield* run
    return { outcome, output: runOutput(outcome, (yield* Clock.currentTimeMillis) - from) }
  })

/** Page progress as MCP progress notifications (a no-op when the call has no progressToken). */
export const progressReporter = Effect.map(ToolContext, (context) => (progress: FetchProgress) =>
  progress.waiting === true
    ? context.log("info", "waiting for a free run slot: other datasets are being fetched (ESTAT_MAX_CONCURRENT_RUNS)")
    : context.progress({
      progress: progress.pagesDone,
      total: progress.pagesTotal,
      message: `page ${progress.pagesDone}/${progress.pagesTotal}: ${progress.recordsFetched.toLocaleString("en")} of ${progress.expectedRecords.toLocaleString("en")} rows`,
      runId: progress.runId
    }))

/**
 * The pipeline over a whole table (no filters) for a tool call: progress goes to the client;
 * page size and concurrency default to ESTAT_PAGE_SIZE / ESTAT_CONCURRENCY.
 */
export const fetchWholeTable = (options: {
  readonly statsDataId: string
  readonly maxRecords?: number | undefined
  readonly pageSize?: number | undefined
  readonly concurrency?: number | undefined
  readonly withLabels: boolean
  readonly store: boolean
  readonly resumeRunId?: string | undefined
  /** Fetch even when a stored run of the same query is current (see reuse.ts). */
  readonly force?: boolean | undefined
}) =>
  Effect.gen(function* () {
    const config = yield* AppConfig
    return yield* fetchUnlessCurrent({
      statsDataId: options.statsDataId,
      narrowing: {},
      maxRecords: options.maxRecords ?? null,
      pageSize: options.pageSize ?? config.estatPageSize,
      concurrency: options.concurrency ?? config.estatConcurrency,
      withLabels: options.withLabels,
      store: options.store,
      resumeRunId: options.resumeRunId ?? null,
      onProgress: yield* progressReporter
    }, { force: options.force ?? false })
  })

/** The run's manifest as a resource the client can read. */
export const runLinks = (output: { readonly storage: { readonly manifest: string } | null }) =>
  output.storage === null ? [] : [{ uri: output.storage.manifest, name: "manifest.json", mimeType: "application/json" }]

/** What the three fetch tools share: they write runs (not read-only, not idempotent) from e-Stat, link the manifest, and may take minutes. */
export const fetchToolTraits = {
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  links: runLinks,
  task: { runsLong: "always" }
} as const

/** The first line of a fetch result: what was fetched, where the rest of the rows are, what to call next. */
export const summarizeRun = (output: {
  readonly dataset_id: string
  readonly run_id: string
  readonly records_fetched: number
  readonly pages: number
  readonly sample_rows: ReadonlyArray<unknown>
  readonly storage: { readonly manifest: string } | null
  readonly reused: boolean
  readonly fetched_at: string
  readonly estat_updated_date: string
  readonly changed: string | null
}) =>
  (output.reused
    ? `Reused run ${output.run_id} fetched at ${output.fetched_at}: e-Stat's table is unchanged since (updated ${output.estat_updated_date}), ` +
      `so nothing was fetched (force: true fetches anew). It holds ${output.records_fetched.toLocaleString("en")} rows; `
    : `Fetched ${output.records_fetched === 1 ? "the only row" : `all ${output.records_fetched.toLocaleString("en")} rows`} ` +
      `in ${output.pages} page(s) as a run; `) +
  `sample_rows shows ${output.sample_rows.length} of them. ` +
  (output.changed === null ? "" : "The table changed on e-Stat since the last run of this query (see changed): load_to_iceberg with mode replace swaps this run in. ") +
  (output.storage === null
    ? "Nothing was stored (save_to_s3: false): fetch again with save_to_s3 true to analyse or export the rows."
    : "For every row: load_to_iceberg (s3_parquet_path = storage.parquet_prefix) then analyze_with_athena, or save_dataset_as_csv (s3_json_path = storage.manifest).")
