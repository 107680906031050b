import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { tools } from "../../src/tools/registry.js"
import { type RunningServer, startTestServer } from "../support/testServer.js"
import {
  failingJob,
  greet,
  jsonSchema202012Tool,
  protocolErrorJob,
  slowCompute,
  testCustomHeader,
  testErrorHandling,
  testLoggingTool,
  testMissingCapability,
  testReconnection,
  testSimpleText,
  testStreamingElicitation,
  testToolWithProgress
} from "./fixtureTools.js"
import { baseline, node22, runServerSuite, suites, suiteTitle } from "./suite.js"

/**
 * The official MCP conformance suite 0.2.0-alpha.12 (installed as
 * @modelcontextprotocol/conformance-next) runs the 2026-07-28 requirement set on the stateless
 * wire against the live server plus the test-only fixture tools, which the product never lists.
 */

interface Check {
  readonly id: string
  readonly status: "SUCCESS" | "FAILURE" | "WARNING" | "SKIPPED" | "INFO"
  readonly errorMessage?: string
}

/**
 * Scenarios that must pass every check. The baseline already holds the scored ones to that;
 * the other three are run but not scored for 2026-07-28 (pending), so only this holds them.
 */
const passing = [
  "server-stateless", "http-header-validation", "json-schema-2020-12", "http-custom-header-server-validation",
  // The Tasks extension (SEP-2663). Not here: tasks-mrtr-input, tasks-mrtr-composition and one check of
  // tasks-dispatch-and-envelope call fixture tools that ask the client for input (confirm_delete, multi_input),
  // which no tool of this server does; tasks-required-task-error and tasks-status-notifications are skipped by the suite.
  "tasks-capability-negotiation", "tasks-lifecycle", "tasks-request-headers", "tasks-request-state-removal", "tasks-wire-fields"
]

/** `-o` writes `server-<scenario>-<ISO time>/checks.json` per scenario. */
const readChecks = (dir: string): ReadonlyMap<string, ReadonlyArray<Check>> =>
  new Map(readdirSync(dir).flatMap((entry) => {
    const scenario = /^server-(.+)-\d{4}-\d{2}-\d{2}T[\d-]+Z$/.exec(entry)?.[1]
    return scenario === undefined ? [] : [[scenario, JSON.parse(readFileSync(join(dir, entry, "checks.json"), "utf8")) as ReadonlyArray<Check>] as const]
  }))

describe.skipIf(node22 === undefined)(suiteTitle("MCP conformance suite 0.2.0-alpha.12 (2026-07-28)"), () => {
  let harness: RunningServer
  let run: { code: number; output: string }
  let checks: ReadonlyMap<string, ReadonlyArray<Check>>
  const dataDir = mkdtempSync(join(tmpdir(), "estat-mcp-conformance-2026-"))
  const results = mkdtempSync(join(tmpdir(), "estat-mcp-conformance-2026-results-"))
  beforeAll(async () => {
    const fixtures = [
      jsonSchema202012Tool, testReconnection, testMissingCapability, testStreamingElicitation, testLoggingTool, testCustomHeader,
      greet, slowCompute, failingJob, protocolErrorJob, testSimpleText, testErrorHandling, testToolWithProgress
    ]
    harness = await startTestServer({ dataDir, logLevel: "error" }, [...tools, ...fixtures])
    run = await runServerSuite(suites.stateless, [
      "--url",
      harness.mcpUrl.href,
      "--requirements",
      "2026-07-28",
      "--expected-failures",
      baseline("expected-failures-2026-07-28.yml"),
      "--output-dir",
      results
    ], 300_000)
    checks = readChecks(results)
  }, 300_000)
  afterAll(async () => {
    await harness.close()
    rmSync(dataDir, { recursive: true, force: true })
    rmSync(results, { recursive: true, force: true })
  })

  it("the requirement set passes, except the fixture checks of the baseline", () => {
    expect(run.output).toContain("Baseline check passed")
    expect(run.code, run.output.slice(-3000)).toBe(0)
  })

  for (const scenario of passing) {
    it(`${scenario} passes with no failure and no warning`, () => {
      const ran = checks.get(scenario) ?? []
      expect(ran.filter((c) => c.status === "SUCCESS").length).toBeGreaterThan(0)
      expect(ran.filter((c) => c.status === "FAILURE" || c.status === "WARNING")).toEqual([])
    })
  }
})
