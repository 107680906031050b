import { HttpClient, type HttpClientError, HttpClientRequest, type HttpClientResponse } from "@effect/platform"
import { Chunk, Clock, Context, Duration, Effect, Either, Layer, Option, Predicate, RateLimiter, Redacted, Schedule, Stream } from "effect"
import { AppConfig, type AppSettings } from "../../config.js"
import type { DataPage, DataQuery, PageRequest, SearchTablesPage, SearchTablesQuery, TableMeta } from "../../domain/estat.js"
import {
  EStatApiError,
  EStatDecodeError,
  type EStatError,
  EStatHttpError,
  EStatIncompleteBody,
  EStatNoData,
  EStatNotConfigured,
  EStatPageFailed,
  EStatTimeout,
  EStatUnavailable,
  EStatUnknownDataset,
  isTransient
} from "./errors.js"
import {
  GetMetaInfo,
  GetStatsData,
  GetStatsList,
  listOf,
  toDimensions,
  toNumber,
  toTableInfo,
  totalOf
} from "./schema.js"
import { type BodyFault, type BodyReader, BodyRejected, bySchema, readBody, readPage } from "./bodies.js"

/** The e-Stat API 3.0, normalised: every method answers in domain shapes or a typed EStatError. */
export class EStat extends Context.Tag("estat-mcp/EStat")<EStat, {
  readonly searchTables: (query: SearchTablesQuery) => Effect.Effect<SearchTablesPage, EStatError>
  /**
   * A table's metadata. `listedUpdate`: the table's UPDATED_DATE as a getStatsList answer listed
   * it — a remembered copy older than that is not used (see metadataCache.ts).
   */
  readonly getMetaInfo: (statsDataId: string, options?: { readonly listedUpdate?: string }) => Effect.Effect<TableMeta, EStatError>
  /** Rows matching the query (`cntGetFlg=Y`). */
  readonly countRecords: (query: DataQuery) => Effect.Effect<number, EStatError>
  /** One page of values (`metaGetFlg=N`, annotations on, special characters kept), decoded here. */
  readonly getDataPage: (query: DataQuery, page: { readonly startPosition: number; readonly limit: number }) => Effect.Effect<DataPage, EStatError>
  /**
   * One page of values whose body `read` makes into what the caller keeps (e.g. a worker thread
   * writes it out as CSV): the body's bytes are handed over as they came, not decoded here, nor
   * joined (see `PageBodyReader`).
   */
  readonly readDataPage: <A, E>(
    query: DataQuery,
    page: { readonly startPosition: number; readonly limit: number },
    read: PageBodyReader<A, E>
  ) => Effect.Effect<A, EStatError | E>
  /**
   * The given pages of a query as they arrive (not in order), at most `concurrency` (≤ 8) in
   * flight, each retried on transient failure; a page that still fails ends the stream with its error.
   */
  readonly pages: <A, E>(
    query: DataQuery,
    pages: ReadonlyArray<PageRequest>,
    options: {
      readonly concurrency: number
      /** What each page's body becomes (see `readDataPage`); its failures fail the page. */
      readonly read: (request: PageRequest) => PageBodyReader<A, E>
      /**
       * Bounds the pages in memory: a page takes a permit when e-Stat starts answering, before its
       * body is read (waiting for e-Stat holds none), and keeps it until the caller runs its `release`.
       */
      readonly held?: Effect.Semaphore
    }
  ) => Stream.Stream<ReceivedPage<A>, EStatPageFailed>
}>() {
  static readonly layer: Layer.Layer<EStat, never, AppConfig | HttpClient.HttpClient> = Layer.scoped(
    EStat,
    Effect.flatMap(AppConfig, (settings) => make(settings))
  )
}

export interface ReceivedPage<A> {
  readonly request: PageRequest
  /** What the page's body was made into. */
  readonly page: A
  /** Gives back the page's `held` permit. */
  readonly release: Effect.Effect<void>
}

/**
 * A data page's body as bytes (and its HTTP status) made into the caller's answer; a body that is
 * not the answer fails with `BodyRejected` (its fault becomes the EStatError the text path gives).
 * The bytes come in the pieces the connection gave them, each in a buffer of its own (so it can be
 * moved to another thread): joining them here copied ~8 MB a page on the event loop's thread, and
 * the external memory of both copies set off full collections of its heap as pages arrived.
 */
