import { HttpClient, HttpClientRequest, type HttpClientResponse } from "@effect/platform"
import { Clock, Context, Duration, Effect, Either, Layer, Option, RateLimiter, Redacted, Schedule, Schema, Stream } from "effect"
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
  Envelope,
  GetMetaInfo,
  GetStatsData,
  GetStatsList,
  listOf,
  toDimensions,
  toNumber,
  toTableInfo,
  totalOf
} from "./schema.js"
import { type BodyReader, bySchema, readPage } from "./bodies.js"

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
  /** One page of values (`metaGetFlg=N`, annotations on, special characters kept). */
  readonly getDataPage: (query: DataQuery, page: { readonly startPosition: number; readonly limit: number }) => Effect.Effect<DataPage, EStatError>
  /**
   * The given pages of a query as they arrive (not in order), at most `concurrency` (≤ 8) in
   * flight, each retried on transient failure; a page that still fails ends the stream with its error.
   */
  readonly pages: (
    query: DataQuery,
    pages: ReadonlyArray<PageRequest>,
    options: {
      readonly concurrency: number
      /**
       * Bounds the pages in memory: a page takes a permit when e-Stat starts answering, before its
       * body is read (waiting for e-Stat holds none), and keeps it until the caller runs its `release`.
       */
      readonly held?: Effect.Semaphore
    }
  ) => Stream.Stream<ReceivedPage, EStatPageFailed>
}>() {
  static readonly layer: Layer.Layer<EStat, never, AppConfig | HttpClient.HttpClient> = Layer.scoped(
    EStat,
    Effect.flatMap(AppConfig, (settings) => make(settings))
  )
}

