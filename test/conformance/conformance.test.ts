import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { tools } from "../../src/tools/registry.js"
import { type RunningServer, startTestServer } from "../support/testServer.js"
import { jsonSchema202012Tool, testReconnection } from "./fixtureTools.js"
import { baseline, node22, runServerSuite, suites, suiteTitle } from "./suite.js"

/** The official MCP conformance suite 0.1.16 (2025 sessions) against the live server. */

const conformance = (args: ReadonlyArray<string>) => runServerSuite(suites.sessions, args, 240_000)

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

describe.skipIf(node22 === undefined)(suiteTitle("MCP conformance suite"), () => {
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
    const run = await conformance(["--url", product.mcpUrl.href, "--expected-failures", baseline("expected-failures.yml")])
    expect(run.output).toContain("Baseline check passed")
    expect(run.code, run.output.slice(-3000)).toBe(0)
  }, 240_000)

  for (const scenario of required) {
    it(`${scenario} passes with no failure and no warning`, async () => {
      const run = await conformance(["--url", harness.mcpUrl.href, "--scenario", scenario, "--expected-failures", baseline("none.yml")])
      expect(run.code, run.output.slice(-3000)).toBe(0)
      expect(run.output).toMatch(/Passed: (\d+)\/\1, 0 failed, 0 warnings/)
    }, 120_000)
  }
})