export type PageBodyReader<A, E> = (body: ReadonlyArray<Uint8Array>, httpStatus: number) => Effect.Effect<A, BodyRejected | E>

/** How an attempt reads its body: as text decoded here, or as bytes handed to the caller's reader. */
type Reader<A, E> =
  | { readonly _tag: "Text"; readonly read: BodyReader<A> }
  | { readonly _tag: "Bytes"; readonly read: PageBodyReader<A, E> }
const text = <A>(read: BodyReader<A>): Reader<A, never> => ({ _tag: "Text", read })
const bytes = <A, E>(read: PageBodyReader<A, E>): Reader<A, E> => ({ _tag: "Bytes", read })

const isEStatError = (error: unknown): error is EStatError =>
  Predicate.hasProperty(error, "_tag") && typeof error._tag === "string" && error._tag.startsWith("EStat")
const tagOf = (error: unknown) => (Predicate.hasProperty(error, "_tag") ? String(error._tag) : "unknown")

type Params = Readonly<Record<string, string | undefined>>

/** Makes the live service, its timings (timeout, retries, backoff) all from `settings`. */
export const make = (settings: AppSettings) =>
  Effect.gen(function* () {
    // Spans of the platform client would record the URL, whose query holds the appId.
    const scopedClient = (yield* HttpClient.HttpClient).pipe(HttpClient.withTracerDisabledWhen(() => true), HttpClient.withScope)
    const inFlight = yield* Effect.makeSemaphore(settings.estatMaxInFlight)
    const rateLimit = yield* RateLimiter.make({ limit: settings.estatRequestsPerSecond, interval: Duration.seconds(1) })
    const timeoutMs = Duration.toMillis(settings.estatTimeout)
    const secret = Option.map(settings.estatAppId, Redacted.value)
    const scrub = (text: string) => Option.match(secret, { onNone: () => text, onSome: (id) => text.replaceAll(id, "***") })
    const retry = Schedule.exponential(settings.estatRetryBase).pipe(
      Schedule.jittered,
      Schedule.intersect(Schedule.recurs(settings.estatRetries))
    )

    // One large body decoded at a time: bodies and their columns are ~8 MB a page, the decoding's
    // garbage more. Small ones (searches, metadata) do not queue behind the pages of running fetches:
    // another session's quick call would wait seconds on a 0.25-vCPU task. Waiting for the turn is
    // not part of the request's timeout.
    const decoding = yield* Effect.makeSemaphore(1)
    const inTurn = <A, E, R>(body: string, decode: Effect.Effect<A, E, R>) =>
      body.length > ONE_AT_A_TIME_CHARS ? decoding.withPermits(1)(decode) : decode

    /**
     * One request: e-Stat's answer to start, then its body, each within the timeout. Only the wait
     * for the answer to start holds an in-flight slot (e-Stat's work is done before the first byte).
     * In between, a body that needs room in `held` waits for it, its bytes waiting in the socket; the
     * permit stays taken when the attempt succeeds and is given back when it fails. The request
     * lives in the attempt's scope: an attempt that ends early (failed, cancelled) aborts it.
     */
    const attempt = <A, E>(endpoint: string, appId: string, params: Params, read: Reader<A, E>, held: Effect.Semaphore | undefined) => {
      const timedOut = () => new EStatTimeout({ endpoint, timeoutMs })
      const request = HttpClientRequest.get(`${settings.estatBaseUrl}/json/${endpoint}`).pipe(
        HttpClientRequest.setUrlParams({ appId, lang: "J", ...definedOnly(params) }),
        HttpClientRequest.acceptJson
      )
      const answered = inFlight.withPermits(1)(rateLimit(scopedClient.execute(request).pipe(
        Effect.mapError((e) => new EStatUnavailable({ endpoint, reason: scrub(e.reason + describeCause(e.cause)) })),
        Effect.timeoutFail({ duration: timeoutMs, onTimeout: timedOut })
      )))
      const received = <B>(body: Effect.Effect<B, HttpClientError.ResponseError>) =>
        body.pipe(
          Effect.mapError((e) => new EStatUnavailable({ endpoint, reason: scrub(`body not received: ${e.reason}${describeCause(e.cause)}`) })),
          Effect.timeoutFail({ duration: timeoutMs, onTimeout: timedOut })
        )
      const answer = (response: HttpClientResponse.HttpClientResponse): Effect.Effect<A, EStatError | E> =>
        read._tag === "Text"
          ? Effect.flatMap(received(response.text), (body) =>
            inTurn(body, readBody(read.read, response.status, body).pipe(Effect.mapError((fault) => faultError(endpoint, fault)))))
          : Effect.flatMap(received(Stream.runCollect(response.stream)), (pieces) =>
            read.read(Chunk.toReadonlyArray(pieces).map(ownBuffer), response.status).pipe(
              Effect.catchIf((e): e is BodyRejected => e instanceof BodyRejected, (rejected) => Effect.fail(faultError(endpoint, rejected.fault)))
            ))
      // Waiting for the permit stays interruptible (a cancelled run must not wait for room).
      return Effect.scoped(Effect.flatMap(answered, (response) =>
        held === undefined ? answer(response) : Effect.uninterruptibleMask((restore) =>
          Effect.zipRight(restore(held.take(1)), restore(answer(response)).pipe(Effect.onError(() => held.release(1))))
        )))
    }

    /** What a body's fault is as the caller's error: the endpoint named, the appId scrubbed. */
    const faultError = (endpoint: string, fault: BodyFault): EStatError => {
      switch (fault._tag) {
        case "Incomplete":
          return new EStatIncompleteBody({ endpoint })
        case "Unexpected":
          return new EStatDecodeError({ endpoint, detail: scrub(fault.detail) })
        case "Refused":
          return new EStatApiError({ status: fault.status, errorMessage: scrub(fault.errorMessage), endpoint })
        case "HttpError":
          return new EStatHttpError({ httpStatus: fault.httpStatus, endpoint, detail: scrub(fault.detail) })
      }
    }

    const call = <A, E = never>(endpoint: string, read: Reader<A, E>, params: Params, held?: Effect.Semaphore) =>
      Effect.gen(function* () {
        if (Option.isNone(secret)) return yield* new EStatNotConfigured({ endpoint })
        const appId = secret.value
        const started = yield* Clock.currentTimeMillis
        const result = yield* attempt(endpoint, appId, params, read, held).pipe(
          Effect.tapError((error) => Effect.logDebug("e-Stat attempt failed").pipe(Effect.annotateLogs({ endpoint, error: tagOf(error) }))),
          Effect.retry({ schedule: retry, while: (error) => isEStatError(error) && isTransient(error) }),
          Effect.catchIf(
            (error): error is EStatApiError => error instanceof EStatApiError && error.status === 100 && params["statsDataId"] !== undefined,
            (refused) => Effect.flatMap(appIdWorks(appId), (works) =>
              Effect.fail(works
                ? new EStatUnknownDataset({ endpoint, statsDataId: params["statsDataId"] ?? "", status: refused.status, errorMessage: refused.errorMessage })
                : refused))
          )
        )
        yield* Effect.logDebug("e-Stat call").pipe(
          Effect.annotateLogs({ endpoint, params: definedOnly(params), durationMs: (yield* Clock.currentTimeMillis) - started })
        )
        return result
      }).pipe(Effect.withSpan(`EStat.${endpoint}`, { attributes: { endpoint } }))

    /**
     * STATUS 100 means the application ID was refused (ESTAT-API.md §13), but e-Stat has also
     * answered it for an unknown dataset id: a call that names no dataset tells which. Only a
     * refusal of this one too is the ID's fault; anything else leaves e-Stat's own answer.
     */
    const appIdWorks = (appId: string) =>
      attempt("getStatsList", appId, { statsCode: "00200521", limit: "1", explanationGetFlg: "N" }, text(bySchema(GetStatsList, () => Either.right(true))), undefined).pipe(
        Effect.retry({ schedule: retry, while: isTransient }),
        Effect.match({ onFailure: () => false, onSuccess: () => true })
      )

    const narrowing = (query: DataQuery): Params => ({ statsDataId: query.statsDataId, ...query.narrowing })

    const dataPage = <A, E>(query: DataQuery, page: { readonly startPosition: number; readonly limit: number }, read: Reader<A, E>, held?: Effect.Semaphore) =>
      call("getStatsData", read, {
        ...narrowing(query),
        metaGetFlg: "N",
        cntGetFlg: "N",
        explanationGetFlg: "N",
        annotationGetFlg: "Y",
        replaceSpChars: "0",
        startPosition: String(page.startPosition),
        limit: String(page.limit)
      }, held)

    return EStat.of({
      searchTables: (query) =>
        call("getStatsList", text(bySchema(GetStatsList, (body) => Either.right(listOf(body)))), {
          searchWord: query.searchWord,
          statsField: query.statsField,
          statsCode: query.statsCode,
          surveyYears: query.surveyYears,
          openYears: query.openYears,
          updatedDate: query.updatedDate,
          startPosition: query.startPosition?.toString(),
          limit: query.limit?.toString(),
          explanationGetFlg: "N"
        }),
      getMetaInfo: (statsDataId) =>
        call("getMetaInfo", text(bySchema(GetMetaInfo, metaOf)), { statsDataId, explanationGetFlg: "N" }).pipe(
          Effect.flatMap(({ meta, resultMessage }) =>
            meta === null ? Effect.fail(new EStatNoData({ endpoint: "getMetaInfo", statsDataId, errorMessage: scrub(resultMessage) })) : Effect.succeed(meta))
        ),
      countRecords: (query) =>
        call("getStatsData", text(bySchema(GetStatsData, (body) => Either.right(totalOf(body.GET_STATS_DATA.STATISTICAL_DATA)))), { ...narrowing(query), cntGetFlg: "Y" }),
      getDataPage: (query, page) => dataPage(query, page, text(readPage())),
      readDataPage: (query, page, read) => dataPage(query, page, bytes(read)),
      pages: (query, pages, options) => {
        const concurrency = Math.min(Math.max(1, options.concurrency), 8)
        const release = options.held?.release(1) ?? Effect.void
        return Stream.fromIterable(pages).pipe(
          Stream.flatMap((request) =>
            Stream.fromEffect(dataPage(query, request, bytes(options.read(request)), options.held).pipe(
              Effect.map((page) => ({ request, page, release })),
              Effect.mapError((error) => new EStatPageFailed({ ...request, reason: error instanceof Error ? error.message : String(error) }))
            )), { concurrency, bufferSize: 1 })
        )
      }
    })
  })

