import { Cause, Clock, Deferred, Effect, Either, ExecutionStrategy, Exit, Option, Ref, Scope, Stream } from "effect"
import { type PageRequest, planPages, type TableMeta } from "../domain/estat.js"
import type { CellValue, ColumnSpec } from "../domain/rowBatch.js"
import { rowBuilder } from "../domain/rows.js"
import { Manifest, manifestKey, newRunId, partKey, runPrefix } from "../domain/runs.js"
import { DataEngine } from "../services/DataEngine.js"
import { EStat, type PageBodyReader, type ReceivedPage } from "../services/estat/EStat.js"
import { EStatPageFailed } from "../services/estat/errors.js"
import type { PageSummary, PageWriterFailed } from "../services/pageWriter/job.js"
import { PageWriter } from "../services/pageWriter/PageWriter.js"
import { RunSlots } from "../services/RunSlots.js"
import { ObjectStore, type StorageError, StorageFailure } from "../services/storage/ObjectStore.js"
import { PageShort, RunIncomplete, RunNotResumable } from "./errors.js"
import { removeUnlistedParts, sweepOrphanRuns } from "./leftovers.js"
import { indexRun } from "./runIndex.js"
import { readManifest } from "./runs.js"

/**
 * The dataset pipeline (ARCHITECTURE §4): metadata and the first page at once (its TOTAL_NUMBER
 * is the count: no count request), then a `partial` manifest (query, totals, pages planned)
 * before any other page is asked for, then the other pages in parallel, each
 * turned into rows and written as its own Parquet part as soon as it arrives, a checkpoint
 * manifest every few pages, and the manifest last — `complete` only when every expected row is
 * stored, `partial` (resumable) otherwise, also when the run fails, is cancelled or is killed.
 */

export interface FetchRequest {
  readonly statsDataId: string
  /** e-Stat narrowing parameters (`cdCat01`, `lvArea`, `cdTimeFrom` …). */
  readonly narrowing: Readonly<Record<string, string>>
  readonly maxRecords: number | null
  readonly pageSize: number
  readonly concurrency: number
  readonly withLabels: boolean
  /** false: fetch and verify every page, store nothing. */
  readonly store: boolean
  readonly resumeRunId: string | null
  /** The table's metadata when the caller already has it (filters are resolved against it first). */
  readonly meta?: TableMeta | undefined
  readonly onProgress: (progress: FetchProgress) => Effect.Effect<void>
}

export interface FetchProgress {
  /** Every run slot is taken: this run waits for one. */
  readonly waiting?: boolean
  readonly pagesDone: number
  readonly pagesTotal: number
  readonly recordsFetched: number
  readonly expectedRecords: number
  /** The run being stored, if it is: what a task cut short points its caller at to resume. */
  readonly runId?: string | undefined
}

export interface FetchOutcome {
  readonly runId: string
  /** true: an earlier complete run of the same query answered (see reuse.ts); nothing was fetched. */
  readonly reused: boolean
  /** When the run's rows were fetched (ISO). */
  readonly fetchedAt: string
  /** The earlier run of the same query this one replaces because the table changed on e-Stat, or null. */
  readonly replaces: ReplacedRun | null
  readonly meta: TableMeta
  readonly totalRecords: number
  readonly expectedRecords: number
  readonly recordsFetched: number
  readonly pagesTotal: number
  readonly pagesFetchedNow: number
  readonly columns: ReadonlyArray<ColumnSpec>
  readonly sampleRows: ReadonlyArray<Readonly<Record<string, CellValue>>>
  readonly storage: { readonly manifest: string; readonly parquetPrefix: string } | null
  readonly manifest: Manifest | null
}

export interface ReplacedRun {
  readonly runId: string
  readonly updatedDate: string | null
  readonly totalRecords: number
}

/** A page as the page writer left it: what the run keeps of it, and its CSV file (null when nothing is stored). */
interface ConvertedPage {
  readonly summary: PageSummary
  readonly csv: WrittenPage["csv"]
}

