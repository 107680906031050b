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
    // The same table again: a reused run (issue 16); then paged and forced, as a fetch of a large table is.
    await call("fetch_dataset_auto (reused run)", "fetch_dataset_auto", { dataset_id: prices.info.id })
    await call("fetch_large_dataset_complete (6 pages)", "fetch_large_dataset_complete", { dataset_id: prices.info.id, chunk_size: 50, force: true })
    await call("transform_to_parquet (a run)", "transform_to_parquet", { s3_json_path: whole.storage.manifest })
    await call("load_to_iceberg", "load_to_iceberg", { table_name: "prices", s3_parquet_path: whole.storage.parquet_prefix })
    await call("analyze_with_athena basic", "analyze_with_athena", { table_name: "prices" })
    await call("analyze_with_athena advanced", "analyze_with_athena", { table_name: "prices", analysis_type: "advanced" })
    await call("analyze_with_athena custom", "analyze_with_athena", {
      table_name: "prices", analysis_type: "custom", custom_query: "SELECT area_name, time_year, avg(value) AS average FROM prices GROUP BY 1, 2 ORDER BY 1, 2"
    })
    const csv = await call("save_dataset_as_csv", "save_dataset_as_csv", { dataset_id: prices.info.id, s3_json_path: whole.storage.manifest }) as { location: string }
    await call("download_csv_from_s3 (URL)", "download_csv_from_s3", { s3_path: csv.location })
    await call("download_csv_from_s3 (inline)", "download_csv_from_s3", { s3_path: csv.location, return_content: true })

    // Printed as the README's table. The summary line (what happened, what to call next) has no
    // counterpart in structuredContent: shown apart ("facts" = the text without it).
    const number = (n: number) => n.toLocaleString("en")
    const percent = (a: number, b: number) => `${(100 * a / b).toFixed(1)} %`
    const name = (call: string) => call.replace(/^(\w+)/, "`$1`")
    console.log("| call | text | of it summary | `JSON.stringify(structuredContent)` | text / structured | facts / structured | values / structured |")
    console.log("|---|---|---|---|---|---|---|")
    const line = (r: typeof rows[number]) =>
      `| ${name(r.call)} | ${number(r.text)} | ${number(r.summary)} | ${number(r.json)} | ${percent(r.text, r.json)} | ${percent(r.text - r.summary, r.json)} | ${percent(r.values, r.json)} |`
    for (const r of rows) console.log(line(r))
    console.log(`\ntools/list: ${number(list)} bytes (${(list / 1024).toFixed(1)} KB; test/e2e/textOnly.test.ts keeps it ≤ 28,000)`)
  } finally {
    await close()
  }
}

await main()
