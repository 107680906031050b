import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js"
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js"
import { describe, expect, it } from "@effect/vitest"
import { generatedTable } from "../fakes/estatServer.js"
import { useE2E } from "../support/e2eServer.js"

/**
 * A client that hands its model only the `text` content (Cursor, LangChain agents, CLIs, every
 * client before 2025-06-18) must be able to answer from it alone: each step below takes its
 * arguments from the previous step's text, never from `structuredContent`.
 */

/**
 * A transport that asks for an older protocol revision in `initialize` (the SDK client always
 * sends its latest) and records the revision the server answered with.
 */
const speaking = (version: string, inner: Transport) => {
  let negotiated: string | undefined
  const transport: Transport = {
    start: () => inner.start(),
    close: () => inner.close(),
    send: (message: JSONRPCMessage, options) =>
      inner.send("method" in message && message.method === "initialize" ? { ...message, params: { ...message.params, protocolVersion: version } } : message, options),
    setProtocolVersion: (answered: string) => {
      negotiated = answered
      inner.setProtocolVersion?.(answered)
    },
    get sessionId() { return inner.sessionId },
    get onmessage() { return inner.onmessage },
    set onmessage(handler) { inner.onmessage = handler },
    get onclose() { return inner.onclose },
    set onclose(handler) { inner.onclose = handler },
    get onerror() { return inner.onerror },
    set onerror(handler) { inner.onerror = handler }
  }
  return { transport, negotiated: () => negotiated }
}

const CENSUS = "0003445078"
// 288 rows: more than one page of the e2e server's (100 rows).
const PRICES = generatedTable({ id: "0009000010", categories: 4, areas: 3, months: 24, specialEvery: 11 })

/** `key: value` from a text block: what a model reads off the line. */
const field = (text: string, key: string) => {
  const line = text.split("\n").find((l) => l.startsWith(`${key}: `))
  if (line === undefined) throw new Error(`no "${key}:" line in:\n${text}`)
  return line.slice(key.length + 2)
}

/** Every scalar of a JSON value, white space folded (table cells hold no tabs or line breaks). */
const leaves = (value: unknown): Array<string> =>
  value === null || value === undefined ? []
    : Array.isArray(value) ? value.flatMap(leaves)
    : typeof value === "object" ? Object.values(value).flatMap(leaves)
    : [folded(String(value))]
const folded = (text: string) => text.replace(/\s+/g, " ").trim()

/** A tool call through a client that hands its model only the text: the text, and whether it is an error. */
const caller = (client: Client) => async (name: string, args: Record<string, unknown>) => {
  const result = await client.callTool({ name, arguments: args })
  const content = result.content as ReadonlyArray<{ type: string; text?: string }>
  const text = content.filter((c) => c.type === "text").map((c) => c.text).join("\n")
  // Nothing of structuredContent (when the session has it) is missing from the text.
  for (const leaf of leaves(result.structuredContent)) expect(folded(text), `${name}: ${leaf}`).toContain(leaf)
  return { text, isError: result.isError === true }
}

