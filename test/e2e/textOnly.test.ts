import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js"
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js"
import { describe, expect, it } from "@effect/vitest"
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

const conversation = async (client: Client, table: string) => {
  const texts: Array<{ readonly tool: string; readonly text: string }> = []
  const call = async (name: string, args: Record<string, unknown>) => {
    const result = await client.callTool({ name, arguments: args })
    const content = result.content as ReadonlyArray<{ type: string; text?: string }>
    const text = content.filter((c) => c.type === "text").map((c) => c.text).join("\n")
    if (result.isError === true) throw new Error(`${name}: ${text}`)
    // Nothing of structuredContent (when the session has it) is missing from the text.
    for (const leaf of leaves(result.structuredContent)) expect(folded(text), `${name}: ${leaf}`).toContain(leaf)
    texts.push({ tool: name, text })
    return text
  }

  const search = await call("search_estat_data", { query: "人口 男女", max_results: 3 })
  expect(search).toContain(CENSUS)
  expect(search).toContain("男女別人口－全国，都道府県，市区町村")
  // The census table's row: its total_records (36 cells) and its dimensions with their labels.
  const censusRow = search.split("\n").find((l) => l.startsWith(`${CENSUS}\t`))!
  expect(censusRow.split("\t")).toContain("36")
  expect(search).toMatch(/cat01\t男女\t3\t総数, 男, 女/)
  expect(search).toMatch(/area\t全国，都道府県，市区町村（2000年市区町村含む）\t12\t全国, 北海道, 札幌市, 東京都, 特別区部/)

  const filtered = await call("fetch_dataset_filtered", { dataset_id: CENSUS, filters: { area: "東京都" } })
  expect(field(filtered, "dataset_total_records")).toBe("36")
  expect(field(filtered, "filtered_records")).toBe("3")
  expect(filtered).toContain("13000:東京都")
  // Sample rows: what all rows share is said once, then one line per row.
  expect(filtered).toContain("area_name=東京都")
  expect(filtered).toContain("0\t総数\t14047594")

  const whole = await call("fetch_dataset_auto", { dataset_id: CENSUS })
  expect(field(whole, "title")).toContain("男女別人口")
  expect(field(whole, "records_fetched")).toBe("36")
  expect(whole).toMatch(/cat01\t男女\t3/)
  const runFolder = field(whole, "storage.parquet_prefix")

  const loaded = await call("load_to_iceberg", { table_name: table, s3_parquet_path: runFolder })
  expect(field(loaded, "records_loaded")).toBe("36")
  expect(field(loaded, "run_id")).toBe(field(whole, "run_id"))

  const basic = await call("analyze_with_athena", { table_name: table })
  expect(basic).toMatch(/row_count\t/)
  expect(basic).toMatch(/^36\t/m)
  const advanced = await call("analyze_with_athena", { table_name: table, analysis_type: "advanced" })
  expect(advanced).toMatch(/queries\[by area\]\.rows \(12\):/)
  expect(advanced).toMatch(/13000\t東京都\t3\t28095188\t/)
  const custom = await call("analyze_with_athena", {
    table_name: table,
    analysis_type: "custom",
    custom_query: `SELECT area_name, cat01_name, value FROM ${table} WHERE area_code = '13000' ORDER BY cat01_code`
  })
  expect(custom).toContain("area_name:VARCHAR\tcat01_name:VARCHAR\tvalue:DOUBLE")
  expect(custom).toContain("東京都\t総数\t14047594")
  expect(custom).toContain("東京都\t男\t6827131")

  const saved = await call("save_dataset_as_csv", { dataset_id: CENSUS, s3_json_path: field(whole, "storage.manifest") })
  expect(field(saved, "records_count")).toBe("36")
  // On the local backend the URL is a path of the server's disk: the text says so and offers the other ways.
  expect(field(saved, "download_scope")).toBe(
    "only on the server's machine; elsewhere read location as an MCP resource, or use download_csv_from_s3 with return_content true"
  )
  const downloaded = await call("download_csv_from_s3", { s3_path: field(saved, "location"), return_content: true })
  expect(field(downloaded, "line_count")).toBe("37")
  expect(downloaded).toMatch(/13000,東京都.*,14047594/)
  return texts
}

describe("a client that reads only the text content", () => {
  const e2e = useE2E("e2e-text", [])

  it("tools/list, which every session reads first, stays within 28 KB", async () => {
    const listed = await e2e().client.listTools()
    expect(Buffer.byteLength(JSON.stringify(listed))).toBeLessThanOrEqual(28_000)
  })

  it("answers search → fetch (filtered, whole) → load → analyze → CSV → download from the text alone (2025-11-25)", async () => {
    const texts = await conversation(e2e().client, "population")
    expect(texts.map((t) => t.tool)).toEqual([
      "search_estat_data", "fetch_dataset_filtered", "fetch_dataset_auto", "load_to_iceberg",
      "analyze_with_athena", "analyze_with_athena", "analyze_with_athena", "save_dataset_as_csv", "download_csv_from_s3"
    ])
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
        await conversation(client, `population_${version.replaceAll("-", "_")}`)
      } finally {
        await client.close()
      }
    })
  }
})
