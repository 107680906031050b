import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Worker as NodeThread } from "node:worker_threads"
import { Effect, Either, Fiber } from "effect"
import { describe, expect, it } from "@effect/vitest"
import { rowBuilder } from "../../src/domain/rows.js"
import { writeCsvFile } from "../../src/services/csvFile.js"
import { pageOfBytes } from "../../src/services/estat/bodies.js"
import { decodeSavedPage } from "../../src/services/estat/schema.js"
import { type PageOrder, PIECE_BYTES } from "../../src/services/pageWriter/job.js"
import { splitValueBytes } from "../../src/services/estat/valuePieces.js"
import { inWorker, PageWriter, spawnPageWorker } from "../../src/services/pageWriter/PageWriter.js"
import { EStat } from "../../src/services/estat/EStat.js"
import { EStatMemory, generatedTable } from "../../src/testing/index.js"
import { REAL_ESTAT_DIR } from "../support/realEStat.js"

/** A recorded real getStatsData answer, with its own CLASS_INF (read from ../shared, never copied). */
const REAL_PAGE = join(REAL_ESTAT_DIR, "0003425893-getStatsData.json")

const tempDir = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(join(tmpdir(), "estat-page-writer-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

const realJob = (csv: string | null): PageOrder => {
  const text = readFileSync(REAL_PAGE, "utf8")
  const saved = Either.getOrThrow(decodeSavedPage(JSON.parse(text)))
  return {
    body: [new TextEncoder().encode(text)],
    httpStatus: 200,
    shape: { statsDataId: "0003425893", dimensions: saved.meta!.dimensions, withLabels: true },
    expectedCells: saved.page.cells.count,
    atMostTotal: false,
    sampleSize: 5,
    csv
  }
}

const generated = generatedTable({ id: "0009000077", categories: 40, areas: 50, months: 60, specialEvery: 7, annotationEvery: 11 })

/** The generated table's first page of `limit` cells, its body as the in-memory e-Stat sends it. */
const generatedJob = (limit: number, csv: string | null) =>
  Effect.gen(function* () {
    const estat = yield* EStat
    const meta = yield* estat.getMetaInfo(generated.info.id)
    const answer = yield* estat.readDataPage({ statsDataId: generated.info.id }, { startPosition: 1, limit }, (body, httpStatus) => Effect.succeed({ body, httpStatus }))
    return {
      ...answer,
      shape: { statsDataId: generated.info.id, dimensions: meta.dimensions, withLabels: true },
      expectedCells: limit,
      atMostTotal: false,
      sampleSize: 5,
      csv
    } satisfies PageOrder
  }).pipe(Effect.provide(EStatMemory.layer({ tables: [generated] })), Effect.orDie)

describe("the page writer's worker thread", () => {
  it.scopedLive("writes the very CSV and summary the calling thread writes, for a recorded real answer and a generated page, paced or not", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      // Paced: the thread takes a CpuPacer turn between pieces and chunks (a budget it can keep: no waits to speak of).
      const thread = yield* inWorker(spawnPageWorker, 64)
      const here = yield* Effect.provide(PageWriter, PageWriter.inThread)
      const jobs = [["real", (csv: string) => Effect.succeed(realJob(csv))], ["generated", (csv: string) => generatedJob(3_000, csv)]] as const
      for (const [name, job] of jobs) {
        // Each its own bytes: the body is moved to the thread, not copied.
        const inThread = yield* here.write(yield* job(join(dir, `${name}-here.csv`)))
        const inWorkerThread = yield* thread.write(yield* job(join(dir, `${name}-worker.csv`)))
        expect(inWorkerThread).toEqual(inThread)
        expect(inThread.written).toBe(true)
        expect(inThread.sampleRows.length).toBe(5)
        const csv = readFileSync(join(dir, `${name}-worker.csv`))
        expect(csv.equals(readFileSync(join(dir, `${name}-here.csv`)))).toBe(true)
        expect(csv.toString("utf8").trimEnd().split("\n").length).toBe(inThread.cells)
      }
    }))

  it.scopedLive("a body in many pieces, cut through characters, is moved to the thread and written as the whole body is", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const thread = yield* inWorker(spawnPageWorker)
      const here = yield* Effect.provide(PageWriter, PageWriter.inThread)
      // The recorded answer as UTF-8 (the file spells its Japanese as \u escapes): 歳 in every cell, 計数のない場合 in its NOTE.
      const utf8 = () => new TextEncoder().encode(JSON.stringify(JSON.parse(readFileSync(REAL_PAGE, "utf8"))))
      const whole = here.write({ ...realJob(join(dir, "whole.csv")), body: [utf8()] })
      const bytes = utf8()
      // 101 bytes a piece: three-byte characters straddle many of the cuts.
      const pieces = Array.from({ length: Math.ceil(bytes.length / 101) }, (_, i) => bytes.slice(i * 101, (i + 1) * 101))
      expect(pieces.length).toBeGreaterThan(10)
      const inPieces = yield* thread.write({ ...realJob(join(dir, "pieces.csv")), body: pieces })
      expect(inPieces).toEqual(yield* whole)
      expect(readFileSync(join(dir, "pieces.csv")).equals(readFileSync(join(dir, "whole.csv")))).toBe(true)
      // Moved, not copied: this thread's buffers are left empty.
      expect(pieces.every((piece) => piece.byteLength === 0)).toBe(true)
    }))

  it.scopedLive("a body cut short fails the job with BodyRejected (Incomplete), and the thread goes on with the next", () =>
    Effect.gen(function* () {
      const thread = yield* inWorker(spawnPageWorker)
      const whole = realJob(null)
      const bytes = whole.body[0]!
      const cut = yield* Effect.flip(thread.write({ ...whole, body: [bytes.slice(0, bytes.length / 2)] }))
      expect(cut).toMatchObject({ _tag: "BodyRejected", fault: { _tag: "Incomplete" } })
      expect((yield* thread.write(realJob(null))).cells).toBe(whole.expectedCells)
    }))

  it.scopedLive("a thread that dies fails its job with PageWriterFailed, not a hang", () =>
    Effect.gen(function* () {
      // Says it is ready as the runner does, then exits at the first request.
      const dying = () =>
        new NodeThread(
          `const { parentPort } = require("node:worker_threads"); parentPort.postMessage([0]); parentPort.on("message", () => process.exit(3))`,
          { eval: true }
        )
      const thread = yield* inWorker(dying)
      const failure = yield* Effect.flip(thread.write(realJob(null)))
      expect(failure._tag).toBe("PageWriterFailed")
      expect(failure.message).toContain("exited with code 3")
    }))

  it.scopedLive("interrupting a job stops it in the thread: it ends without writing its CSV", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const thread = yield* inWorker(spawnPageWorker)
      const csv = join(dir, "interrupted.csv")
      // 100,000 cells: hundreds of pieces to decode before any CSV is opened.
      const job = yield* Effect.fork(thread.write(yield* generatedJob(100_000, csv)))
      yield* Effect.repeat(thread.running, { until: (n) => n === 1 })
      yield* Fiber.interrupt(job)
      // Each question is a message to the thread, answered between the job's pieces: no timer.
      yield* Effect.repeat(thread.running, { until: (n) => n === 0 })
      expect(existsSync(csv)).toBe(false)
      // Left alone, the same job writes it.
      expect((yield* thread.write(yield* generatedJob(100_000, csv))).written).toBe(true)
      expect(existsSync(csv)).toBe(true)
    }), 120_000)
})

