/**
 * The fake e-Stat in a process of its own, so that its work and memory stay out of the figures
 * of the process under test. Prints its base URL on stdout, serves until stdin closes. A line
 * `searches` on stdin prints one line back: how long each getStatsList took it (ms, from its
 * request to its answer's end, as JSON).
 *
 *   node fakeEStatProcess.js '<GeneratedTableOptions as JSON>' <latencyMs> [warm]
 */
import { createInterface } from "node:readline"
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
    const query = new URLSearchParams({ appId: FAKE_APP_ID, statsDataId: options.id, replaceSpChars: "0", startPosition: String(start), limit: "100000" })
    await fetch(`${fake.baseUrl}/json/getStatsData?${query}`).then((r) => r.arrayBuffer())
  }
}
fake.setFaults({ latencyMs })
process.stdout.write(`${fake.baseUrl}\n`)
const commands = createInterface({ input: process.stdin })
commands.on("line", (command) => {
  if (command !== "searches") return
  const took = fake.requests.filter((r) => r.endpoint === "getStatsList" && r.endedAt !== null).map((r) => Math.round(r.endedAt! - r.startedAt))
  process.stdout.write(`${JSON.stringify(took)}\n`)
})
commands.on("close", () => void fake.close().then(() => process.exit(0)))
