import { randomBytes } from "node:crypto"
import { Schema } from "effect"

/**
 * A run: one fetch of one dataset query into storage (ARCHITECTURE §4.4–4.5). Its manifest is
 * written first (partial: the query, the totals, the pages planned), so a run killed at any moment
 * can be resumed; its Parquet parts are written as pages arrive, and the manifest again every few
 * pages and last, saying what the run holds.
 */

/** Sortable and unique: UTC timestamp to the millisecond (`now`, from Clock) + 6 random hex digits (`20261126T031500123Z-a1b2c3`). */
export const newRunId = (now: number) =>
  `${new Date(now).toISOString().replace(/[-:]/g, "").replace(".", "")}-${randomBytes(3).toString("hex")}`

const RUN_ID = /^\d{8}T\d{9}Z-[0-9a-f]{6}$/

export const RunId = Schema.String.pipe(
  Schema.pattern(RUN_ID, { message: () => "a run id looks like 20261126T031500123Z-a1b2c3" })
)

export const isRunId = (name: string) => RUN_ID.test(name)

/** e-Stat's statsDataId: 10 digits. */
export const STATS_DATA_ID = /^\d{10}$/
export const datasetPrefix = (statsDataId: string) => `datasets/${statsDataId}/`
export const runPrefix = (statsDataId: string, runId: string) => `${datasetPrefix(statsDataId)}${runId}/`
export const partKey = (statsDataId: string, runId: string, page: number) =>
  `${runPrefix(statsDataId, runId)}part-${String(page).padStart(5, "0")}.parquet`
export const manifestKey = (statsDataId: string, runId: string) => `${runPrefix(statsDataId, runId)}manifest.json`

const PageEntry = Schema.Struct({
  index: Schema.Int,
  start_position: Schema.Int,
  rows: Schema.Int,
  key: Schema.String
})

const FailedPage = Schema.Struct({
  index: Schema.Int,
  start_position: Schema.Int,
  error: Schema.String
})

export const RunStatus = Schema.Literal("complete", "partial", "failed")

export const Manifest = Schema.Struct({
  manifest_version: Schema.Literal(1),
  stats_data_id: Schema.String,
  run_id: Schema.String,
  status: RunStatus,
  title: Schema.String,
  query: Schema.Struct({
    /** e-Stat narrowing parameters (`cdCat01`, `lvArea` …); empty for the whole table. */
    narrowing: Schema.Record({ key: Schema.String, value: Schema.String }),
    page_size: Schema.Int,
    max_records: Schema.NullOr(Schema.Int),
    with_labels: Schema.Boolean
  }),
  /** Rows the query matches on e-Stat (TOTAL_NUMBER). */
  total_records: Schema.Int,
  /** Rows this run is meant to hold: total_records, or max_records when smaller. */
  expected_records: Schema.Int,
  records_fetched: Schema.Int,
  pages_total: Schema.Int,
  pages: Schema.Array(PageEntry),
  failed_pages: Schema.Array(FailedPage),
  dimensions: Schema.Array(Schema.Struct({ id: Schema.String, name: Schema.String, item_count: Schema.Int })),
  columns: Schema.Array(Schema.Struct({ name: Schema.String, type: Schema.Literal("VARCHAR", "INTEGER", "DOUBLE") })),
  /** e-Stat's legend of special characters (NOTE) and annotations seen in the data. */
  notes: Schema.Array(Schema.Struct({ char: Schema.String, text: Schema.String })),
  annotations: Schema.Array(Schema.Struct({ code: Schema.String, text: Schema.String })),
  created_at: Schema.String,
  finished_at: Schema.String,
  error: Schema.NullOr(Schema.String),
  /** e-Stat's UPDATED_DATE of the table when it was fetched: a later fetch of the same query reuses the run while it is unchanged. */
  estat_updated_date: Schema.optional(Schema.String),
  /** The first rows, labelled: what a fetch answering with this run shows. */
  sample_rows: Schema.optional(Schema.Array(Schema.Record({ key: Schema.String, value: Schema.NullOr(Schema.Union(Schema.String, Schema.Number)) })))
})
export type Manifest = typeof Manifest.Type

export const ManifestJson = Schema.parseJson(Manifest)
