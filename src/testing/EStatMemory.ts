import { HttpClient, HttpClientResponse } from "@effect/platform"
import { Clock, Effect, Layer, Option, Redacted } from "effect"
import { defaultSettings } from "../config.js"
import { EStat, make } from "../services/estat/EStat.js"
import { type EStatApi, isEndpoint, makeEStatApi } from "./estat/api.js"
import { makeCatalog } from "./estat/catalog.js"
import type { FakeTable } from "./estat/model.js"
import { sampleTables } from "./estat/samples.js"

/**
 * EStat in memory: the live client (its decoding, errors, paging and concurrency) over an
 * HttpClient that hands each request to the same e-Stat model the fake HTTP server serves.
 * Nothing leaves the process, no appId is needed, and a mock cannot drift from the live layer.
 */

/** The application ID the in-memory e-Stat accepts (the layer sends it itself). */
export const MOCK_APP_ID = "mock-app-id"

/** Never reached: requests are answered in memory. `.invalid` cannot resolve (RFC 2606). */
const MOCK_BASE_URL = "http://estat.invalid/rest/3.0/app"

/** The fixture catalogue (census, CPI and tables for search), then the sample tables: the fake HTTP server's order too. */
export const mockTables = (): ReadonlyArray<FakeTable> => [...makeCatalog(sampleTables()).values()]

/** A request as e-Stat receives it: the endpoint and the query parameters (appId among them). */
export interface EStatRequest {
  readonly endpoint: string
  readonly params: URLSearchParams
}

/** e-Stat's answers as HTTP responses, made in memory, each request told to `onRequest` first; RESULT.DATE comes from Clock. */
const memoryClient = (api: EStatApi, onRequest: (request: EStatRequest) => Effect.Effect<void>) =>
  HttpClient.make((request, url) =>
    Effect.gen(function* () {
      const endpoint = url.pathname.split("/").at(-1) ?? ""
      yield* onRequest({ endpoint, params: new URLSearchParams(url.searchParams) })
      const now = yield* Clock.currentTimeMillis
      const answer = isEndpoint(endpoint) ? api.answer(endpoint, url.searchParams, now) : { httpStatus: 404, body: "Not Found" }
      return HttpClientResponse.fromWeb(request, new Response(answer.body, {
        status: answer.httpStatus,
        headers: { "content-type": "application/json;charset=utf-8" }
      }))
    }))

export interface EStatMemoryOptions {
  /** The tables e-Stat knows, in listing order (default: `mockTables()`). */
  readonly tables?: ReadonlyArray<FakeTable>
  /** Told of every request, before it is answered: what a test counts or checks the parameters of (default: nothing). */
  readonly onRequest?: (request: EStatRequest) => Effect.Effect<void>
}

/** EStat answering from `tables` in memory. No rate limit to wait for: TestClock never has to move. */
export const layer = (options: EStatMemoryOptions = {}): Layer.Layer<EStat> =>
  Layer.scoped(EStat, Effect.suspend(() => {
    const api = makeEStatApi({ tables: options.tables ?? mockTables(), appIds: [MOCK_APP_ID] })
    return make({
      ...defaultSettings,
      estatAppId: Option.some(Redacted.make(MOCK_APP_ID)),
      estatBaseUrl: MOCK_BASE_URL,
      estatRequestsPerSecond: 1_000_000,
      estatMaxInFlight: 64
    }).pipe(Effect.provideService(HttpClient.HttpClient, memoryClient(api, options.onRequest ?? (() => Effect.void))))
  }))
