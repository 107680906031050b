import { existsSync, readFileSync } from "node:fs"
import { createServer, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { FetchHttpClient, HttpClient, HttpClientResponse } from "@effect/platform"
import { Deferred, Duration, Effect, Fiber, Option, Queue, Redacted, Schedule, Stream, TestClock } from "effect"
import { describe, expect, it } from "@effect/vitest"
import { type AppSettings, defaultSettings } from "../../../src/config.js"
import { cellAt, type DataPage, planPages } from "../../../src/domain/estat.js"
import { make, type ReceivedPage } from "../../../src/services/estat/EStat.js"
import { pageOfBytes } from "../../../src/services/estat/bodies.js"
import { generatedTable, makeEStatApi, MOCK_APP_ID } from "../../../src/testing/index.js"
import { FAKE_APP_ID, fakeEStat, type FakeEStatOptions } from "../../fakes/estatServer.js"
import { REAL_ESTAT_DIR } from "../../support/realEStat.js"

const cells = (page: DataPage) => Array.from({ length: page.cells.count }, (_, i) => cellAt(page.cells, i))

/** The live EStat service against a fresh fake e-Stat; backoff shortened to a few ms (ESTAT_RETRY_BASE: real time, it is an HTTP fake). */
const setup = (options: FakeEStatOptions = {}, overrides: Partial<AppSettings> = {}) =>
  Effect.gen(function* () {
    const fake = yield* fakeEStat(options)
    const settings: AppSettings = {
      ...defaultSettings,
      estatBaseUrl: fake.baseUrl,
      estatAppId: Option.some(Redacted.make(FAKE_APP_ID)),
      estatRetries: 3,
      estatRetryBase: Duration.millis(5),
      ...overrides
    }
    const estat = yield* make(settings).pipe(Effect.provide(FetchHttpClient.layer))
    return { fake, estat }
  })

const neverLeaks = (error: unknown) => {
  expect(JSON.stringify(error)).not.toContain(FAKE_APP_ID)
  expect(String((error as Error).message)).not.toContain(FAKE_APP_ID)
}

describe("EStat live layer against the fake e-Stat", () => {
  it.scopedLive("searchTables decodes a list page, numbers-vs-strings and all", () =>
    Effect.gen(function* () {
      const { estat, fake } = yield* setup()
      const page = yield* estat.searchTables({ searchWord: "国勢調査", limit: 1 })
      expect(page.total).toBe(2)
      expect(page.nextKey).toBe(2)
      expect(page.tables).toHaveLength(1) // a single TABLE_INF arrives as an object
      expect(page.tables[0]).toMatchObject({
        statsDataId: "0003445078",
        title: "男女別人口－全国，都道府県，市区町村（2000年（平成12年）市区町村含む）",
        statName: "国勢調査",
        statCode: "00200521",
        govOrg: "総務省",
        surveyDate: "202010",
        mainCategory: "人口・世帯",
        totalRecords: 36,
        smallArea: false
      })
      expect(fake.requests[0]!.params.get("appId")).toBe(FAKE_APP_ID)
      const rest = yield* estat.searchTables({ searchWord: "国勢調査", startPosition: 2, limit: 10 })
      expect(rest.nextKey).toBeNull()
      expect(rest.tables.map((t) => t.statsDataId)).toEqual(["0003445080"])
    }))

  it.scopedLive("STATUS 1 (no data) is an empty result, in both shapes e-Stat uses", () =>
    Effect.gen(function* () {
      const { estat, fake } = yield* setup()
      expect(yield* estat.searchTables({ searchWord: "存在しない統計" })).toEqual({ total: 0, tables: [], nextKey: null })
      fake.setFaults({ emptyListAsNumberZero: true })
      expect(yield* estat.searchTables({ searchWord: "存在しない統計" })).toEqual({ total: 0, tables: [], nextKey: null })
    }))

  it.scopedLive("getMetaInfo normalises dimensions: hierarchy, parents, empty levels, missing units", () =>
    Effect.gen(function* () {
      const { estat } = yield* setup()
      const census = yield* estat.getMetaInfo("0003445078")
      expect(census.dimensions.map((d) => d.id)).toEqual(["tab", "cat01", "area", "time"])
      const area = census.dimensions.find((d) => d.id === "area")!
      expect(area.items.find((i) => i.code === "13101")).toEqual({ code: "13101", name: "千代田区", level: "4", unit: null, parentCode: "13100" })
      expect(area.items[0]).toEqual({ code: "00000", name: "全国", level: "1", unit: null, parentCode: null })
      const tab = census.dimensions[0]!
      expect(tab.items).toEqual([{ code: "2020_01", name: "人口", level: "", unit: "人", parentCode: null }]) // single CLASS object
      const cpi = yield* estat.getMetaInfo("0004052037")
      expect(cpi.dimensions[0]!.items.map((i) => i.unit)).toEqual([null, "%"])
      expect(cpi.table.surveyDate).toBe("202501-202609")
    }))

  it.scopedLive("countRecords and getDataPage: narrowing, pagination, NOTE single and array, special values", () =>
    Effect.gen(function* () {
      const { estat } = yield* setup()
      expect(yield* estat.countRecords({ statsDataId: "0003445078" })).toBe(36)
      expect(yield* estat.countRecords({ statsDataId: "0003445078", narrowing: { lvArea: "2", cdCat01: "1,2" } })).toBe(8) // 4 prefectures × 2 sexes
      const page = yield* estat.getDataPage({ statsDataId: "0003445078" }, { startPosition: 31, limit: 10 })
      expect(page).toMatchObject({ totalNumber: 36, fromNumber: 31, toNumber: 36, nextKey: null })
      expect(page.notes).toEqual([{ char: "***", text: "当該数値がないもの" }, { char: "-", text: "当該数値がないもの" }])
      expect(cells(page).find((v) => v.dims["area"] === "47201" && v.dims["cat01"] === "2")).toEqual({
        dims: { tab: "2020_01", cat01: "2", area: "47201", time: "2020000000" }, unit: "人", annotation: null, raw: "-"
      })
      const cpi = yield* estat.getDataPage({ statsDataId: "0004052037", narrowing: { cdCat01: "0161", cdTab: "3", cdArea: "00000", cdTimeFrom: "2025000101", cdTimeTo: "2025000101" } }, { startPosition: 1, limit: 100 })
      expect(cpi.notes).toEqual([{ char: "***", text: "該当データがない場合を示す。" }]) // a single NOTE object
      expect(cells(cpi)).toEqual([{ dims: { tab: "3", cat01: "0161", area: "00000", time: "2025000101" }, unit: "%", annotation: null, raw: "***" }])
      const index = yield* estat.getDataPage({ statsDataId: "0004052037", narrowing: { cdTab: "1", cdCat01: "0001", cdArea: "13100" } }, { startPosition: 1, limit: 2 })
      expect(cellAt(index.cells, 0).unit).toBeNull()
      expect(index.nextKey).toBe(3)
    }))

  it.scopedLive("pages with `held`: every page is asked for, but a body beyond the permits is read only after a release", () =>
    Effect.gen(function* () {
      const { estat, fake } = yield* setup({}, { estatMaxInFlight: 3 })
      const held = yield* Effect.makeSemaphore(1)
      const received = yield* Queue.unbounded<ReceivedPage<DataPage>>()
      const fetching = yield* estat.pages({ statsDataId: "0003445078" }, planPages(36, 10), { concurrency: 4, held, read: () => pageOfBytes }).pipe(
        Stream.runForEach((page) => Queue.offer(received, page)),
        Effect.fork
      )
      const first = yield* Queue.take(received)
      // All four were asked for and the fake has sent every answer whole; three wait for the permit.
      const answered = Effect.sync(() => fake.requests.filter((r) => r.endpoint === "getStatsData" && r.endedAt !== null).length)
      yield* Effect.repeat(answered, { until: (n) => n === 4, schedule: Schedule.spaced("5 millis") })
      // Parked answers hold no in-flight slot: other calls go through meanwhile.
      const search = yield* estat.searchTables({ searchWord: "国勢調査", limit: 1 }).pipe(Effect.timeoutFail({ duration: "2 seconds", onTimeout: () => new Error("blocked") }))
      expect(search.total).toBe(2)
      // A round trip after their answers arrived, none of the three was read.
      expect(fake.requests.filter((r) => r.endpoint === "getStatsData")).toHaveLength(4)
      expect(yield* Queue.size(received)).toBe(0)
      const all = [first]
      for (let i = 1; i < 4; i++) {
        yield* all[i - 1]!.release
        all.push(yield* Queue.take(received))
      }
      yield* Fiber.join(fetching)
      expect(all.map((p) => p.request.index).sort()).toEqual([1, 2, 3, 4])
      expect(all.reduce((sum, p) => sum + p.page.cells.count, 0)).toBe(36)
    }))

  it.scopedLive("pages with `held`: a failed attempt gives its permit back, so the retry gets it", () =>
    Effect.gen(function* () {
      const { estat, fake } = yield* setup()
      fake.setFaults({ failNext: { status: 503, count: 2, endpoint: "getStatsData" } })
      const held = yield* Effect.makeSemaphore(1)
      const pages = yield* estat.pages({ statsDataId: "0003445078" }, planPages(36, 36), { concurrency: 1, held, read: () => pageOfBytes }).pipe(
        Stream.runCollect,
        Effect.timeoutFail({ duration: "5 seconds", onTimeout: () => new Error("the retry never got the permit") })
      )
      expect([...pages].map((p) => p.page.cells.count)).toEqual([36])
      expect(fake.requests).toHaveLength(3)
    }))

  it.scopedLive("pages with `held`: a run cancelled while an answer waits for room aborts that request", () =>
    Effect.gen(function* () {
      // Page 1 answers at once; page 2's headers come later and its body never ends.
      const page1 = JSON.stringify({ GET_STATS_DATA: { RESULT: { STATUS: 0 }, STATISTICAL_DATA: {
        RESULT_INF: { TOTAL_NUMBER: 2, FROM_NUMBER: 1, TO_NUMBER: 1, NEXT_KEY: 2 },
        DATA_INF: { VALUE: [{ "@tab": "1", "@time": "2020000000", $: "5" }] }
      } } })
      const page2Closed = yield* Deferred.make<boolean>()
      const server = createServer((req, res: ServerResponse) => {
        if (new URL(req.url ?? "/", "http://x").searchParams.get("startPosition") === "1") return void res.end(page1)
        let trickle: ReturnType<typeof setInterval> | undefined
        const headers = setTimeout(() => {
          res.writeHead(200, { "content-type": "application/json" }).write('{"GET_STATS_DATA":')
          trickle = setInterval(() => res.write(" "), 20)
        }, 150)
        res.on("close", () => {
          clearTimeout(headers)
          clearInterval(trickle)
          Deferred.unsafeDone(page2Closed, Effect.succeed(!res.writableFinished))
        })
      })
      yield* Effect.acquireRelease(
        Effect.async<void>((resume) => void server.listen(0, "127.0.0.1", () => resume(Effect.void))),
        () => Effect.sync(() => server.closeAllConnections()).pipe(Effect.zipRight(Effect.async<void>((resume) => void server.close(() => resume(Effect.void)))))
      )
      const settings: AppSettings = {
        ...defaultSettings,
        estatBaseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        estatAppId: Option.some(Redacted.make(FAKE_APP_ID))
      }
      const estat = yield* make(settings).pipe(Effect.provide(FetchHttpClient.layer))
      const held = yield* Effect.makeSemaphore(1)
      const received = yield* Queue.unbounded<ReceivedPage<DataPage>>()
      const fetching = yield* estat.pages({ statsDataId: "0000000001" }, planPages(2, 1), { concurrency: 2, held, read: () => pageOfBytes }).pipe(
        Stream.runForEach((page) => Queue.offer(received, page)),
        Effect.fork
      )
      expect((yield* Queue.take(received)).request.index).toBe(1) // its permit is kept: page 2 waits for room
      yield* Effect.sleep("400 millis")
      yield* Fiber.interrupt(fetching)
      const aborted = yield* Deferred.await(page2Closed).pipe(Effect.timeoutFail({ duration: "2 seconds", onTimeout: () => new Error("page 2's request was left open") }))
      expect(aborted).toBe(true)
    }))

  it.scopedLive("without ESTAT_APP_ID every call fails with how to set it", () =>
    Effect.gen(function* () {
      const { estat, fake } = yield* setup({}, { estatAppId: Option.none() })
      const error = yield* Effect.flip(estat.searchTables({ searchWord: "人口" }))
      expect(error._tag).toBe("EStatNotConfigured")
      expect(error.message).toContain("ESTAT_APP_ID is not set")
      expect(error.message).toContain("https://www.e-stat.go.jp/api/")
      expect(fake.requests).toHaveLength(0)
    }))

  it.scopedLive("STATUS 100 inside an HTTP 403 is an API error with e-Stat's message, not retried", () =>
    Effect.gen(function* () {
      const { estat, fake } = yield* setup({}, { estatAppId: Option.some(Redacted.make("wrong-id-42")) })
      const error = yield* Effect.flip(estat.getMetaInfo("0003445078"))
      expect(error).toMatchObject({ _tag: "EStatApiError", status: 100, errorMessage: "認証に失敗しました。アプリケーションIDを確認して下さい。", endpoint: "getMetaInfo" })
      expect(error.message).toContain("Check that ESTAT_APP_ID")
      expect(error.message).not.toContain("wrong-id-42")
      // Not retried; one call naming no dataset confirms it is the application ID.
      expect(fake.requests.map((r) => r.endpoint)).toEqual(["getMetaInfo", "getStatsList"])
    }))

  it.scopedLive("STATUS 300 for an unknown table names it", () =>
    Effect.gen(function* () {
      const { estat } = yield* setup()
      const error = yield* Effect.flip(estat.getMetaInfo("0000000000"))
      expect(error).toMatchObject({ _tag: "EStatApiError", status: 300, errorMessage: "統計表ID（statsDataId）=[0000000000]のデータは存在しません。" })
      expect(error.message).toContain("does not exist")
      neverLeaks(error)
    }))

  it.scopedLive("a WAF 403 HTML page is an HTTP error, not retried", () =>
    Effect.gen(function* () {
      const { estat, fake } = yield* setup({ faults: { wafNext: 5 } })
      const error = yield* Effect.flip(estat.searchTables({ searchWord: "人口" }))
      expect(error).toMatchObject({ _tag: "EStatHttpError", httpStatus: 403, detail: 'an HTML page "Access Denied"' })
      expect(fake.requests).toHaveLength(1)
    }))

  it.scopedLive("5xx twice then success is retried to success; 429 likewise", () =>
    Effect.gen(function* () {
      const { estat, fake } = yield* setup({ faults: { failNext: { status: 503, count: 2 } } })
      const page = yield* estat.searchTables({ searchWord: "人口" })
      expect(page.total).toBeGreaterThan(0)
      expect(fake.requests).toHaveLength(3)
      fake.setFaults({ failNext: { status: 429, count: 1 } })
      yield* estat.getMetaInfo("0003445078")
      expect(fake.requests).toHaveLength(5)
    }))

  it.scopedLive("5xx forever fails after retries + 1 attempts with an actionable message", () =>
    Effect.gen(function* () {
      const { estat, fake } = yield* setup({ faults: { failNext: { status: 500, count: 100 } } })
      const error = yield* Effect.flip(estat.searchTables({ searchWord: "人口" }))
      expect(error).toMatchObject({ _tag: "EStatHttpError", httpStatus: 500, endpoint: "getStatsList" })
      expect(error.message).toBe("e-Stat is unavailable on getStatsList: a non-e-Stat body (19 bytes). Try again in a few minutes.")
      expect(fake.requests).toHaveLength(4)
    }))

  it.scopedLive("a body cut short once is retried to success; cut on every attempt, it fails after retries + 1 attempts", () =>
    Effect.gen(function* () {
      const { estat, fake } = yield* setup({ faults: { truncateNext: 1 } })
      const meta = yield* estat.getMetaInfo("0003445078")
      expect(meta.table.statsDataId).toBe("0003445078")
      expect(fake.requests).toHaveLength(2)
      fake.setFaults({ truncateNext: 1 })
      const page = yield* estat.getDataPage({ statsDataId: "0003445078" }, { startPosition: 1, limit: 36 })
      expect(page.cells.count).toBe(36)
      expect(fake.requests).toHaveLength(4)
      fake.setFaults({ truncateNext: 100 })
      const error = yield* Effect.flip(estat.getMetaInfo("0003445078"))
      expect(error).toMatchObject({ _tag: "EStatIncompleteBody", endpoint: "getMetaInfo" })
      expect(error.message).toContain("ended early or was not JSON on every attempt")
      expect(fake.requests).toHaveLength(4 + 4)
    }))

  it.scopedLive("a slow e-Stat times out per request, retried, then EStatTimeout", () =>
    Effect.gen(function* () {
      const { estat, fake } = yield* setup({ faults: { latencyMs: 400 } }, { estatTimeout: Duration.millis(100), estatRetries: 1 })
      const error = yield* Effect.flip(estat.searchTables({ searchWord: "人口" }))
      expect(error).toMatchObject({ _tag: "EStatTimeout", endpoint: "getStatsList", timeoutMs: 100 })
      expect(error.message).toContain("ESTAT_TIMEOUT")
      expect(fake.requests).toHaveLength(2)
    }))

  it.scopedLive("a refused connection is EStatUnavailable, retried, without the appId", () =>
    Effect.gen(function* () {
      const { estat } = yield* setup({}, { estatBaseUrl: "http://127.0.0.1:9/rest/3.0/app", estatRetries: 1 })
      const error = yield* Effect.flip(estat.searchTables({ searchWord: "人口" }))
      expect(error._tag).toBe("EStatUnavailable")
      neverLeaks(error)
    }))

  it.scopedLive("forced STATUS 200-range errors and >100 codes are API errors", () =>
    Effect.gen(function* () {
      const { estat, fake } = yield* setup({ faults: { forceStatus: { status: 200, count: 1 } } })
      const internal = yield* Effect.flip(estat.getMetaInfo("0003445078"))
      expect(internal).toMatchObject({ _tag: "EStatApiError", status: 200 })
      expect(fake.requests).toHaveLength(1) // an e-Stat error body is final, even with HTTP 500
      const codes = Array.from({ length: 101 }, (_, i) => String(i)).join(",")
      const tooMany = yield* Effect.flip(estat.countRecords({ statsDataId: "0003445078", narrowing: { cdArea: codes } }))
      expect(tooMany).toMatchObject({ _tag: "EStatApiError", status: 105 })
    }))

  it.scopedLive("getMetaInfo answered STATUS 1 (no data) is EStatNoData naming the dataset, not a schema dump, and not retried", () =>
    Effect.gen(function* () {
      const { estat, fake } = yield* setup({ faults: { forceStatus: { status: 1, count: 1 } } })
      const error = yield* Effect.flip(estat.getMetaInfo("0003445078"))
      expect(error).toMatchObject({ _tag: "EStatNoData", endpoint: "getMetaInfo", statsDataId: "0003445078", errorMessage: "正常に終了しましたが、該当データはありませんでした。" })
      expect(error.message).toBe(
        "e-Stat has no metadata for dataset 0003445078 (getMetaInfo: STATUS 1, \"正常に終了しましたが、該当データはありませんでした。\"): " +
          "no table matches this id. Check the id; search_estat_data finds valid ones."
      )
      expect(fake.requests).toHaveLength(1)
    }))

  it.scopedLive("STATUS 100 for an unknown dataset id says the id is unknown, never ESTAT_APP_ID", () =>
    Effect.gen(function* () {
      const { estat, fake } = yield* setup({ faults: { unknownIdStatus: 100 } })
      const meta = yield* Effect.flip(estat.getMetaInfo("0000000099"))
      expect(meta).toMatchObject({ _tag: "EStatUnknownDataset", endpoint: "getMetaInfo", statsDataId: "0000000099", status: 100 })
      expect(meta.message).toContain("e-Stat does not know dataset 0000000099")
      const count = yield* Effect.flip(estat.countRecords({ statsDataId: "0000000099" }))
      expect(count).toMatchObject({ _tag: "EStatUnknownDataset", endpoint: "getStatsData", statsDataId: "0000000099" })
      for (const error of [meta, count]) {
        expect(error.message).not.toContain("ESTAT_APP_ID")
        neverLeaks(error)
      }
      expect(fake.requests.map((r) => r.endpoint)).toEqual(["getMetaInfo", "getStatsList", "getStatsData", "getStatsList"])
    }))
})

describe("EStat's retry backoff, on the TestClock", () => {
  it.scoped("a transient failure is tried again after ESTAT_RETRY_BASE's backoff (doubling, jittered ±20%): not sooner, and at once after", () =>
    Effect.gen(function* () {
      // e-Stat in memory behind an HttpClient that fails the first two requests with a gateway's 503.
      const table = generatedTable({ id: "0009000003", categories: 2, areas: 2, months: 2 })
      const api = makeEStatApi({ tables: [table], appIds: [MOCK_APP_ID] })
      let requests = 0
      const client = HttpClient.make((request, url) =>
        Effect.sync(() => {
          requests++
          const answer = requests <= 2 ? { httpStatus: 503, body: "Service Unavailable" } : api.answer("getMetaInfo", url.searchParams, 0)
          return HttpClientResponse.fromWeb(request, new Response(answer.body, { status: answer.httpStatus }))
        }))
      const estat = yield* make({ ...defaultSettings, estatBaseUrl: "http://estat.invalid/rest/3.0/app", estatAppId: Option.some(Redacted.make(MOCK_APP_ID)) }).pipe(
        Effect.provideService(HttpClient.HttpClient, client)
      )
      expect(Duration.toMillis(defaultSettings.estatRetryBase)).toBe(500)
      const asking = yield* Effect.fork(estat.getMetaInfo(table.info.id))
      yield* TestClock.adjust("399 millis") // the first wait is 400–600 ms
      expect(requests).toBe(1)
      yield* TestClock.adjust("201 millis") // t = 600: tried again; the second wait is 800–1200 ms
      expect(requests).toBe(2)
      yield* TestClock.adjust("599 millis") // t = 1199, before the earliest second retry (400 + 800)
      expect(requests).toBe(2)
      yield* TestClock.adjust("601 millis") // t = 1800, after the latest (600 + 1200)
      expect(requests).toBe(3)
      expect((yield* Fiber.join(asking)).table.statsDataId).toBe(table.info.id)
    }))
})

/** A 127.0.0.1 server answering its n-th request with `bodies[n]` (the last one from then on), HTTP 200. */
const bodiesServer = (bodies: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    let served = 0
    const server = createServer((_req, res: ServerResponse) => {
      const body = bodies[Math.min(served++, bodies.length - 1)]!
      res.writeHead(200, { "content-type": "application/json;charset=utf-8" }).end(body)
    })
    yield* Effect.acquireRelease(
      Effect.async<void>((resume) => void server.listen(0, "127.0.0.1", () => resume(Effect.void))),
      () => Effect.sync(() => server.closeAllConnections()).pipe(Effect.zipRight(Effect.async<void>((resume) => void server.close(() => resume(Effect.void)))))
    )
    const estat = yield* make({
      ...defaultSettings,
      estatBaseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      estatAppId: Option.some(Redacted.make(FAKE_APP_ID)),
      estatRetries: 3,
      estatRetryBase: Duration.millis(5)
    }).pipe(Effect.provide(FetchHttpClient.layer))
    return { estat, served: () => served }
  })

