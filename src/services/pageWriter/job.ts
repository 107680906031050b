import { Effect, Option, Ref, Schema } from "effect"
import { Transferable } from "@effect/platform"
import { missingDimensions, rowBuilder } from "../../domain/rows.js"
import { makeCpuPacer } from "../CpuPacer.js"
import { type CsvFile, openCsvFile, removeFile } from "../csvFile.js"
import { BodyRejected, streamPageOfBytes, yieldToEventLoop } from "../estat/bodies.js"
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
 * The job itself (a fiber of the worker: interrupted when its caller is), paced before each piece
 * of its VALUE when it has a CPU budget (the meter is the process's CPU, which the worker thread
 * reads as well as the event loop's). Each piece's cells go to the CSV as they are read: nothing of
 * the page outlives its piece but the sample. A page that turns out incomplete, or that fails,
 * leaves no CSV behind.
 */
export const writePage = (job: PageJob): Effect.Effect<PageSummary, BodyRejected | PageWriterFailed> =>
  Effect.gen(function* () {
    const pacer = job.cpuBudget === null ? Option.none() : Option.some(yield* makeCpuPacer(job.cpuBudget))
    const turn = Option.match(pacer, { onNone: () => Effect.void, onSome: (paced) => paced.turn })
    const rows = rowBuilder(job.shape)
    const path = job.csv
    const read = Effect.gen(function* () {
      const csv = path === null ? null : yield* openCsvFile(path, failed)
      const seen = { cells: 0, missing: null as ReadonlyArray<string> | null, sample: [] as PageSummary["sampleRows"] }
      const encoder = rows.csvEncoder()
      const head = yield* streamPageOfBytes(job.body, job.httpStatus, {
        // Not an Effect.gen: in V8, a generator made while another runs (the page's loop) keeps what
        // it captures from dying young; as one, it had every piece's cells promoted (27 against
        // 2.5 MB over four pages, --trace-gc-nvp; README, responsiveness, ninth pass).
        cells: (cells, head) =>
          Effect.suspend(() => {
            if (cells.count === 0) return Effect.void
            // The page's axes are its first cell's: its first batch tells which dimensions it lacks.
            const missing = seen.missing ??= missingDimensions(job.shape.dimensions, cells)
            seen.cells += cells.count
            if (missing.length > 0) return Effect.void
            const wanted = job.sampleSize - seen.sample.length
            if (wanted > 0) seen.sample = [...seen.sample, ...rows.sample({ cells, annotations: head.annotations }, wanted)]
            return csv === null ? Effect.void : writeChunks(csv, encoder.add(cells, head.annotations))
          }),
        restart: Effect.suspend(() => {
          seen.cells = 0
          seen.missing = null
          seen.sample = []
          encoder.end()
          return csv === null ? Effect.void : csv.truncate
        })
      }, Effect.zipRight(yieldToEventLoop, turn), PIECE_BYTES)
      if (csv !== null) yield* csv.write(encoder.end())
      return { head, ...seen, missing: seen.missing ?? [] }
    }).pipe(Effect.scoped)
    // A failed page's CSV goes too (its caller's scratch space would remove it later in any case).
    const page = yield* path === null ? read : Effect.onError(read, () => Effect.ignoreLogged(removeFile(path, failed)))
    const expected = job.atMostTotal ? Math.min(job.expectedCells, page.head.totalNumber) : job.expectedCells
    const complete = page.cells === expected && page.missing.length === 0
    if (!complete && path !== null) yield* removeFile(path, failed)
    return {
      totalNumber: page.head.totalNumber,
      cells: page.cells,
      missingDimensions: page.missing,
      notes: page.head.notes,
      annotations: page.head.annotations,
      sampleRows: page.sample,
      written: complete && path !== null
    }
  })

const failed = (reason: string) => new PageWriterFailed({ reason })

/** Each chunk written before the next is made (the encoder reuses its buffer). */
const writeChunks = <E>(csv: CsvFile<E>, chunks: Iterator<Uint8Array>): Effect.Effect<void, E> =>
  Effect.suspend(() => {
    const next = chunks.next()
    return next.done === true ? Effect.void : Effect.zipRight(csv.write(next.value), writeChunks(csv, chunks))
  })

/**
 * How much of VALUE is parsed at a time. Small enough that a piece's text (up to twice its bytes
 * as a string) stays under V8's large-object size and dies in the young generation.
 */
export const PIECE_BYTES = 1 << 15
