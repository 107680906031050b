import { Effect, Option, Ref, Schema } from "effect"
import { Transferable } from "@effect/platform"
import { missingDimensions, rowBuilder } from "../../domain/rows.js"
import { makeCpuPacer } from "../CpuPacer.js"
import { writeCsvFile } from "../csvFile.js"
import { BodyRejected, pageOfBytes, yieldToEventLoop } from "../estat/bodies.js"
import { DimensionSchema } from "../estat/schema.js"

/**
 * A data page's body, from its bytes to its rows as a CSV file for DuckDB, with what the run keeps
 * of it (counts, the NOTE legend, annotations, sample rows). The same program runs in the page
 * worker thread (src/pageWorker.ts) and, where no thread is wanted, on the calling one.
 */

/** The rows' shape (rows.ts's RowShape). */
const RowShape = Schema.Struct({ statsDataId: Schema.String, dimensions: Schema.Array(DimensionSchema), withLabels: Schema.Boolean })

const CellValue = Schema.NullOr(Schema.Union(Schema.String, Schema.Number))

/** What the run keeps of a page; the page itself stays where it was decoded. */
export const PageSummary = Schema.Struct({
  totalNumber: Schema.Number,
  cells: Schema.Number,
  /** Dimensions of the metadata the cells lack (a page that does not belong to the table). */
  missingDimensions: Schema.Array(Schema.String),
  notes: Schema.Array(Schema.Struct({ char: Schema.String, text: Schema.String })),
  annotations: Schema.Array(Schema.Struct({ code: Schema.String, text: Schema.String })),
  sampleRows: Schema.Array(Schema.Record({ key: Schema.String, value: CellValue })),
  /** Whether the CSV was written: only for a page of the expected size whose cells have every dimension. */
  written: Schema.Boolean
})
export type PageSummary = typeof PageSummary.Type

/** The page could not be written (the CSV file), or its worker thread failed. */
export class PageWriterFailed extends Schema.TaggedError<PageWriterFailed>()("PageWriterFailed", { reason: Schema.String }) {
  override get message() {
    return `the page could not be converted: ${this.reason}`
  }
}

/** The body's pieces move to the worker thread (their buffers transferred, not copied). */
const Body = Transferable.schema(Schema.Array(Schema.Uint8ArrayFromSelf), (pieces) => new Set(pieces.map((piece) => piece.buffer)))

export class WritePage extends Schema.TaggedRequest<WritePage>()("WritePage", {
  failure: Schema.Union(BodyRejected, PageWriterFailed),
  success: PageSummary,
  payload: {
    body: Body,
    httpStatus: Schema.Number,
    shape: RowShape,
    /** The cells a full page has: a page with fewer is not written. */
    expectedCells: Schema.Number,
    /** The first page, asked for before the count was known: it has no more cells than the table's TOTAL_NUMBER. */
    atMostTotal: Schema.Boolean,
    sampleSize: Schema.Number,
    /** Where the rows go as CSV; null: checked and sampled only. */
    csv: Schema.NullOr(Schema.String),
    /** The process's CPU budget for background work (vCPU, CpuPacer); null: not paced. */
    cpuBudget: Schema.NullOr(Schema.Number)
  }
}) {}

/** How many pages are being converted now (where the jobs run). */
export class CountRunning extends Schema.TaggedRequest<CountRunning>()("CountRunning", {
  failure: Schema.Never,
  success: Schema.Number,
  payload: {}
}) {}

/** What the page worker thread is asked. */
export const PageWorkerRequest = Schema.Union(WritePage, CountRunning)

/** A WritePage's fields. */
export type PageJob = Omit<Schema.Struct.Type<typeof WritePage.fields>, "_tag">

/** What a caller says of a page (the page writer adds the CPU budget). */
export type PageOrder = Omit<PageJob, "cpuBudget">

/** The requests' handlers, jobs counted while they run: a worker thread's, or the calling thread's. */
export const makeHandlers = Effect.map(Ref.make(0), (running) => ({
  WritePage: (job: PageJob) =>
    Effect.acquireUseRelease(Ref.update(running, (n) => n + 1), () => writePage(job), () => Ref.update(running, (n) => n - 1)),
  CountRunning: () => Ref.get(running)
}))

/**
 * The job itself (a fiber of the worker: interrupted when its caller is), paced between the pieces
 * of its VALUE and the chunks of its CSV when it has a CPU budget (the meter is the process's CPU,
 * which the worker thread reads as well as the event loop's).
 */
export const writePage = (job: PageJob): Effect.Effect<PageSummary, BodyRejected | PageWriterFailed> =>
  Effect.gen(function* () {
    const pacer = job.cpuBudget === null ? Option.none() : Option.some(yield* makeCpuPacer(job.cpuBudget))
    const turn = Option.match(pacer, { onNone: () => Effect.void, onSome: (paced) => paced.turn })
    const page = yield* pageOfBytes(job.body, job.httpStatus, Effect.zipRight(yieldToEventLoop, turn))
    const rows = rowBuilder(job.shape)
    const missing = missingDimensions(job.shape.dimensions, page.cells)
    const expected = job.atMostTotal ? Math.min(job.expectedCells, page.totalNumber) : job.expectedCells
    const complete = page.cells.count === expected && missing.length === 0
    if (complete && job.csv !== null) yield* writeCsvFile(rows.csv(page.cells, page.annotations), job.csv, (reason) => new PageWriterFailed({ reason }), turn)
    return {
      totalNumber: page.totalNumber,
      cells: page.cells.count,
      missingDimensions: missing,
      notes: page.notes,
      annotations: page.annotations,
      sampleRows: missing.length === 0 ? rows.sample(page, job.sampleSize) : [],
      written: complete && job.csv !== null
    }
  })

