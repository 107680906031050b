import { spawn } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { createServer, type Server } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Exit, Scope } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { buildBundle, freePort } from "../support/bundleProcess.js"
import { s3rver, s3rverCredentials } from "../support/s3rver.js"

/**
 * What an operator sees when the server cannot start: one line on stderr naming the setting to
 * change (no stack, no nested cause), nothing on stdout, exit code 1 — in both log formats.
 */
describe("start-up failures", () => {
  let bundle: string
  let dir: string
  let busy: Server
  let busyPort: number
  let s3: { readonly scope: Scope.CloseableScope; readonly endpoint: string }

  beforeAll(async () => {
    bundle = buildBundle("startup-errors")
    dir = mkdtempSync(join(tmpdir(), "estat-startup-"))
    writeFileSync(join(dir, "a-file"), "not a folder")
    busy = await new Promise<Server>((resolve) => {
      const server = createServer().listen(0, "127.0.0.1", () => resolve(server))
    })
    const address = busy.address()
    busyPort = typeof address === "object" && address !== null ? address.port : 0
    const scope = Effect.runSync(Scope.make())
    s3 = { scope, endpoint: (await Effect.runPromise(Scope.extend(s3rver, scope))).endpoint }
  }, 60_000)

  afterAll(async () => {
    busy.close()
    await Effect.runPromise(Scope.close(s3.scope, Exit.void))
    rmSync(dir, { recursive: true, force: true })
  })

  const start = (env: Record<string, string>, args: ReadonlyArray<string> = []) =>
    freePort().then((port) => new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [bundle, ...args], {
        env: { PATH: process.env["PATH"] ?? "", HOST: "127.0.0.1", PORT: String(port), DATA_DIR: join(dir, "data"), LOG_FORMAT: "pretty", ...env },
        stdio: ["ignore", "pipe", "pipe"]
      })
      let stdout = ""
      let stderr = ""
      child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()))
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
      // A server that started after all is stopped: the test then fails on its exit code.
      const timer = setTimeout(() => child.kill("SIGKILL"), 20_000)
      child.once("close", (code) => {
        clearTimeout(timer)
        resolve({ code, stdout, stderr })
      })
    }))

  /** The start-up lines (`starting estat-mcp` and its fields) aside, one line that says `expected`. */
  const expectOneLine = async (env: Record<string, string>, expected: ReadonlyArray<string | RegExp>, args: ReadonlyArray<string> = []) => {
    const run = await start(env, args)
    expect(run.code, run.stderr).toBe(1)
    expect(run.stdout).toBe("")
    // Node's own warnings aside (the AWS SDK warns about Node 20).
    const lines = run.stderr.replace(/\(node:\d+\) \w*Warning:[\s\S]*?--trace-warnings[^\n]*\n/g, "").split("\n").filter((l) => l.trim() !== "" && !/starting estat-mcp|^\s+(backend|dataDir|estatAppId):/.test(l))
    expect(lines, run.stderr).toHaveLength(1)
    expect(lines[0]).toMatch(/cannot start: /)
    for (const part of expected) expect(lines[0]).toMatch(part)
    expect(run.stderr).not.toMatch(/^\s+at /m)
    return lines[0]!
  }

  it("names host:port and PORT/HOST when the port is in use (pretty and JSON logs)", async () => {
    await expectOneLine({ PORT: String(busyPort) }, [`127.0.0.1:${busyPort}`, /already listens/, /PORT/, /HOST/])
    const json = await expectOneLine({ PORT: String(busyPort), LOG_FORMAT: "json" }, [`127.0.0.1:${busyPort}`])
    expect(JSON.parse(json)).toMatchObject({ logLevel: "FATAL", message: expect.stringContaining(`127.0.0.1:${busyPort}`) })
  })

  it("names every bad value at once, and the variable of each", async () => {
    await expectOneLine(
      { PORT: "eighty", ESTAT_TIMEOUT: "banana", DUCKDB_MEMORY_LIMIT: "lots", LOG_LEVEL: "loud" },
      [/PORT: .*"eighty"/, /ESTAT_TIMEOUT: .*"banana"/, /DUCKDB_MEMORY_LIMIT must be a size/, /LOG_LEVEL must be one of/]
    )
    await expectOneLine({ ESTAT_MCP_BACKEND: "cloud" }, [/ESTAT_MCP_BACKEND/, /cloud/])
  })

  it("names DATA_DIR and its path when it cannot be used", async () => {
    const bad = join(dir, "a-file", "data")
    await expectOneLine({ DATA_DIR: bad }, ["DATA_DIR", bad, /file, not a folder/])
  })

  it("names S3_BUCKET when it is unset or does not exist (aws)", async () => {
    const aws = { ESTAT_MCP_BACKEND: "aws", AWS_REGION: "ap-northeast-1", AWS_ACCESS_KEY_ID: s3rverCredentials.accessKeyId, AWS_SECRET_ACCESS_KEY: s3rverCredentials.secretAccessKey }
    await expectOneLine(aws, [/S3_BUCKET is not set/])
    await expectOneLine({ ...aws, S3_BUCKET: "no-such-bucket", AWS_ENDPOINT_URL_S3: s3.endpoint }, [/S3_BUCKET no-such-bucket cannot be used: no such bucket/])
  }, 60_000)

  it("refuses an unknown option in one line, and prints the options with --help", async () => {
    const unknown = await start({}, ["--stdoi"])
    expect(unknown.code).toBe(1)
    expect(unknown.stdout).toBe("")
    expect(unknown.stderr.trim()).toBe("estat-mcp: unknown option --stdoi; see estat-mcp --help")
    const help = await start({}, ["--help"])
    expect(help.code).toBe(0)
    expect(help.stdout).toMatch(/--stdio/)
    expect(help.stdout).toMatch(/ESTAT_APP_ID/)
  })

  it("keeps stdout empty in stdio mode too: the failure goes to stderr", async () => {
    const bad = join(dir, "a-file", "data")
    await expectOneLine({ DATA_DIR: bad }, ["DATA_DIR"], ["--stdio"])
  })
})
