import { existsSync } from "node:fs"
import { createRequire } from "node:module"
import { extname } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { Worker as NodeThread } from "node:worker_threads"
import { Worker } from "@effect/platform"
import { WorkerError } from "@effect/platform/WorkerError"
import { NodeWorker } from "@effect/platform-node"
import { Context, Effect, Layer, Option, ParseResult, Scope } from "effect"
import type { BodyRejected } from "../estat/bodies.js"
import { startGivingWay } from "../../threadPriority.js"
import { CpuPacer } from "../CpuPacer.js"
import { CountRunning, makeHandlers, type PageOrder, type PageSummary, PageWriterFailed, WritePage } from "./job.js"

/**
 * Turns data pages' bodies into CSV files for DuckDB (see job.ts). The live layer does it in one
 * worker thread at a low priority: the page (an ~8 MB body, ~10 MB of columns), the garbage its
 * decoding makes and the collections that garbage costs stay off the event loop's thread and heap,
 * which then answers `/health` and other sessions' calls while fetches run.
 */
export class PageWriter extends Context.Tag("estat-mcp/PageWriter")<PageWriter, {
  readonly write: (page: PageOrder) => Effect.Effect<PageSummary, BodyRejected | PageWriterFailed>
  /** Pages being converted now, where they are. */
  readonly running: Effect.Effect<number, PageWriterFailed>
}>() {
  /** On the calling thread (tests, embedders who want no thread); paced by the CpuPacer in context, if any. */
  static readonly inThread: Layer.Layer<PageWriter> = Layer.effect(
    PageWriter,
    Effect.gen(function* () {
      const handlers = yield* makeHandlers
      const cpuBudget = yield* budgetInContext
      return PageWriter.of({ write: (page) => handlers.WritePage({ ...page, cpuBudget }), running: handlers.CountRunning() })
    })
  )

  /** In one worker thread, started at the first page and stopped with the layer; paced as `inThread`. */
  static readonly layer: Layer.Layer<PageWriter> = Layer.scoped(
    PageWriter,
    Effect.flatMap(Effect.suspend(() => budgetInContext), (cpuBudget) => inWorker(spawnPageWorker, cpuBudget))
  )
}

/** The CpuPacer's budget, passed with each page to where it is converted (a thread has its own pacer). */
const budgetInContext: Effect.Effect<number | null> = Effect.map(
  Effect.serviceOption(CpuPacer),
  (pacer) => Option.getOrNull(Option.flatMap(pacer, (paced) => paced.budget))
)

/**
 * Jobs one at a time in the thread `spawn` makes (its entry must run src/pageWorker.ts's runner).
 * A thread that dies fails its job with PageWriterFailed and is started again for the next one.
 */
export const inWorker = (spawn: (id: number) => NodeThread, cpuBudget: number | null = null): Effect.Effect<PageWriter["Type"], never, Scope.Scope> =>
  Effect.gen(function* () {
    const scope = yield* Effect.scope
    // Started at the first page: a process that never fetches has no thread to pay for.
    const pool = yield* Effect.cached(
      Scope.extend(Worker.makePoolSerialized<WritePage | CountRunning>({ size: 1, concurrency: 2 }), scope).pipe(Effect.provide(NodeWorker.layer(spawn)))
    )
    // One page at a time: the thread's heap holds one page and its garbage (`running` goes through meanwhile).
    const oneAtATime = yield* Effect.makeSemaphore(1)
    const failed = <A, E>(asked: Effect.Effect<A, E | WorkerError | ParseResult.ParseError>) =>
      asked.pipe(Effect.catchIf(
        (error): error is WorkerError | ParseResult.ParseError => error instanceof WorkerError || ParseResult.isParseError(error),
        (error) => Effect.fail(new PageWriterFailed({ reason: workerFailure(error) }))
      ))
    return PageWriter.of({
      write: (page) => oneAtATime.withPermits(1)(failed(Effect.flatMap(pool, (workers) => workers.executeEffect(new WritePage({ ...page, cpuBudget }))))),
      running: failed(Effect.flatMap(pool, (workers) => workers.executeEffect(new CountRunning())))
    })
  })

/**
 * The thread's failure in words. The serialized pool decodes every failure with the request's
 * failure schema, so a dead thread's WorkerError comes as a ParseError whose `actual` it is.
 */
const workerFailure = (error: WorkerError | ParseResult.ParseError): string => {
  const cause = error instanceof WorkerError ? error : error.issue.actual
  return cause instanceof WorkerError
    ? `the page worker thread failed (${cause.reason}): ${cause.cause instanceof Error ? cause.cause.message : String(cause.cause)}`
    : `the page worker's answer was not understood: ${error.message}`
}

/**
 * The worker's entry beside this module's build: `pageWorker.mjs` beside the one-file bundle
 * (this code may sit in its `chunks/`), `pageWorker.js` in tsc's dist/, `pageWorker.ts` in the sources.
 */
export const pageWorkerEntry = (): URL => {
  const extension = extname(fileURLToPath(import.meta.url))
  const candidates = (extension === ".mjs" ? ["./", "../"] : ["../../"]).map((folder) => new URL(`${folder}pageWorker${extension}`, import.meta.url))
  return candidates.find((url) => existsSync(url)) ?? candidates[0]!
}

/** Old space for one page at a time and its garbage; young space small, as the server's. */
const RESOURCE_LIMITS = { maxOldGenerationSizeMb: 96, maxYoungGenerationSizeMb: 16 }

/** The page thread, below the event loop's priority from its start (its code loading included). */
export const spawnPageWorker = (): NodeThread => startGivingWay(() => {
  const entry = pageWorkerEntry()
  if (!entry.pathname.endsWith(".ts")) return new NodeThread(entry, { resourceLimits: RESOURCE_LIMITS })
  // Sources (vitest, tsx, npm run dev): Node 20 cannot load TypeScript in a worker; tsx's API can.
  // (its ES module: `require.resolve` would name the CommonJS one)
  const tsx = new URL("./dist/esm/api/index.mjs", pathToFileURL(createRequire(import.meta.url).resolve("tsx/package.json"))).href
  return new NodeThread(
    `import(${JSON.stringify(tsx)}).then(({ tsImport }) => tsImport(${JSON.stringify(entry.href)}, ${JSON.stringify(entry.href)}))`,
    { eval: true, resourceLimits: RESOURCE_LIMITS }
  )
})