/** The piece itself when it spans its whole buffer, else a copy that does (a view into a shared buffer must not be moved). */
const ownBuffer = (piece: Uint8Array): Uint8Array => (piece.byteOffset === 0 && piece.byteLength === piece.buffer.byteLength ? piece : piece.slice())

/** Bodies longer than this (data pages) are decoded one at a time. */
const ONE_AT_A_TIME_CHARS = 1 << 20

/** A getMetaInfo answer's table, or null with e-Stat's message when it answered STATUS 1 (no data). */
const metaOf = (answer: typeof GetMetaInfo.Type): Either.Either<{ readonly meta: TableMeta | null; readonly resultMessage: string }, string> => {
  const { METADATA_INF: inf, RESULT: result } = answer.GET_META_INFO
  const resultMessage = String(result.ERROR_MSG ?? "")
  if (inf !== undefined) return Either.right({ meta: { table: toTableInfo(inf.TABLE_INF), dimensions: toDimensions(inf.CLASS_INF) }, resultMessage })
  return toNumber(result.STATUS) === 1 ? Either.right({ meta: null, resultMessage }) : Either.left("the answer has no METADATA_INF")
}

const definedOnly = (params: Params): Record<string, string> =>
  Object.fromEntries(Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== ""))

const describeCause = (cause: unknown) => {
  if (!(cause instanceof Error)) return ""
  const inner = (cause as Error & { readonly cause?: unknown }).cause
  const code = inner instanceof Error ? (inner as Error & { readonly code?: string }).code ?? inner.message : undefined
  return code === undefined ? `: ${cause.message}` : `: ${code}`
}
