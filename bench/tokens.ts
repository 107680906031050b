/**
 * What a model pays to read each tool's result: the bytes of the `text` content (which holds
 * every fact, for clients that pass only the text) beside `JSON.stringify(structuredContent)`
 * (what clients that pass structured output give the model), for a typical call of every tool
 * against the fake e-Stat; and the size of `tools/list`, which every session reads first.
 * "values" is every value of `structuredContent` with one separator each and no names: about the
 * least a text holding every fact can be, before any summary, header or key.
 *
 *   npm run bench:tokens            (figures)
 *   npm run bench:tokens -- --show  (each call's text and structuredContent too)
 */
import { generatedTable } from "../test/fakes/estatServer.js"
import { startE2E } from "../test/support/e2eStack.js"

const prices = generatedTable({ id: "0009000010", categories: 4, areas: 3, months: 24, specialEvery: 11 })

const bytes = (text: string) => Buffer.byteLength(text, "utf8")
const show = process.argv.includes("--show")

/** The bytes of every scalar of a JSON value, one separator each. */
const valueBytes = (value: unknown): number =>
  value === null || value === undefined ? 0
    : Array.isArray(value) ? value.reduce((sum: number, v) => sum + valueBytes(v), 0)
    : typeof value === "object" ? Object.values(value).reduce((sum: number, v) => sum + valueBytes(v), 0)
    : bytes(String(value)) + 1

const main = async () => {
  const { client, close } = await startE2E("bench-tokens", [prices], { logLevel: "warn" })
  const rows: Array<{ call: string; text: number; summary: number; json: number; values: number }> = []
  const call = async (label: string, name: string, args: Record<string, unknown>) => {
    const result = await client.callTool({ name, arguments: args })
    const text = (result.content as ReadonlyArray<{ type: string; text?: string }>).filter((c) => c.type === "text").map((c) => c.text ?? "").join("\n")
    if (result.isError === true) throw new Error(`${label}: ${text}`)
    if (show) console.log(`=== ${label}\n${text}\n--- structuredContent\n${JSON.stringify(result.structuredContent)}\n`)
    rows.push({ call: label, text: bytes(text), summary: bytes(text.split("\n")[0]!) + 1, json: bytes(JSON.stringify(result.structuredContent)), values: valueBytes(result.structuredContent) })
    return result.structuredContent as Record<string, unknown>
  }
  try {
    const list = bytes(JSON.stringify(await client.listTools()))
    await call("search_estat_data (enhanced, 3 hits)", "search_estat_data", { query: "人口 男女" })
    await call("apply_keyword_suggestions", "apply_keyword_suggestions", { original_query: "北海道の収入と年収", accepted_keywords: { 収入: "所得", 年収: "年間収入" } })
    const whole = await call("fetch_dataset_auto (288 rows)", "fetch_dataset_auto", { dataset_id: prices.info.id }) as { storage: { manifest: string; parquet_prefix: string } }
    await call("fetch_dataset_filtered (2 areas)", "fetch_dataset_filtered", { dataset_id: "0003445078", filters: { area: ["東京都", "大阪府"] } })
    await call("fetch_large_dataset_complete", "fetch_large_dataset_complete", { dataset_id: prices.info.id, chunk_size: 50 })
    await call("transform_to_parquet (run)", "transform_to_parquet", { s3_json_path: whole.storage.manifest })
    await call("load_to_iceberg", "load_to_iceberg", { table_name: "prices", s3_parquet_path: whole.storage.parquet_prefix })
    await call("analyze_with_athena basic", "analyze_with_athena", { table_name: "prices" })
    await call("analyze_with_athena advanced", "analyze_with_athena", { table_name: "prices", analysis_type: "advanced" })
    await call("analyze_with_athena custom", "analyze_with_athena", {
      table_name: "prices", analysis_type: "custom", custom_query: "SELECT area_name, time_year, avg(value) AS average FROM prices GROUP BY 1, 2 ORDER BY 1, 2"
    })
    const csv = await call("save_dataset_as_csv", "save_dataset_as_csv", { dataset_id: prices.info.id, s3_json_path: whole.storage.manifest }) as { location: string }
    await call("download_csv_from_s3 (URL)", "download_csv_from_s3", { s3_path: csv.location })
    await call("download_csv_from_s3 (inline)", "download_csv_from_s3", { s3_path: csv.location, return_content: true })

    // The summary line (what happened, what to call next) has no counterpart in structuredContent: shown apart.
    const width = Math.max(...rows.map((r) => r.call.length))
    const percent = (a: number, b: number) => `${(100 * a / b).toFixed(0)} %`.padStart(8)
    console.log(`${"call".padEnd(width)}  text B  of it summary B  structured B  text/structured  facts/structured  values/structured`)
    const line = (r: typeof rows[number]) =>
      `${r.call.padEnd(width)}  ${String(r.text).padStart(6)}  ${String(r.summary).padStart(15)}  ${String(r.json).padStart(12)}  ` +
      `${percent(r.text, r.json).padStart(15)}  ${percent(r.text - r.summary, r.json).padStart(16)}  ${percent(r.values, r.json).padStart(17)}`
    for (const r of rows) console.log(line(r))
    const sum = (pick: (r: typeof rows[number]) => number) => rows.reduce((a, r) => a + pick(r), 0)
    console.log(line({ call: "all calls", text: sum((r) => r.text), summary: sum((r) => r.summary), json: sum((r) => r.json), values: sum((r) => r.values) }))
    console.log(`tools/list: ${list} bytes (${(list / 1024).toFixed(1)} KB)`)
  } finally {
    await close()
  }
}

await main()
