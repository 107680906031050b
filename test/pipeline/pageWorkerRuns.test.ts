import { Effect, Layer, Ref } from "effect"
import { describe, expect, it } from "@effect/vitest"
import { manifestKey } from "../../src/domain/runs.js"
import { fetchDataset } from "../../src/pipeline/fetchDataset.js"
import { readManifest } from "../../src/pipeline/runs.js"
import { PageWriterFailed } from "../../src/services/pageWriter/job.js"
import { PageWriter } from "../../src/services/pageWriter/PageWriter.js"
import { generatedTable, type GeneratedTableOptions } from "../fakes/estatServer.js"
import { baseRequest, mockedContext, queryRun } from "../support/pipeline.js"

/** 5 items × 4 areas × 12 months = 240 cells: three pages of 100, 100 and 40 rows. */
const table: GeneratedTableOptions = { id: "0009000031", categories: 5, areas: 4, months: 12, specialEvery: 7, annotationEvery: 11 }
const cells = 240
const EVERY_ROW = "SELECT * FROM run ORDER BY cat01_code, area_code, time_code"

/** The calling thread's writer, failing its `failAt`-th page as a dead worker thread would. */
const failingWriter = (failAt: number) =>
  Layer.effect(PageWriter, Effect.gen(function* () {
    const real = yield* Effect.provide(PageWriter, PageWriter.inThread)
    const jobs = yield* Ref.make(0)
    return PageWriter.of({
      ...real,
      write: (job) =>
        Effect.flatMap(Ref.updateAndGet(jobs, (n) => n + 1), (n) =>
          n === failAt ? new PageWriterFailed({ reason: "the page worker thread failed (unknown): exited with code 1" }) : real.write(job))
    })
  }))

describe("runs through the page worker thread", () => {
  it.scopedLive("store the very rows the calling thread stores", () =>
    Effect.gen(function* () {
      const { context } = yield* mockedContext([generatedTable(table)])
      const inWorker = yield* fetchDataset(baseRequest(table.id)).pipe(Effect.provide(context))
      const inThread = yield* fetchDataset(baseRequest(table.id)).pipe(Effect.provide(PageWriter.inThread), Effect.provide(context))
      expect(inWorker.manifest!.status).toBe("complete")
      const [workerRows, threadRows] = yield* Effect.all([queryRun(inWorker.manifest!, EVERY_ROW), queryRun(inThread.manifest!, EVERY_ROW)]).pipe(Effect.provide(context))
      expect(workerRows.length).toBe(cells)
      expect(workerRows).toEqual(threadRows)
      expect(inWorker.sampleRows).toEqual(inThread.sampleRows)
      expect(inWorker.manifest!.notes).toEqual(inThread.manifest!.notes)
      expect(inWorker.manifest!.annotations).toEqual(inThread.manifest!.annotations)
    }))

  it.scopedLive("a page its writer fails ends the run partial and resumable; the resume stores every row once", () =>
    Effect.gen(function* () {
      const { context } = yield* mockedContext([generatedTable(table)])
      const error = yield* Effect.flip(fetchDataset(baseRequest(table.id, { concurrency: 1 })).pipe(Effect.provide(failingWriter(2)), Effect.provide(context)))
      expect(error._tag).toBe("RunIncomplete")
      if (error._tag !== "RunIncomplete") return
      expect(error.message).toContain("the page worker thread failed")
      const partial = yield* readManifest(manifestKey(table.id, error.runId)).pipe(Effect.provide(context))
      expect(partial.status).toBe("partial")
      expect(partial.failed_pages.map((p) => p.index)).toEqual([2])
      const resumed = yield* fetchDataset(baseRequest(table.id, { resumeRunId: error.runId })).pipe(Effect.provide(context))
      expect(resumed).toMatchObject({ runId: error.runId, recordsFetched: cells })
      const [check] = yield* queryRun(resumed.manifest!, "SELECT count(*) AS n, count(DISTINCT (cat01_code, area_code, time_code)) AS d FROM run").pipe(Effect.provide(context))
      expect(check).toEqual({ n: cells, d: cells })
    }))
})