const conversation = async (client: Client, table: string) => {
  // Once it has listed the tools, the SDK client checks each structuredContent against the tool's outputSchema.
  const { tools } = await client.listTools()
  const validated = tools.filter((t) => t.outputSchema !== undefined).length
  const texts: Array<{ readonly tool: string; readonly text: string }> = []
  const send = caller(client)
  const call = async (name: string, args: Record<string, unknown>) => {
    const { text, isError } = await send(name, args)
    if (isError) throw new Error(`${name}: ${text}`)
    texts.push({ tool: name, text })
    return text
  }
  const refused = async (name: string, args: Record<string, unknown>) => {
    const { text, isError } = await send(name, args)
    expect(isError, text).toBe(true)
    return text
  }

  const search = await call("search_estat_data", { query: "人口 男女", max_results: 3 })
  expect(search).toContain(CENSUS)
  expect(search).toContain("男女別人口－全国，都道府県，市区町村")
  // The census table's row: its total_records (36 cells), then its dimensions with their labels, indented under it.
  const lines = search.split("\n")
  const censusAt = lines.findIndex((l) => l.startsWith(`${CENSUS}\t`))
  expect(lines[censusAt]!.split("\t")).toContain("36")
  expect(lines.slice(censusAt + 1, censusAt + 5)).toEqual([
    " tab\t表章事項\t1\t人口",
    " cat01\t男女\t3\t総数, 男, 女",
    " area\t全国，都道府県，市区町村（2000年市区町村含む）\t12\t全国, 北海道, 札幌市, 東京都, 特別区部",
    " time\t時間軸（調査年）\t1\t2020年"
  ])
  expect(search).toContain("\n dimensions: id\tname\titem_count\tsample_labels\n")
  // The query, the scoring and the count are said once, in the summary.
  expect(search.split("\n")[0]).toMatch(/^\d+ tables match 「人口 男女」 \(scoring enhanced\); fetch one by dataset_id\./)
  expect(search).not.toMatch(/^(query|scoring_method|total_found): /m)

  // Official terms: applied on request; none offered for a word whose official term the query already uses.
  const rewritten = await call("apply_keyword_suggestions", { original_query: "北海道の収入と年収", accepted_keywords: { 収入: "所得", 年収: "年間収入" } })
  expect(field(rewritten, "transformed_query")).toBe("北海道の所得と年間収入")
  expect(await call("search_estat_data", { query: "北海道の収入と所得", scoring_method: "basic" })).not.toContain("suggestions")

  // A year for time, read as the table's codes (and said so); every unusable filter named at once.
  const filtered = await call("fetch_dataset_filtered", { dataset_id: CENSUS, filters: { area: "東京都", time: { from: "2020" } } })
  expect(field(filtered, "dataset_total_records")).toBe("36")
  expect(field(filtered, "filtered_records")).toBe("3")
  expect(filtered).toContain("13000:東京都")
  expect(filtered).toMatch(/^time\t.*\t2020000000\t.*from "2020" read as 2020000000 \(2020年\)\./m)
  // Sample rows: how many of how many, and where the rest are; what all rows share is said once, then one line per row.
  // The first session fetches; later ones (same server) are answered with its run.
  expect(filtered).toMatch(/(Fetched all 3 rows in 1 page\(s\) as a run|Reused run \S+ fetched at .* It holds 3 rows); sample_rows shows 3 of them\. For every row: load_to_iceberg/)
  expect(filtered).toContain("area_name=東京都")
  expect(filtered).toContain("0\t総数\t14047594")
  const unusable = await refused("fetch_dataset_filtered", { dataset_id: CENSUS, filters: { areas: "東京都", cat01: "子供" } })
  expect(unusable).toMatch(/^2 filters cannot be used: Invalid filter areas=東京都: .*Invalid filter cat01=子供: /)

  const whole = await call("fetch_dataset_auto", { dataset_id: CENSUS })
  expect(field(whole, "title")).toContain("男女別人口")
  expect(field(whole, "records_fetched")).toBe("36")
  expect(whole).toMatch(/cat01\t男女\t3/)
  expect(whole).toMatch(/(Fetched all 36 rows in 1 page\(s\) as a run|Reused run \S+ fetched at .* It holds 36 rows); sample_rows shows 5 of them\. /)
  expect(whole).toContain(
    "For every row: load_to_iceberg (s3_parquet_path = storage.parquet_prefix) then analyze_with_athena, or save_dataset_as_csv (s3_json_path = storage.manifest)."
  )
  const runId = field(whole, "run_id")
  const manifest = field(whole, "storage.manifest")
  const runFolder = field(whole, "storage.parquet_prefix")

  const paged = await call("fetch_large_dataset_complete", { dataset_id: CENSUS, chunk_size: 10, force: true })
  expect(field(paged, "pages")).toBe("4")
  expect(field(paged, "chunks_retrieved")).toBe("4")

  // Every result that rests on a run names it: run_id and the run's manifest.
  const merged = await call("transform_to_parquet", { s3_json_path: manifest })
  expect(field(merged, "run_id")).toBe(runId)
  expect(field(merged, "source_path")).toBe(manifest)
  expect(merged.split("\n")[0]).toBe(`Wrote all 36 rows of ${CENSUS} to one Parquet file.`)

  const loaded = await call("load_to_iceberg", { table_name: table, s3_parquet_path: runFolder })
  expect(loaded.split("\n")[0]).toBe(`Loaded 36 rows of the run into estat_db.${table}. Next: analyze_with_athena.`)
  expect(field(loaded, "run_id")).toBe(runId)
  expect(field(loaded, "run_manifest")).toBe(manifest)

  const basic = await call("analyze_with_athena", { table_name: table })
  expect(basic.split("\n")[0]).toMatch(new RegExp(`^duckdb on estat_db\\.${table} in \\d+ ms\\.$`))
  // Under each query, its rows headed by their typed columns.
  expect(basic).toMatch(/^rows and value statistics\tSELECT .*\t1\tfalse\n row_count:BIGINT\t/m)
  expect(basic).toMatch(/^ 36\t/m)
  const advanced = await call("analyze_with_athena", { table_name: table, analysis_type: "advanced" })
  // No query was cut: said once above them.
  expect(advanced).toContain("\nin every row: truncated=false\n")
  expect(advanced).toMatch(/^by area\tSELECT .*\t12\n area_code:VARCHAR\tarea_name:VARCHAR\t/m)
  expect(advanced).toMatch(/^ 13000\t東京都\t3\t28095188\t/m)
  const custom = await call("analyze_with_athena", {
    table_name: table,
    analysis_type: "custom",
    custom_query: `SELECT area_name, cat01_name, value FROM ${table} WHERE area_code = '13000' ORDER BY cat01_code`
  })
  expect(custom).toContain("area_name:VARCHAR\tcat01_name:VARCHAR\tvalue:DOUBLE")
  expect(custom).toContain("東京都\t総数\t14047594")
  expect(custom).toContain("東京都\t男\t6827131")
  // A table the lake lacks, inside custom SQL, is answered with the tables it has.
  const missing = await refused("analyze_with_athena", { table_name: table, analysis_type: "custom", custom_query: "SELECT * FROM households" })
  expect(missing).toMatch(new RegExp(`households is not a table of estat_db; the tables are .*\\b${table}\\b`))

  const saved = await call("save_dataset_as_csv", { dataset_id: CENSUS, s3_json_path: manifest })
  expect(saved.split("\n")[0]).toBe("Saved 36 rows as CSV. Next: download_csv_from_s3 for a fresh link or the content.")
  expect(field(saved, "run_id")).toBe(runId)
  expect(field(saved, "run_manifest")).toBe(manifest)
  // On the local backend the URL is a path of the server's disk: the text says so and offers the other ways.
  expect(field(saved, "download_scope")).toBe(
    "only on the server's machine; elsewhere read location as an MCP resource, or use download_csv_from_s3 with return_content true"
  )
  const downloaded = await call("download_csv_from_s3", { s3_path: field(saved, "location"), return_content: true })
  expect(field(downloaded, "line_count")).toBe("37")
  expect(downloaded).toMatch(/13000,東京都.*,14047594/)
  return { texts, validated }
}

