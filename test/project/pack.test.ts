import { execFile, execFileSync, spawn } from "node:child_process"
import { cpSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join, resolve } from "node:path"
import { promisify } from "node:util"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"

/**
 * The package as users get it: `npm pack` of a clean tree (the repo's files, no dist/) must build
 * first and ship what runs; installed into a project with only the production dependencies, its
 * bin serves stdio with nothing but JSON-RPC on stdout, prints --help, and its import gives the layers.
 * Offline: the project gets the tarball's contents and links to this repo's production dependencies.
 */
describe("the npm package", () => {
  const root = resolve(".")
  let work: string
  let files: ReadonlyArray<string>
  let installed: string
  let bin: string

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "estat-pack-"))
    // A clean tree: the files git knows (tracked, or new and not ignored), node_modules linked.
    const tree = join(work, "tree")
    const listed = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: root, encoding: "utf8" })
    // node_modules is linked below (a checkout whose node_modules is itself a link lists it as a file).
    for (const file of listed.split("\0").filter((f) => f !== "" && f !== "node_modules" && !f.startsWith("node_modules/"))) {
      mkdirSync(dirname(join(tree, file)), { recursive: true })
      cpSync(join(root, file), join(tree, file))
    }
    symlinkSync(join(root, "node_modules"), join(tree, "node_modules"), "junction")
    const npm = process.platform === "win32" ? "npm.cmd" : "npm"
    // Not execFileSync: the build inside takes a minute, in which a blocked worker misses vitest's RPC deadline.
    const { stdout: packOutput } = await promisify(execFile)(npm, ["pack", "--json", "--pack-destination", work], { cwd: tree, encoding: "utf8", shell: process.platform === "win32" })
    const [packed] = JSON.parse(packOutput) as ReadonlyArray<{
      readonly filename: string
      readonly files: ReadonlyArray<{ readonly path: string }>
    }>
    files = packed!.files.map((f) => f.path)

    // The project: the tarball's package and the production dependencies the lockfile names.
    const project = join(work, "project")
    mkdirSync(join(project, "node_modules"), { recursive: true })
    execFileSync("tar", ["-xzf", join(work, packed!.filename), "-C", work])
    installed = join(project, "node_modules", "estat-mcp")
    renameSync(join(work, "package"), installed)
    const lock = JSON.parse(readFileSync("package-lock.json", "utf8")) as { readonly packages: Record<string, { readonly dev?: boolean }> }
    for (const [path, entry] of Object.entries(lock.packages)) {
      if (!/^node_modules\/(@[^/]+\/)?[^/]+$/.test(path) || entry.dev === true) continue
      mkdirSync(dirname(join(project, path)), { recursive: true })
      symlinkSync(join(root, path), join(project, path), "junction")
    }
    const manifest = JSON.parse(readFileSync(join(installed, "package.json"), "utf8")) as { readonly bin: Record<string, string> }
    bin = join(installed, manifest.bin["estat-mcp"]!)
    writeFileSync(join(project, "embed.mjs"), 'const m = await import("estat-mcp"); const t = await import("estat-mcp/testing"); console.log(JSON.stringify({ main: Object.keys(m), testing: Object.keys(t) }))\n')
  }, 240_000)

  afterAll(() => rmSync(work, { recursive: true, force: true }))

  it("ships the build, the README and the licence, and nothing of the repo's sources, tests or deploy", () => {
    for (const file of ["package.json", "README.md", "LICENSE", "dist/server.mjs", "dist/pageWorker.mjs", "dist/pageWorker.js", "dist/explorer-app.html", "dist/index.js", "dist/index.d.ts", "dist/testing/index.js", "dist/testing/index.d.ts"]) {
      expect(files, file).toContain(file)
    }
    expect(files.some((f) => f.startsWith("dist/chunks/"))).toBe(true)
    expect(files.filter((f) => !/^(dist\/|package\.json$|README\.md$|LICENSE$)/.test(f))).toEqual([])
    expect(files.filter((f) => /\.map$|\.test\./.test(f))).toEqual([])
  })

  it("has a bin that runs on node, prints its options with --help", () => {
    expect(readFileSync(bin, "utf8").split("\n")[0]).toBe("#!/usr/bin/env node")
    const help = execFileSync(process.execPath, [bin, "--help"], { encoding: "utf8" })
    expect(help).toMatch(/--stdio/)
    expect(help).toMatch(/--mock/)
  })

  it("serves stdio with nothing but JSON-RPC on stdout, a fetch's pages converted by its page worker thread", async () => {
    const dataDir = join(work, "data")
    const child = spawn(process.execPath, [bin, "--stdio", "--mock"], {
      cwd: work,
      env: { PATH: process.env["PATH"] ?? "", DATA_DIR: dataDir, LOG_LEVEL: "info" },
      stdio: ["pipe", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
    // One reader of stdout, and waits for whole lines: the app's page (id 3) arrives in many chunks.
    const waiting = new Set<() => void>()
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString()
      for (const check of waiting) check()
    })
    const answered = (id: number) =>
      new Promise<void>((resolveAnswer) => {
        const check = () => {
          if (!stdout.split("\n").slice(0, -1).some((line) => line.includes(`"id":${id}`))) return
          waiting.delete(check)
          resolveAnswer()
        }
        waiting.add(check)
        check()
      })
    const send = (message: object) => child.stdin.write(JSON.stringify(message) + "\n")
    send({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "pack-test", version: "1.0.0" } } })
    await answered(1)
    send({ jsonrpc: "2.0", method: "notifications/initialized" })
    send({ jsonrpc: "2.0", id: 2, method: "tools/list" })
    await answered(2)
    // The chart app (MCP_APPS), which the bin serves from the page the build put beside it.
    send({ jsonrpc: "2.0", id: 3, method: "resources/read", params: { uri: "ui://estat-mcp/explorer" } })
    await answered(3)
    // A sample table's pages go through dist/pageWorker.mjs, beside the bin.
    send({ jsonrpc: "2.0", id: 4, method: "tools/call", params: { name: "fetch_dataset_auto", arguments: { dataset_id: "0009990001" } } })
    await answered(4)
    child.stdin.end()
    await new Promise((resolveExit) => child.once("close", resolveExit))

    const lines = stdout.split("\n").filter((line) => line !== "")
    for (const line of lines) expect(JSON.parse(line), line).toMatchObject({ jsonrpc: "2.0" })
    const [init, list] = lines.map((line) => JSON.parse(line) as { readonly id: number; readonly result: Record<string, unknown> })
    expect(init).toMatchObject({ id: 1, result: { serverInfo: { name: "estat-mcp" } } })
    expect((list!.result["tools"] as ReadonlyArray<unknown>).length).toBe(10)
    const app = JSON.parse(lines.find((line) => line.includes('"id":3'))!) as { result: { contents: Array<{ mimeType: string; text: string }> } }
    expect(app.result.contents[0]!.mimeType).toBe("text/html;profile=mcp-app")
    expect(app.result.contents[0]!.text).toMatch(/^<!doctype html>/)
    const fetched = JSON.parse(lines.find((line) => line.includes('"id":4'))!) as { result: { isError?: boolean; structuredContent: { records_fetched: number } } }
    expect(fetched.result.isError ?? false).toBe(false)
    expect(fetched.result.structuredContent.records_fetched).toBeGreaterThan(0)
    expect(stderr).not.toMatch(/\bat file:/)
  }, 60_000)

  it("gives an embedder the layers, and the test layers under estat-mcp/testing", () => {
    const out = JSON.parse(execFileSync(process.execPath, ["embed.mjs"], { cwd: join(work, "project"), encoding: "utf8" })) as {
      readonly main: ReadonlyArray<string>
      readonly testing: ReadonlyArray<string>
    }
    expect(out.main).toEqual(expect.arrayContaining(["mcpLayer", "servicesLayer", "configLayer", "httpApp", "router", "tools"]))
    expect(out.testing.length).toBeGreaterThan(0)
  })
})
