import { Effect } from "effect"
import { make } from "./src/services/DataEngine.js"
import type { RowBatch } from "./src/domain/rows.js"
const N = 100_000
const cols = 16
const batch: RowBatch = {
  columns: Array.from({ length: cols }, (_, k) => ({ name: `c${k}`, type: k === 13 ? "DOUBLE" : k >= 9 && k <= 11 ? "INTEGER" : "VARCHAR" })),
  values: Array.from({ length: cols }, (_, k) => Array.from({ length: N }, (_, r) => (k === 13 ? r * 1.5 : k >= 9 && k <= 11 ? r % 12 : `v${k}_${r % 997}`))),
  count: N
}
const limit = process.env["LIMIT"] ?? "256MB"
const threads = Number(process.env["THREADS"] ?? 2)
const conc = Number(process.env["CONC"] ?? 2)
let peak = 0
setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 10).unref()
const prog = Effect.scoped(Effect.gen(function* () {
  const engine = yield* make({ duckdbMemoryLimit: limit, duckdbTempDir: "/tmp/dk/spill", duckdbThreads: threads })
  const base = process.memoryUsage.rss()
  const t = Date.now()
  yield* Effect.forEach(Array.from({ length: Number(process.env["WRITES"] ?? 14) }, (_, i) => i), (i) => engine.writeParquet(batch, `/tmp/dk/x${i}.parquet`).pipe(Effect.tap(() => process.env["GC"] ? (globalThis as any).gc() : undefined)), { concurrency: conc })
  console.log({ limit, threads, conc, baseMB: Math.round(base / 1e6), peakMB: Math.round(peak / 1e6), ms: Date.now() - t, heap: Math.round(process.memoryUsage().heapUsed / 1e6) })
}))
Effect.runPromise(prog)