describe("a client that reads only the text content", () => {
  const e2e = useE2E("e2e-text", [PRICES])

  it("tools/list, which every session reads first, stays within 28 KB", async () => {
    const listed = await e2e().client.listTools()
    expect(Buffer.byteLength(JSON.stringify(listed))).toBeLessThanOrEqual(28_000)
  })

  it("each tool's description says what its result holds, and the pipeline's steps what to call next", async () => {
    const { tools } = await e2e().client.listTools()
    const next: Readonly<Record<string, ReadonlyArray<string>>> = {
      search_estat_data: ["fetch_dataset_auto", "fetch_dataset_filtered", "apply_keyword_suggestions"],
      apply_keyword_suggestions: ["search_estat_data"],
      fetch_dataset_auto: ["load_to_iceberg", "analyze_with_athena", "save_dataset_as_csv"],
      fetch_dataset_filtered: ["next steps as fetch_dataset_auto"],
      fetch_large_dataset_complete: ["next steps as fetch_dataset_auto"],
      load_to_iceberg: ["analyze_with_athena"],
      save_dataset_as_csv: ["download_csv_from_s3"]
    }
    for (const tool of tools) {
      const description = tool.description ?? ""
      expect(description, tool.name).toContain("Result")
      const then = description.slice(description.search(/Next:|next steps/))
      for (const step of next[tool.name] ?? []) expect(then, tool.name).toContain(step)
    }
  })

  it("says what requires_filtering true means and that nothing needs doing", async () => {
    const { text } = await caller(e2e().client)("search_estat_data", { query: "消費者物価指数（生成）" })
    const lines = text.split("\n")
    const header = lines.find((l) => l.startsWith("results (1): "))!.slice("results (1): ".length).split("\t")
    const row = lines.find((l) => l.startsWith(`${PRICES.info.id}\t`))!.split("\t")
    expect(row[header.indexOf("requires_filtering")]).toBe("true")
    expect(text.split("\n")[0]).toContain(
      "requires_filtering true: more rows than one e-Stat page; the fetch tools still get them all (in pages), or narrow with fetch_dataset_filtered."
    )
  })

  it("answers search → fetch (filtered, whole, paged) → transform → load → analyze → CSV → download from the text alone (2025-11-25)", async () => {
    const { texts, validated } = await conversation(e2e().client, "population")
    expect(validated).toBe(10)
    // Every tool, each call's text checked for every value of its structuredContent.
    expect(new Set(texts.map((t) => t.tool))).toEqual(new Set((await e2e().client.listTools()).tools.map((t) => t.name)))
  })

  for (const version of ["2025-03-26", "2024-11-05"]) {
    it(`does the same in a session of ${version}`, async () => {
      const client = new Client({ name: `text-${version}`, version: "1.0.0" })
      const transport = version === "2024-11-05"
        ? new SSEClientTransport(new URL(`${e2e().server.url}/sse`))
        : new StreamableHTTPClientTransport(e2e().server.mcpUrl)
      const older = speaking(version, transport)
      await client.connect(older.transport)
      try {
        expect(older.negotiated()).toBe(version)
        // The server sends structuredContent here too (a client of these revisions ignores it): still valid, still all in the text.
        const { validated } = await conversation(client, `population_${version.replaceAll("-", "_")}`)
        expect(validated).toBe(10)
      } finally {
        await client.close()
      }
    })
  }
})