describe("a page written as it is read", () => {
  /** The CSV the page read whole makes (rows.csv of its cells): what the page writer must write. */
  const wholeCsv = (job: PageOrder, path: string) =>
    Effect.gen(function* () {
      const page = yield* pageOfBytes(job.body, job.httpStatus)
      yield* writeCsvFile(rowBuilder(job.shape).csv(page.cells, page.annotations), path, (reason) => new Error(reason))
      return readFileSync(path)
    })

  it.scopedLive("writes, piece by piece, the very CSV of the page read whole: a recorded real answer and a generated page of many pieces", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const here = yield* Effect.provide(PageWriter, PageWriter.inThread)
      // 30,000 cells: ~100 pieces, and CSV chunks that end inside pieces.
      for (const [name, job] of [["real", realJob(null)], ["generated", yield* generatedJob(30_000, null)]] as const) {
        const expected = yield* wholeCsv(job, join(dir, `${name}-whole.csv`))
        expect(expected.length).toBeGreaterThan(0)
        const summary = yield* here.write({ ...job, csv: join(dir, `${name}.csv`) })
        expect(summary.written).toBe(true)
        expect(readFileSync(join(dir, `${name}.csv`)).equals(expected)).toBe(true)
      }
    }))

  it.scopedLive("a page with fewer cells than a full one, or lacking a dimension, leaves no CSV behind", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const here = yield* Effect.provide(PageWriter, PageWriter.inThread)
      const short = join(dir, "short.csv")
      const job = yield* generatedJob(30_000, short)
      const summary = yield* here.write({ ...job, expectedCells: 30_001 })
      expect(summary).toMatchObject({ cells: 30_000, written: false })
      expect(existsSync(short)).toBe(false)
      const lacking = join(dir, "lacking.csv")
      const other = { id: "extra", name: "extra", description: null, items: [] }
      const missing = yield* here.write({ ...(yield* generatedJob(30_000, lacking)), shape: { ...job.shape, dimensions: [...job.shape.dimensions, other] } })
      expect(missing).toMatchObject({ cells: 30_000, missingDimensions: ["extra"], sampleRows: [], written: false })
      expect(existsSync(lacking)).toBe(false)
    }))
})

