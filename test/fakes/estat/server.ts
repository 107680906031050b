import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { type EStatAnswer, isDataRequest, isEndpoint, makeEStatApi, type Quirks } from "../../../src/testing/estat/api.js"
import { makeCatalog } from "../../../src/testing/estat/catalog.js"
import type { FakeTable } from "../../../src/testing/estat/model.js"

export { isDataRequest } from "../../../src/testing/estat/api.js"

/** Switches that make the fake misbehave like the real service does (ESTAT-API.md §13, §19). */
export interface Faults extends Quirks {
  /** Delay before answering, in ms. */
  readonly latencyMs?: number
  /** The next `count` requests (to `endpoint`, when given) get this HTTP status (5xx, 429) with a gateway's plain-text body. */
  readonly failNext?: { readonly status: number; readonly count: number; readonly endpoint?: string }
  /** The next `count` requests get the WAF's HTML 403 page. */
  readonly wafNext?: number
  /** The next `count` bodies are cut in half. */
  readonly truncateNext?: number
  /** The next `count` requests answer with this e-Stat STATUS (1 no data, 100 auth, 300 not found, 200 internal …), payload left out. */
  readonly forceStatus?: { readonly status: number; readonly count: number }
  /** Data pages starting at `startPosition` get this HTTP status `times` times (Infinity: always). */
  readonly failPage?: { readonly startPosition: number; readonly times: number; readonly status: number }
  /** Data pages starting at `startPosition` are never answered (held until the client goes): a run stands still there. */
  readonly holdPage?: { readonly startPosition: number }
}

export interface FakeEStatOptions {
  /** Keep every data page body once encoded (benchmarks: latency then is only the simulated one). */
  readonly cacheDataPages?: boolean
  readonly appIds?: ReadonlyArray<string>
  readonly tables?: ReadonlyArray<FakeTable>
  readonly faults?: Faults
}

export interface ReceivedRequest {
  readonly endpoint: string
  readonly params: URLSearchParams
  /** When it arrived and when its answer was sent or the client went (performance.now() ms; null until then): round trips are counted from these. */
  readonly startedAt: number
  readonly endedAt: number | null
}

export interface FakeEStatHandle {
  /** Base URL for ESTAT_API_BASE_URL, ending in /rest/3.0/app. */
  readonly baseUrl: string
  readonly requests: ReadonlyArray<ReceivedRequest>
  readonly setFaults: (faults: Faults) => void
  readonly close: () => Promise<void>
}

export const FAKE_APP_ID = "fake-app-id-0123456789abcdef"

export const startFakeEStat = async (options: FakeEStatOptions = {}): Promise<FakeEStatHandle> => {
  const appIds = options.appIds ?? [FAKE_APP_ID]
  const api = makeEStatApi({
    tables: makeCatalog(options.tables ?? []).values(),
    appIds,
    ...(options.cacheDataPages ? { cacheDataPages: true } : {})
  })
  let faults: Faults = options.faults ?? {}
  let failLeft = faults.failNext?.count ?? 0
  let wafLeft = faults.wafNext ?? 0
  let truncateLeft = faults.truncateNext ?? 0
  let forceLeft = faults.forceStatus?.count ?? 0
  let failPageLeft = faults.failPage?.times ?? 0
  const requests: Array<ReceivedRequest> = []

  const send = (res: ServerResponse, answer: EStatAnswer) => {
    if (truncateLeft > 0) {
      truncateLeft--
      res.writeHead(answer.httpStatus, { "content-type": "application/json;charset=utf-8" })
      res.end(answer.body.slice(0, Math.floor(answer.body.length / 2)))
      return
    }
    const pieces = answer.pieces ?? [answer.body]
    const length = pieces.reduce((sum, piece) => sum + (typeof piece === "string" ? Buffer.byteLength(piece) : piece.byteLength), 0)
    res.writeHead(answer.httpStatus, { "content-type": "application/json;charset=utf-8", "content-length": length })
    for (const piece of pieces) res.write(piece)
    res.end()
  }

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1")
    const match = /^\/rest\/3\.0\/app\/json\/(\w+)$/.exec(url.pathname)
    const endpoint = match?.[1] ?? ""
    const params = url.searchParams
    if (!isEndpoint(endpoint)) {
      res.writeHead(404, { "content-type": "text/plain" }).end("Not Found")
      return
    }
    if (faults.holdPage !== undefined && isDataRequest({ endpoint, params }) &&
      params.get("startPosition") === String(faults.holdPage.startPosition)) return
    if (faults.failPage !== undefined && failPageLeft > 0 && isDataRequest({ endpoint, params }) &&
      params.get("startPosition") === String(faults.failPage.startPosition)) {
      failPageLeft--
      res.writeHead(faults.failPage.status, { "content-type": "text/plain" }).end("Service Unavailable")
      return
    }
    if (failLeft > 0 && faults.failNext && (faults.failNext.endpoint ?? endpoint) === endpoint) {
      failLeft--
      res.writeHead(faults.failNext.status, { "content-type": "text/plain" }).end(faults.failNext.status === 429 ? "Too Many Requests" : "Service Unavailable")
      return
    }
    if (wafLeft > 0) {
      wafLeft--
      res.writeHead(403, { "content-type": "text/html", server: "ZENEDGE" }).end("<html><head><title>Access Denied</title></head><body>Request blocked.</body></html>")
      return
    }
    const appId = params.get("appId")
    if (forceLeft > 0 && faults.forceStatus && appId !== null && appIds.includes(appId)) {
      forceLeft--
      return send(res, api.failure(endpoint, params, faults.forceStatus.status, Date.now(), faults))
    }
    send(res, api.answer(endpoint, params, Date.now(), faults))
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1")
    const received: { -readonly [K in keyof ReceivedRequest]: ReceivedRequest[K] } = {
      endpoint: url.pathname.split("/").at(-1) ?? "", params: url.searchParams, startedAt: performance.now(), endedAt: null
    }
    requests.push(received)
    res.on("close", () => void (received.endedAt = performance.now()))
    const latency = faults.latencyMs ?? 0
    if (latency <= 0) return handle(req, res)
    const timer = setTimeout(() => handle(req, res), latency)
    res.on("close", () => clearTimeout(timer))
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const port = (server.address() as AddressInfo).port
  return {
    baseUrl: `http://127.0.0.1:${port}/rest/3.0/app`,
    requests,
    setFaults: (next) => {
      faults = next
      failLeft = next.failNext?.count ?? 0
      wafLeft = next.wafNext ?? 0
      truncateLeft = next.truncateNext ?? 0
      forceLeft = next.forceStatus?.count ?? 0
      failPageLeft = next.failPage?.times ?? 0
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    })
  }
}

