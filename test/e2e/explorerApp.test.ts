import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { build } from "esbuild"
import { type Browser, chromium, type FrameLocator, type Page } from "playwright-core"
import { explorerUri } from "../../src/resources/explorerApp.js"
import { sampleTableIds } from "../../src/testing/index.js"
import { type BundleProcess, startBundle } from "../support/bundleProcess.js"
import { chromiumRequired, findChromium } from "../support/chromium.js"
import type { HostApi, ToolCall } from "../app/host/hostApi.js"
import { firstText } from "../support/toolResult.js"

/**
 * The explorer in a real browser, hosted as MCP Apps hosts do: the bundled server on its mocked
 * layers (`--mock`) fetches, loads and analyses the sample population table; a test host page
 * (ext-apps' AppBridge, the app in a sandboxed iframe) hands the app that real result, and sends
 * the tool calls the app asks for to the same server. Screenshots go to a temp folder.
 */

const executablePath = findChromium()
type CallResult = Awaited<ReturnType<Client["callTool"]>>

if (executablePath === undefined && !chromiumRequired) {
  describe("the explorer app in Chromium", () => {
    it.skip("skipped: no Chromium found (set CHROMIUM_PATH, or install chromium; CI installs it and sets CHROMIUM_REQUIRED=1)", () => {})
  })
} else {
  describe("the explorer app in Chromium", () => {
    let server: BundleProcess
    let client: Client
    let browser: Browser
    let page: Page
    let app: FrameLocator
    let analysis: CallResult
    let fetched: CallResult
    const answers: Array<CallResult> = []
    const shots = mkdtempSync(join(tmpdir(), "estat-explorer-shots-"))

    const call = async (name: string, args: Record<string, unknown>) => {
      const result = await client.callTool({ name, arguments: args })
      if (result.isError === true) throw new Error(`${name}: ${firstText(result)}`)
      return result
    }
    const texts = async (selector: string) => (await app.locator(selector).allTextContents()).map((t) => t.trim())
    const chartTexts = () => texts("#chart svg text")
    const columnOf = async (header: string) => {
      const headers = await texts("#table th")
      const index = headers.findIndex((h) => h.replace(/[▲▼]/g, "").trim() === header)
      return texts(`#table tbody tr td:nth-child(${index + 1})`)
    }

    beforeAll(async () => {
      if (executablePath === undefined) throw new Error("CHROMIUM_REQUIRED=1 but no Chromium was found: set CHROMIUM_PATH or install chromium")
      server = await startBundle("e2e-explorer", { nodeFlags: [], args: ["--mock"] })
      client = new Client({ name: "explorer-host", version: "1.0.0" })
      await client.connect(new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`)))
      fetched = await call("fetch_dataset_auto", { dataset_id: sampleTableIds.populationByPrefectureAndYear })
      const prefix = (fetched.structuredContent as { storage: { parquet_prefix: string } }).storage.parquet_prefix
      await call("load_to_iceberg", { table_name: "population", s3_parquet_path: prefix })
      analysis = await call("analyze_with_athena", { table_name: "population", analysis_type: "advanced" })
      const read = await client.readResource({ uri: explorerUri })
      const html = "text" in read.contents[0]! ? read.contents[0].text : ""

      const host = await build({ entryPoints: ["test/app/host/host.ts"], bundle: true, write: false, format: "iife", platform: "browser", logLevel: "warning" })
      browser = await chromium.launch({ executablePath, args: ["--no-sandbox"] })
      page = await browser.newPage({ viewport: { width: 860, height: 700 } })
      await page.exposeFunction("hostCallTool", async (request: ToolCall) => {
        const answer = await client.callTool(request)
        answers.push(answer)
        return answer
      })
      await page.setContent("<!doctype html><html><head><meta charset=\"utf-8\"></head><body></body></html>")
      await page.addScriptTag({ content: host.outputFiles[0]!.text })
      await page.evaluate((options) => (globalThis as unknown as HostApi).startHost(options), {
        html,
        input: { table_name: "population", analysis_type: "advanced" },
        result: analysis,
        context: { theme: "dark", containerDimensions: { width: 820, maxHeight: 600 }, locale: "ja-JP", displayMode: "inline" as const }
      })
      app = page.frameLocator("#app")
      await app.locator("#chart svg").waitFor()
    }, 180_000)

    afterAll(async () => {
      await browser?.close()
      await client?.close()
      server?.stop()
    })

    it("opens on the first analysis that makes a chart: the yearly total as a line, in Japanese, following the host's theme and size", async () => {
      expect(await page.evaluate(() => (globalThis as unknown as HostApi).hostLog.initialized)).toBe(true)
      expect(await app.locator("#heading").textContent()).toBe("duckdb: estat_db.population")
      expect(await app.locator("#pick-table option:checked").textContent()).toBe("年別")
      const labels = await chartTexts()
      expect(labels).toEqual(expect.arrayContaining(["時間軸", "合計", "2000年", "2024年"]))
      expect(await app.locator("#chart svg path").count()).toBeGreaterThan(0)
      expect(await app.locator("html").getAttribute("data-theme")).toBe("dark")
      // maxHeight 600: the chart takes half; the app reported its size to the host.
      expect(await app.locator("#chart").evaluate((el) => el.getBoundingClientRect().height)).toBe(300)
      await expect.poll(() => page.evaluate(() => (globalThis as unknown as HostApi).hostLog.sizes.length)).toBeGreaterThan(0)

      await page.evaluate(() => (globalThis as unknown as HostApi).setHostContext({ theme: "light", containerDimensions: { width: 820, maxHeight: 800 } }))
      await expect.poll(() => app.locator("html").getAttribute("data-theme")).toBe("light")
      await expect.poll(() => app.locator("#chart").evaluate((el) => el.getBoundingClientRect().height)).toBe(400)
      await page.locator("#app").screenshot({ path: join(shots, "explorer-by-year.png") })
    })

    it("switches to bars by area: prefecture labels on the axis, totals in the table", async () => {
      await app.locator("#pick-table").selectOption({ label: "地域別" })
      await expect.poll(chartTexts).toEqual(expect.arrayContaining(["地域", "東京都"]))
      expect(await app.locator("#pick-axis option:checked").textContent()).toBe("地域")
      expect(await texts("#table th")).toEqual(expect.arrayContaining(["地域（コード）", "地域", "行数", "合計", "平均"]))
      await page.locator("#app").screenshot({ path: join(shots, "explorer-by-area.png") })
    })

    it("sorts the table by a column, one way then the other, empty cells last", async () => {
      const numbers = (cells: ReadonlyArray<string>) => cells.map((c) => Number(c.replaceAll(",", "")))
      const header = app.locator("#table th", { hasText: "合計" })
      await header.click()
      expect(await header.getAttribute("aria-sort")).toBe("ascending")
      const ascending = numbers(await columnOf("合計"))
      expect(ascending).toEqual([...ascending].sort((a, b) => a - b))
      await app.locator("#table th", { hasText: "合計" }).click()
      expect(await app.locator("#table th", { hasText: "合計" }).getAttribute("aria-sort")).toBe("descending")
      const descending = numbers(await columnOf("合計"))
      expect(descending).toEqual([...ascending].reverse())
      expect((await columnOf("地域"))[0]).toBe("全国")
    })

    it("drills down: a click asks the host to call analyze_with_athena, the server answers, suppressed cells are marked", async () => {
      await app.locator("#table tr", { hasText: "沖縄県" }).locator("button.drill").click()
      await expect.poll(() => answers.length).toBe(1)
      const [request] = await page.evaluate(() => (globalThis as unknown as HostApi).hostLog.calls)
      expect(request).toEqual({
        name: "analyze_with_athena",
        arguments: {
          table_name: "population",
          analysis_type: "custom",
          custom_query: "SELECT * FROM \"population\" WHERE \"area_code\" = '47000'",
          max_rows: 1000
        }
      })
      expect(answers[0]!.isError).toBeFalsy()
      expect((answers[0]!.structuredContent as { queries: Array<{ row_count: number }> }).queries[0]!.row_count).toBe(75)

      // Every row of Okinawa over time, one line per sex; 2000–2004 have no figures by sex ("-").
      await expect.poll(() => app.locator("#heading").textContent()).toBe("duckdb: estat_db.population ／ 地域: 沖縄県")
      await expect.poll(chartTexts).toEqual(expect.arrayContaining(["男女計", "男", "女", "秘匿・欠測", "値（千人）"]))
      expect((await chartTexts()).filter((t) => t === "-")).toHaveLength(10)
      expect(await texts("#table td.suppressed")).toEqual(Array(10).fill("-"))
      expect(await app.locator("#notes").textContent()).toContain("秘匿・欠測 10 件")
      expect(await app.locator("#notes").textContent()).toContain("単位: 千人")
      await page.locator("#app").screenshot({ path: join(shots, "explorer-drill-down.png") })
      // The README's picture (docs/explorer.png): the chart and the first rows.
      const box = (await page.locator("#app").boundingBox())!
      await page.screenshot({ path: join(shots, "explorer-readme.png"), clip: { x: box.x, y: box.y, width: box.width, height: 560 } })

      // Back: the bars by area again; a click on Tokyo's bar (just above its label) drills down too.
      await app.locator("#back").click()
      await expect.poll(chartTexts).toEqual(expect.arrayContaining(["東京都"]))
      // The frame may still be settling to its reported height when the label is first measured (under
      // load): measure and click again until the click has reached the host, as a user would.
      const hostCalls = () => page.evaluate(() => (globalThis as unknown as HostApi).hostLog.calls.length)
      await expect.poll(async () => {
        if ((await hostCalls()) < 2) {
          const label = (await app.locator("#chart svg text", { hasText: /^東京都$/ }).boundingBox())!
          await page.mouse.click(label.x + label.width / 2, label.y - 12)
        }
        return hostCalls()
      }, { timeout: 15_000 }).toBeGreaterThanOrEqual(2)
      await expect.poll(() => answers.length).toBeGreaterThanOrEqual(2)
      expect((await page.evaluate(() => (globalThis as unknown as HostApi).hostLog.calls))[1]!.arguments).toMatchObject({
        custom_query: "SELECT * FROM \"population\" WHERE \"area_code\" = '13000'"
      })
      await expect.poll(() => app.locator("#heading").textContent()).toBe("duckdb: estat_db.population ／ 地域: 東京都")
      await app.locator("#back").click()
      console.log(`explorer screenshots: ${shots}`)
    })

    it("draws a fetch's sample rows: e-Stat's dimension names, the unit, no drill-down without a table", async () => {
      await page.evaluate((result) => (globalThis as unknown as HostApi).sendToolResult(result), fetched)
      await expect.poll(() => app.locator("#heading").textContent()).toBe("男女別人口－都道府県（各年10月1日現在） (0009990001)")
      expect(await chartTexts()).toEqual(expect.arrayContaining(["時間軸（年次）", "値（千人）", "2020年", "2024年"]))
      expect(await texts("#table th")).toEqual(expect.arrayContaining(["男女別", "全国・都道府県", "時間軸（年次）", "単位", "値"]))
      expect(await app.locator("#table tbody tr").count()).toBe(5)
      expect(await app.locator("button.drill").count()).toBe(0)
      expect(await app.locator("#back").isHidden()).toBe(true)
    })
  })
}