describe("a page whose cut went wrong after some of its CSV was written", () => {
  it.scopedLive("is written again from its start, read whole: the file holds the page once", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const here = yield* Effect.provide(PageWriter, PageWriter.inThread)
      // ~60 KB of plain cells, then cells whose text holds "},{": the first pieces parse and are
      // written, a later cut falls inside a text.
      const cells = Array.from({ length: 1500 }, (_, i) => ({
        "@tab": "01", "@cat01": String(i % 37).padStart(4, "0"), "@area": "00000", "@time": `${2000 + (i % 20)}000000`,
        $: i < 700 ? String(i) : `x},{"@tab":"${i}"`
      }))
      const body = JSON.stringify({
        GET_STATS_DATA: {
          RESULT: { STATUS: 0, ERROR_MSG: "正常に終了しました。" },
          STATISTICAL_DATA: { RESULT_INF: { TOTAL_NUMBER: 1500, FROM_NUMBER: 1, TO_NUMBER: 1500 }, DATA_INF: { VALUE: cells } }
        }
      })
      const dimension = (id: string) => ({ id, name: id, description: null, items: [] })
      const job: PageOrder = {
        body: [new TextEncoder().encode(body)],
        httpStatus: 200,
        shape: { statsDataId: "0000000001", dimensions: ["tab", "cat01", "area", "time"].map(dimension), withLabels: false },
        expectedCells: 1500,
        atMostTotal: false,
        sampleSize: 3,
        csv: join(dir, "page.csv")
      }
      // As the writer cuts it: the first piece is JSON, a later one is not.
      const pieces = splitValueBytes(Buffer.from(job.body[0]!), PIECE_BYTES)!.pieces.map((piece) => Either.try(() => JSON.parse(`[${new TextDecoder().decode(piece)}]`)))
      expect(Either.isRight(pieces[0]!) && pieces.some(Either.isLeft)).toBe(true)
      expect(yield* here.write(job)).toMatchObject({ cells: 1500, written: true })
      const page = yield* pageOfBytes(job.body, 200)
      yield* writeCsvFile(rowBuilder(job.shape).csv(page.cells, page.annotations), join(dir, "whole.csv"), (reason) => new Error(reason))
      const written = readFileSync(join(dir, "page.csv"))
      expect(written.equals(readFileSync(join(dir, "whole.csv")))).toBe(true)
      expect(written.toString("utf8").trimEnd().split("\n").length).toBe(1500)
    }))
})