export interface ReceivedPage {
  readonly request: PageRequest
  readonly page: DataPage
  /** Gives back the page's `held` permit. */
  readonly release: Effect.Effect<void>
}

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
    const attempt = <A>(endpoint: string, appId: string, params: Params, read: BodyReader<A>, held: Effect.Semaphore | undefined) => {
      const timedOut = () => new EStatTimeout({ endpoint, timeoutMs })
      const request = HttpClientRequest.get(`${settings.estatBaseUrl}/json/${endpoint}`).pipe(
        HttpClientRequest.setUrlParams({ appId, lang: "J", ...definedOnly(params) }),
        HttpClientRequest.acceptJson
      )
      const answered = inFlight.withPermits(1)(rateLimit(scopedClient.execute(request).pipe(
        Effect.mapError((e) => new EStatUnavailable({ endpoint, reason: scrub(e.reason + describeCause(e.cause)) })),
        Effect.timeoutFail({ duration: timeoutMs, onTimeout: timedOut })
      )))
      const answer = (response: HttpClientResponse.HttpClientResponse) =>
        response.text.pipe(
          Effect.mapError((e) => new EStatUnavailable({ endpoint, reason: scrub(`body not received: ${e.reason}${describeCause(e.cause)}`) })),
          Effect.timeoutFail({ duration: timeoutMs, onTimeout: timedOut }),
          Effect.flatMap((body) =>
            inTurn(body, Effect.gen(function* () {
              const reading = read(body)
              const json = yield* interpret(endpoint, response.status, reading.text)
              return yield* reading.decode(json).pipe(Effect.mapError((fault) =>
                fault._tag === "Incomplete" ? new EStatIncompleteBody({ endpoint }) : new EStatDecodeError({ endpoint, detail: scrub(fault.detail) })
              ))
            })))
        )
      // Waiting for the permit stays interruptible (a cancelled run must not wait for room).
      return Effect.scoped(Effect.flatMap(answered, (response) =>
        held === undefined ? answer(response) : Effect.uninterruptibleMask((restore) =>
          Effect.zipRight(restore(held.take(1)), restore(answer(response)).pipe(Effect.onError(() => held.release(1))))
        )))
    }

    /** Body first: e-Stat answers errors (even HTTP 403) with a RESULT.STATUS we must read. */
    const interpret = (endpoint: string, httpStatus: number, body: string): Effect.Effect<unknown, EStatError> => {
      const parsed = Either.try(() => JSON.parse(body) as unknown)
      const envelope = Either.flatMap(parsed, (json) => Schema.decodeUnknownEither(Envelope)(json))
      if (Either.isRight(envelope)) {
        const result = Object.values(envelope.right)[0]?.RESULT
        const status = toNumber(result?.STATUS) ?? -1
        if (status >= 100) {
          return Effect.fail(new EStatApiError({ status, errorMessage: scrub(String(result?.ERROR_MSG ?? "")), endpoint }))
        }
        if (httpStatus >= 200 && httpStatus < 300 && Either.isRight(parsed)) return Effect.succeed(parsed.right)
      }
      if (httpStatus === 429 || httpStatus >= 300) {
        return Effect.fail(new EStatHttpError({ httpStatus, endpoint, detail: describeBody(body) }))
      }
      // A 200 whose body does not parse was cut on the way (or garbled): another attempt may get it whole.
      return Effect.fail(Either.isLeft(parsed) ? new EStatIncompleteBody({ endpoint }) : new EStatDecodeError({ endpoint, detail: "the body is not an e-Stat response" }))
    }

    const call = <A>(endpoint: string, read: BodyReader<A>, params: Params, held?: Effect.Semaphore) =>
      Effect.gen(function* () {
        if (Option.isNone(secret)) return yield* new EStatNotConfigured({ endpoint })
        const appId = secret.value
        const started = yield* Clock.currentTimeMillis
        const result = yield* attempt(endpoint, appId, params, read, held).pipe(
          Effect.tapError((error) => Effect.logDebug("e-Stat attempt failed").pipe(Effect.annotateLogs({ endpoint, error: error._tag }))),
          Effect.retry({ schedule: retry, while: isTransient }),
          Effect.catchIf(
            (error): error is EStatApiError => error._tag === "EStatApiError" && error.status === 100 && params["statsDataId"] !== undefined,
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
      attempt("getStatsList", appId, { statsCode: "00200521", limit: "1", explanationGetFlg: "N" }, bySchema(GetStatsList, () => Either.right(true)), undefined).pipe(
        Effect.retry({ schedule: retry, while: isTransient }),
        Effect.match({ onFailure: () => false, onSuccess: () => true })
      )

    const narrowing = (query: DataQuery): Params => ({ statsDataId: query.statsDataId, ...query.narrowing })

    const getDataPage = (query: DataQuery, page: { readonly startPosition: number; readonly limit: number }, held?: Effect.Semaphore) =>
      call("getStatsData", readPage(), {
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
        call("getStatsList", bySchema(GetStatsList, (body) => Either.right(listOf(body))), {
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
        call("getMetaInfo", bySchema(GetMetaInfo, metaOf), { statsDataId, explanationGetFlg: "N" }).pipe(
          Effect.flatMap(({ meta, resultMessage }) =>
            meta === null ? Effect.fail(new EStatNoData({ endpoint: "getMetaInfo", statsDataId, errorMessage: scrub(resultMessage) })) : Effect.succeed(meta))
        ),
      countRecords: (query) =>
        call("getStatsData", bySchema(GetStatsData, (body) => Either.right(totalOf(body.GET_STATS_DATA.STATISTICAL_DATA))), { ...narrowing(query), cntGetFlg: "Y" }),
      getDataPage,
      pages: (query, pages, options) => {
        const concurrency = Math.min(Math.max(1, options.concurrency), 8)
        const release = options.held?.release(1) ?? Effect.void
        return Stream.fromIterable(pages).pipe(
          Stream.flatMap((request) =>
            Stream.fromEffect(getDataPage(query, request, options.held).pipe(
              Effect.map((page): ReceivedPage => ({ request, page, release })),
              Effect.mapError((error) => new EStatPageFailed({ ...request, reason: error.message }))
            )), { concurrency, bufferSize: 1 })
        )
      }
    })
  })

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

/** A short, safe description of a non-e-Stat body (e.g. a WAF's HTML page). */
const describeBody = (body: string) => {
  const title = /<title>([^<]*)<\/title>/i.exec(body)?.[1]?.trim()
  if (title !== undefined && title !== "") return `an HTML page "${title.slice(0, 80)}"`
  const trimmed = body.trim()
  return trimmed === "" ? "an empty body" : `a non-e-Stat body (${trimmed.length} bytes)`
}
