import { setPriority } from "node:os"
import * as WorkerRunner from "@effect/platform/WorkerRunner"
// Modules, not the package's index: that one brings undici and the HTTP server into the thread.
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeWorkerRunner from "@effect/platform-node/NodeWorkerRunner"
import { Effect, Layer } from "effect"
import { makeHandlers, PageWorkerRequest } from "./services/pageWriter/job.js"

/**
 * The page worker thread's entry (see services/pageWriter/PageWriter.ts): data pages' bodies in,
 * CSV files and summaries out. Beside the server's bundle as pageWorker.mjs, in dist/ as pageWorker.js.
 */

/**
 * Below the event loop's thread: on Linux a nice value is per thread, and 0 names the calling one.
 * Elsewhere it would renice the whole process, so nothing.
 */
const giveWay = Effect.sync(() => {
  if (process.platform === "linux") setPriority(0, PAGE_WORKER_NICENESS)
}).pipe(Effect.catchAllDefect(() => Effect.void))

/** As the server's other threads (threadPriority.ts). */
const PAGE_WORKER_NICENESS = 19

const runner = Layer.unwrapEffect(Effect.map(makeHandlers, (handlers) => WorkerRunner.layerSerialized(PageWorkerRequest, handlers))).pipe(
  Layer.provide(NodeWorkerRunner.layer)
)

NodeRuntime.runMain(Effect.zipRight(giveWay, WorkerRunner.launch(runner)), { disableErrorReporting: true })
