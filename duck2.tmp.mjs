import { DuckDBInstance, VARCHAR, DOUBLE, INTEGER, DuckDBDataChunk } from "@duckdb/node-api"
const N = 100000, cols = 16
const types = Array.from({ length: cols }, (_, k) => (k === 13 ? DOUBLE : k >= 9 && k <= 11 ? INTEGER : VARCHAR))
const values = Array.from({ length: cols }, (_, k) => Array.from({ length: N }, (_, r) => (k === 13 ? r * 1.5 : k >= 9 && k <= 11 ? r % 12 : `v${k}_${r % 997}`)))
const mode = process.env.MODE
let peak = 0
setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 5).unref()
const db = await DuckDBInstance.create(":memory:", { memory_limit: "128MB", threads: "2", ...(process.env.EXTRA ? JSON.parse(process.env.EXTRA) : {}) })
const base = process.memoryUsage.rss()
for (let i = 0; i < 6; i++) {
  const c = await db.connect()
  await c.run(`CREATE TEMP TABLE b (${types.map((t, k) => `c${k} ${t}`).join(",")})`)
  const app = await c.createAppender("b")
  const chunk = DuckDBDataChunk.create(types, 2048)
  for (let off = 0; off < N; off += 2048) {
    const n = Math.min(2048, N - off)
    chunk.reset(); chunk.rowCount = n
    chunk.setColumns(values.map((v) => v.slice(off, off + n)))
    app.appendDataChunk(chunk)
  }
  app.closeSync()
  const afterAppend = process.memoryUsage.rss()
  if (mode !== "noCopy") await c.run(`COPY b TO '/tmp/dk/y.parquet' (FORMAT parquet, COMPRESSION zstd${process.env.RG ? `, ROW_GROUP_SIZE ${process.env.RG}` : ""})`)
  c.closeSync()
  globalThis.gc?.()
  if (i === 5) console.log(mode ?? "copy", process.env.RG ?? "", process.env.EXTRA ?? "", "append+", Math.round((afterAppend - base) / 1e6), "peak+", Math.round((peak - base) / 1e6), "end+", Math.round((process.memoryUsage.rss() - base) / 1e6))
}