/** A page whose rows wait as a CSV file (null when nothing is stored) to become its Parquet part. */
interface WrittenPage {
  readonly request: PageRequest
  readonly rows: number
  readonly csv: { readonly path: string; readonly part: Scope.CloseableScope } | null
}

interface StoredPage {
  readonly index: number
  readonly start_position: number
  readonly rows: number
  readonly key: string
}

const SAMPLE_SIZE = 5
/** The reason a manifest written before the run's end gives, read by whoever finds the run killed. */
const IN_PROGRESS = "The run was in progress when this was recorded (if no process is running it, it was stopped): resume it to fetch the missing pages."
/** Pages between two checkpoint manifests. */
const CHECKPOINT_PAGES = 10
/** Pages of a run read or being read, handed to the page writer, not yet written as CSV. */
const PAGES_IN_MEMORY = 2
/** Pages of a run written as CSV, waiting for DuckDB or being converted and stored. */
const PARTS_WAITING = 2

/** The run in one of the process's run slots (waiting, with a progress note, when all are taken). */
export const fetchDataset = (request: FetchRequest) =>
  Effect.flatMap(Effect.all([RunSlots, Clock.currentTimeMillis]), ([slots, now]) => {
    const runId = request.resumeRunId ?? newRunId(now)
    const busy = () =>
      new RunNotResumable({
        runId,
        reason: "an earlier call on this server is still fetching it; wait for that call's result (a run is resumed once it has stopped)."
      })
    return slots.exclusive(
      runId,
      slots.withSlot(
        runFetch(request, runId),
        request.onProgress({ pagesDone: 0, pagesTotal: 0, recordsFetched: 0, expectedRecords: 0, waiting: true })
      ),
      busy
    )
  })

