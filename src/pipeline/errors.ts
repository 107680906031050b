import { Schema } from "effect"

/** A run that stopped before holding every expected row; what it has is kept and resumable. */
export class RunIncomplete extends Schema.TaggedError<RunIncomplete>()("RunIncomplete", {
  statsDataId: Schema.String,
  runId: Schema.String,
  recordsFetched: Schema.Int,
  expectedRecords: Schema.Int,
  pagesDone: Schema.Int,
  pagesTotal: Schema.Int,
  reason: Schema.String,
  manifest: Schema.NullOr(Schema.String)
}) {
  override get message() {
    const kept = this.manifest === null
      ? "Nothing was stored."
      : `The run is recorded as partial in ${this.manifest}; call fetch_large_dataset_complete with ` +
        `dataset_id "${this.statsDataId}" and resume_run_id "${this.runId}" to fetch only the missing pages.`
    return `Dataset ${this.statsDataId} is incomplete: ${this.recordsFetched} of ${this.expectedRecords} rows ` +
      `(${this.pagesDone} of ${this.pagesTotal} pages). ${this.reason} ${kept}`
  }
}

/** `resume_run_id` names a run that cannot be continued by this request. */
export class RunNotResumable extends Schema.TaggedError<RunNotResumable>()("RunNotResumable", {
  runId: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `Run ${this.runId} cannot be resumed: ${this.reason}`
  }
}

/** e-Stat answered a page with fewer or more rows than it had counted. */
export class PageShort extends Schema.TaggedError<PageShort>()("PageShort", {
  index: Schema.Int,
  startPosition: Schema.Int,
  limit: Schema.Int,
  received: Schema.Int
}) {
  override get message() {
    return `e-Stat returned ${this.received} rows for page ${this.index} (rows ${this.startPosition}–` +
      `${this.startPosition + this.limit - 1}); the table may have changed during the run.`
  }
}

/** A location that should hold a run does not hold a usable one. */
export class RunUnreadable extends Schema.TaggedError<RunUnreadable>()("RunUnreadable", {
  location: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `${this.location} cannot be used: ${this.reason}.`
  }
}
