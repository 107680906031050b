/**
 * The fake e-Stat in a process of its own, so that its work and memory stay out of the figures
 * of the process under test. Prints its base URL on stdout, serves until stdin closes.
 *
 *   node fakeEStatProcess.js '<GeneratedTableOptions as JSON>' <latencyMs> [warm]
 */
import { generatedTable, type GeneratedTableOptions } from "../test/fakes/estat/generated.js"
import { FAKE_APP_ID, startFakeEStat } from "../test/fakes/estat/server.js"

const options = JSON.parse(process.argv[2] ?? "{}") as GeneratedTableOptions
const latencyMs = Number(process.argv[3] ?? 0)
const table = generatedTable(options)
const warm = process.argv[4] === "warm"
const fake = await startFakeEStat({ tables: [table], cacheDataPages: warm })
if (warm) {
  // Encode every page once before the run, so the measured fetch sees only the simulated latency.
  for (let start = 1; start <= table.cellCount; start += 100_000) {
    await fetch(`${fake.baseUrl}/json/getStatsData?${pageQuery(options.id, start)}`).then((r) => r.arrayBuffer())
  }
}
fake.setFaults({ latencyMs })
process.stdout.write(`${fake.baseUrl}\n`)
process.stdin.resume()
process.stdin.on("end", () => void fake.close().then(() => process.exit(0)))

/** The query the pipeline sends for a page (the cache key must match it exactly). */
export function pageQuery(statsDataId: string, startPosition: number) {
  return new URLSearchParams({
    appId: FAKE_APP_ID, lang: "J", statsDataId, metaGetFlg: "N", cntGetFlg: "N", explanationGetFlg: "N",
    annotationGetFlg: "Y", replaceSpChars: "0", startPosition: String(startPosition), limit: "100000"
  }).toString()
}