const runFetch = (request: FetchRequest, runId: string) =>
  Effect.gen(function* () {
    const estat = yield* EStat
    const store = yield* ObjectStore
    const engine = yield* DataEngine
    const writer = yield* PageWriter
    // Pages' CSV files live in parts of this scope until stored (or the run ends).
    const runScope = yield* Effect.scope
    const query = { statsDataId: request.statsDataId, narrowing: request.narrowing }
    // The page writer needs the table's dimensions: the first page, asked for with the metadata, waits for them.
    const metaKnown = yield* Deferred.make<TableMeta>()
    // Pages of a run written as CSV, waiting for DuckDB or being converted and stored.
    const partsWaiting = yield* Effect.makeSemaphore(PARTS_WAITING)

    /**
     * A page's body to the page writer (a worker thread), its rows to a CSV file for DuckDB; the
     * page itself never comes to this thread. The CSV is removed with `part`, closed when the page
     * is stored or the run ends (or at once when the page fails: another attempt makes another).
     */
    const convert = (pageRequest: PageRequest): PageBodyReader<ConvertedPage, PageWriterFailed | StorageError> => (body, httpStatus) =>
      Effect.gen(function* () {
        const meta = yield* Deferred.await(metaKnown)
        const job = (csv: string | null) => ({
          body,
          httpStatus,
          shape: { statsDataId: request.statsDataId, dimensions: meta.dimensions, withLabels: request.withLabels },
          expectedCells: pageRequest.limit,
          atMostTotal: pageRequest.startPosition === 1,
          sampleSize: SAMPLE_SIZE,
          csv
        })
        if (!request.store) return { summary: yield* writer.write(job(null)), csv: null }
        const part = yield* Scope.fork(runScope, ExecutionStrategy.sequential)
        return yield* Effect.gen(function* () {
          yield* Scope.extend(Effect.acquireRelease(partsWaiting.take(1), () => partsWaiting.release(1)), part)
          const csv = yield* Scope.extend(store.scratchFile(".csv"), part)
          return { summary: yield* writer.write(job(csv)), csv: { path: csv, part } }
        }).pipe(Effect.onError(() => Scope.close(part, Exit.void)))
      })

    // A new run asks for its first page straight away; a resumed one counts (its first page may be stored).
    // The page waits in a cell the stream empties, so nothing keeps it once its part is stored.
    const firstPageRequest = { index: 1, startPosition: 1, limit: Math.min(request.pageSize, request.maxRecords ?? request.pageSize) }
    const firstPage = yield* Ref.make(Option.none<ConvertedPage>())
    const [meta, totalRecords] = yield* Effect.all([
      (request.meta === undefined ? estat.getMetaInfo(request.statsDataId) : Effect.succeed(request.meta)).pipe(
        Effect.tap((meta) => Deferred.succeed(metaKnown, meta))
      ),
      request.resumeRunId === null
        ? estat.readDataPage(query, firstPageRequest, convert(firstPageRequest)).pipe(
          Effect.tap((page) => Ref.set(firstPage, Option.some(page))),
          Effect.map((page) => page.summary.totalNumber)
        )
        : estat.countRecords(query)
    ], { concurrency: 2 })
    const expectedRecords = request.maxRecords === null ? totalRecords : Math.min(totalRecords, request.maxRecords)
    const plan = planPages(expectedRecords, request.pageSize)
    const previous = request.resumeRunId === null ? null : yield* loadResumable(request, totalRecords, meta.table.updatedDate)
    const createdAt = previous?.created_at ?? new Date(yield* Clock.currentTimeMillis).toISOString()
    const rows = rowBuilder({ statsDataId: request.statsDataId, dimensions: meta.dimensions, withLabels: request.withLabels })

    const stored = yield* Ref.make<ReadonlyArray<StoredPage>>(previous?.pages ?? [])
    const legend = yield* Ref.make({ notes: previous?.notes ?? [], annotations: previous?.annotations ?? [] })
    const sample = yield* Ref.make<{ readonly index: number; readonly rows: FetchOutcome["sampleRows"] } | null>(null)
    const storedIndexes = new Set((previous?.pages ?? []).map((p) => p.index))
    const missingPages = plan.filter((p) => !storedIndexes.has(p.index))

    const manifestOf = (failure: string | null, failedPages: Manifest["failed_pages"]) =>
      Effect.gen(function* () {
        const pages = [...(yield* Ref.get(stored))].sort((a, b) => a.index - b.index)
        const { annotations, notes } = yield* Ref.get(legend)
        const recordsFetched = pages.reduce((sum, p) => sum + p.rows, 0)
        const complete = failure === null && pages.length === plan.length && recordsFetched === expectedRecords
        return Manifest.make({
          manifest_version: 1,
          stats_data_id: request.statsDataId,
          run_id: runId,
          status: complete ? "complete" : "partial",
          title: meta.table.title,
          query: { narrowing: { ...request.narrowing }, page_size: request.pageSize, max_records: request.maxRecords, with_labels: request.withLabels },
          total_records: totalRecords,
          expected_records: expectedRecords,
          records_fetched: recordsFetched,
          pages_total: plan.length,
          pages,
          failed_pages: failedPages,
          dimensions: meta.dimensions.map((d) => ({ id: d.id, name: d.name, item_count: d.items.length })),
          columns: rows.columns,
          notes,
          annotations,
          created_at: createdAt,
          finished_at: new Date(yield* Clock.currentTimeMillis).toISOString(),
          error: complete ? null : failure ?? `${recordsFetched} of ${expectedRecords} rows were stored.`,
          estat_updated_date: meta.table.updatedDate,
          sample_rows: (yield* Ref.get(sample))?.rows ?? []
        })
      })

    const writeManifest = (manifest: Manifest) =>
      store.putBytes(manifestKey(request.statsDataId, runId), new TextEncoder().encode(JSON.stringify(manifest, null, 2)), "application/json")

    /** A converted page checked (all its rows, every dimension), its sample and NOTE legend kept. */
    const acceptPage = (pageRequest: PageRequest, { csv, summary }: ConvertedPage) =>
      Effect.gen(function* () {
        if (summary.cells !== pageRequest.limit) {
          return yield* new PageShort({ ...pageRequest, received: summary.cells })
        }
        if (summary.missingDimensions.length > 0) {
          return yield* new EStatPageFailed({ ...pageRequest, reason: `its cells lack the dimensions ${summary.missingDimensions.join(", ")} of the table's metadata` })
        }
        yield* Ref.update(sample, (s) => (s === null || pageRequest.index < s.index ? { index: pageRequest.index, rows: summary.sampleRows } : s))
        yield* Ref.update(legend, (l) => ({
          notes: mergeBy(l.notes, summary.notes, (n) => n.char),
          annotations: mergeBy(l.annotations, summary.annotations, (a) => a.code)
        }))
        return { request: pageRequest, rows: summary.cells, csv }
      })

    /** A written page as a Parquet part in storage, then recorded (with a checkpoint now and then) and reported. */
    const storePart = (written: WrittenPage) =>
      Effect.gen(function* () {
        const key = partKey(request.statsDataId, runId, written.request.index)
        const csv = written.csv
        if (csv !== null) {
          yield* Effect.scoped(Effect.gen(function* () {
            const scratch = yield* store.scratchFile(".parquet")
            yield* engine.csvToParquet(csv.path, rows.columns, scratch)
            yield* store.putFile(key, scratch, "application/vnd.apache.parquet")
          })).pipe(Effect.ensuring(Scope.close(csv.part, Exit.void)))
        }
        const all = yield* Ref.updateAndGet(stored, (pages) => [...pages, { index: written.request.index, start_position: written.request.startPosition, rows: written.rows, key }])
        // A checkpoint now and then: a run killed outright (OOM, SIGKILL) re-fetches at most the pages since.
        if (request.store && all.length % CHECKPOINT_PAGES === 0 && all.length < plan.length) {
          yield* Effect.flatMap(manifestOf(IN_PROGRESS, []), writeManifest)
        }
        yield* request.onProgress({
          pagesDone: all.length,
          pagesTotal: plan.length,
          recordsFetched: all.reduce((sum, p) => sum + p.rows, 0),
          expectedRecords,
          runId: request.store ? runId : undefined
        })
      })

    if (request.store) {
      if (previous === null) {
        yield* sweepOrphanRuns(request.statsDataId).pipe(
          Effect.catchAll((error) => Effect.logWarning("could not sweep runs without a manifest").pipe(Effect.annotateLogs({ error: error.message })))
        )
      }
      // Recorded before the first page is asked for: a kill at any later moment leaves a resumable run.
      yield* Effect.flatMap(manifestOf(IN_PROGRESS, []), writeManifest)
    }

    // A page that fails for good ends the fetching, but pages already received are still stored.
    const pageFailure = yield* Ref.make<Option.Option<EStatPageFailed>>(Option.none())
    // At most two pages (~8 MB of body, then ~10 MB of columns each) between their body's arrival
    // and their CSV, and two CSVs waiting for DuckDB or in it: while DuckDB is the slower, later
    // answers wait in their sockets, not in memory. More would not go faster (one DuckDB turn at a
    // time) but would fill V8's old space, whose collections then stop the event loop for longer.
    const held = yield* Effect.makeSemaphore(Math.max(1, Math.min(request.concurrency, PAGES_IN_MEMORY)))
    // The first page, already here, goes first; the others are asked for now.
    const hasFirstPage = Option.isSome(yield* Ref.get(firstPage)) && plan[0] !== undefined
    const laterPages = hasFirstPage ? missingPages.filter((p) => p.index !== 1) : missingPages
    const takeFirstPage = Effect.map(Ref.getAndSet(firstPage, Option.none()), (page) =>
      Option.flatMap(page, (page) => Option.map(Option.fromNullable(plan[0]), (first): ReceivedPage<ConvertedPage> => ({ request: first, page, release: Effect.void }))))
    const fetchAll = Stream.fromEffect(takeFirstPage).pipe(
      Stream.filterMap((received) => received),
      Stream.map((received): Either.Either<ReceivedPage<ConvertedPage>, EStatPageFailed> => Either.right(received)),
      Stream.concat(estat.pages(query, laterPages, { concurrency: request.concurrency, held, read: convert }).pipe(Stream.either)),
      // Two pages checked at a time, and two parts stored: one converted by DuckDB while the other goes to storage.
      Stream.mapEffect(Either.match({
        onLeft: (failed) => Effect.as(Ref.set(pageFailure, Option.some(failed)), Option.none<WrittenPage>()),
        onRight: (received) => acceptPage(received.request, received.page).pipe(Effect.map(Option.some), Effect.ensuring(received.release))
      }), { concurrency: 2, unordered: true }),
      Stream.filterMap((written) => written),
      Stream.mapEffect(storePart, { concurrency: 2, unordered: true }),
      Stream.runDrain,
      Effect.zipRight(Effect.flatMap(Ref.get(pageFailure), Option.match({ onNone: () => Effect.void, onSome: Effect.fail })))
    )

    /** The run's record, also when it failed or was cancelled (then from a finalizer, uninterruptibly). */
    const settle = (exit: Exit.Exit<void, unknown>) =>
      Effect.gen(function* () {
        const failure = Exit.isSuccess(exit) ? null : Exit.isInterrupted(exit) ? "The request was cancelled." : reasonOf(exit.cause)
        const manifest = yield* manifestOf(failure, Exit.isFailure(exit) ? failedPageOf(exit.cause) : [])
        // Bounded: a hung storage call must not hold up cancellation for ever.
        if (request.store) {
          yield* writeManifest(manifest).pipe(Effect.timeoutFail({
            duration: "60 seconds",
            onTimeout: () => new StorageFailure({ operation: "write", location: store.uri(manifestKey(request.statsDataId, runId)), reason: "no answer within 60 s" })
          }))
        }
        return manifest
      })

    const settled = yield* Ref.make<Option.Option<Exit.Exit<Manifest, StorageError>>>(Option.none())
    const exit = yield* fetchAll.pipe(
      Effect.onExit((exit) => Effect.exit(settle(exit)).pipe(Effect.flatMap((result) => Ref.set(settled, Option.some(result))))),
      Effect.exit
    )
    const manifest = yield* Effect.flatten(Effect.flatten(Ref.get(settled)))
    // A defect is a bug: the partial manifest is written, then it goes on to the MCP edge as one.
    if (Exit.isFailure(exit) && Cause.isDie(exit.cause)) return yield* Effect.failCause(exit.cause)
    if (manifest.status !== "complete") {
      return yield* new RunIncomplete({
        statsDataId: request.statsDataId,
        runId,
        recordsFetched: manifest.records_fetched,
        expectedRecords,
        pagesDone: manifest.pages.length,
        pagesTotal: plan.length,
        reason: manifest.error ?? "",
        manifest: request.store ? store.uri(manifestKey(request.statsDataId, runId)) : null
      })
    }
    if (request.store) yield* indexRun(manifest)
    const outcome: FetchOutcome = {
      runId,
      reused: false,
      fetchedAt: manifest.finished_at,
      replaces: null,
      meta,
      totalRecords,
      expectedRecords,
      recordsFetched: manifest.records_fetched,
      pagesTotal: plan.length,
      pagesFetchedNow: missingPages.length,
      columns: rows.columns,
      sampleRows: (yield* Ref.get(sample))?.rows ?? [],
      storage: request.store
        ? { manifest: store.uri(manifestKey(request.statsDataId, runId)), parquetPrefix: store.uri(runPrefix(request.statsDataId, runId)) }
        : null,
      manifest: request.store ? manifest : null
    }
    return outcome
  }).pipe(Effect.scoped, Effect.withSpan("fetchDataset", { attributes: { statsDataId: request.statsDataId } }))