// Real answers recorded from e-Stat by others (see SOURCES.md there), read where they are.
const REAL = REAL_ESTAT_DIR

describe.skipIf(!existsSync(REAL))("EStat live layer against recorded real e-Stat answers", () => {
  const realData = () => readFileSync(`${REAL}/0003425893-getStatsData.json`, "utf8").trim()
  const realMeta = () => readFileSync(`${REAL}/0003445078-getMetaInfo.json`, "utf8")

  it.scopedLive("a recorded answer cut at any point is retried, and read whole on the next attempt", () =>
    Effect.gen(function* () {
      const body = realData()
      for (const cut of [1, Math.floor(body.length / 10), Math.floor(body.length / 2), body.length - 1]) {
        const { estat, served } = yield* bodiesServer([body.slice(0, cut), body])
        const page = yield* estat.getDataPage({ statsDataId: "0003425893" }, { startPosition: 1, limit: 100 })
        expect(page.cells.count).toBe(24)
        expect(served()).toBe(2)
      }
      const meta = realMeta()
      const { estat, served } = yield* bodiesServer([meta.slice(0, meta.length / 2), meta.slice(0, meta.length - 3), meta])
      expect((yield* estat.getMetaInfo("0003445078")).table.title).toContain("男女別人口")
      expect(served()).toBe(3)
    }))

  it.scopedLive("whole JSON is final: an error STATUS in HTTP 200, or JSON that is no e-Stat answer, is not retried", () =>
    Effect.gen(function* () {
      const refused = realData().replace('"STATUS":0', '"STATUS":102')
      const first = yield* bodiesServer([refused])
      const error = yield* Effect.flip(first.estat.getDataPage({ statsDataId: "0003425893" }, { startPosition: 1, limit: 100 }))
      expect(error).toMatchObject({ _tag: "EStatApiError", status: 102 })
      expect(first.served()).toBe(1)
      const second = yield* bodiesServer(['{"message":"hello"}'])
      const other = yield* Effect.flip(second.estat.getMetaInfo("0003445078"))
      expect(other).toMatchObject({ _tag: "EStatDecodeError", detail: "the body is not an e-Stat response" })
      expect(second.served()).toBe(1)
    }))
})