/** Keeps the first entry per key, in order of arrival. */
const mergeBy = <A>(known: ReadonlyArray<A>, more: ReadonlyArray<A>, key: (a: A) => string): ReadonlyArray<A> => {
  const seen = new Set(known.map(key))
  return [...known, ...more.filter((a) => !seen.has(key(a)) && (seen.add(key(a)), true))]
}

/** A sentence for the manifest and the tool error: typed failures carry their own message. */
const reasonOf = (cause: Cause.Cause<unknown>): string =>
  Option.match(Cause.failureOption(cause), {
    onNone: () => "An internal error stopped the run.",
    onSome: (error) => (error instanceof Error ? error.message : String(error))
  })

/** The page a failure names, if it names one. */
const failedPageOf = (cause: Cause.Cause<unknown>): Manifest["failed_pages"] =>
  Option.match(Cause.failureOption(cause), {
    onNone: () => [],
    onSome: (error) =>
      error instanceof EStatPageFailed || error instanceof PageShort
        ? [{ index: error.index, start_position: error.startPosition, error: error.message }]
        : []
  })

/** Resuming continues a partial run of the very same query, against an unchanged table. */
const loadResumable = (request: FetchRequest, totalRecords: number, updatedDate: string) =>
  Effect.gen(function* () {
    const runId = request.resumeRunId ?? ""
    if (!request.store) return yield* new RunNotResumable({ runId, reason: "resuming needs save_to_s3: true (a run lives in storage)." })
    const store = yield* ObjectStore
    const manifest = yield* readManifest(manifestKey(request.statsDataId, runId)).pipe(
      Effect.catchTags({
        StorageNotFound: () =>
          Effect.flatMap(store.list(runPrefix(request.statsDataId, runId)), (left) =>
            new RunNotResumable({
              runId,
              reason: left.length === 0
                ? `no run of dataset ${request.statsDataId} has this id.`
                : "its folder holds parts but no manifest.json: an older version's run, stopped before its end, whose query is not recorded. " +
                  "Start a new run (the old parts are removed once idle for an hour)."
            })),
        RunUnreadable: () => new RunNotResumable({ runId, reason: "its manifest.json is not readable." })
      })
    )
    const sameQuery = JSON.stringify(sortedEntries(manifest.query.narrowing)) === JSON.stringify(sortedEntries(request.narrowing)) &&
      manifest.query.page_size === request.pageSize &&
      manifest.query.max_records === request.maxRecords &&
      manifest.query.with_labels === request.withLabels
    if (!sameQuery) {
      return yield* new RunNotResumable({
        runId,
        reason: `it was made with other settings (filters ${JSON.stringify(manifest.query.narrowing)}, chunk_size ${manifest.query.page_size}, ` +
          `max_records ${manifest.query.max_records ?? "all"}, convert_to_japanese ${manifest.query.with_labels}); repeat them, or start a new run.`
      })
    }
    if (manifest.total_records !== totalRecords) {
      return yield* new RunNotResumable({
        runId,
        reason: `the table changed on e-Stat since the run (${manifest.total_records} → ${totalRecords} rows); start a new run.`
      })
    }
    // Values change without the row count changing: pages from before and after an update are not one table.
    if (manifest.estat_updated_date !== undefined && manifest.estat_updated_date !== updatedDate) {
      return yield* new RunNotResumable({
        runId,
        reason: `the table was updated on e-Stat since the run (${manifest.estat_updated_date} → ${updatedDate}); start a new run.`
      })
    }
    // Keep only the pages whose part is really there.
    const present = yield* Effect.filter(manifest.pages, (page) => Effect.map(store.head(page.key), Option.isSome), { concurrency: 8 })
    // Parts stored after the last checkpoint are not listed: their pages are fetched again (a part
    // holds the rows, not the page's NOTE legend and annotations the manifest keeps).
    yield* removeUnlistedParts(request.statsDataId, runId, new Set(present.map((page) => page.key)))
    return { ...manifest, pages: present }
  })

const sortedEntries = (record: Readonly<Record<string, string>>) => Object.entries(record).sort(([a], [b]) => a.localeCompare(b))
