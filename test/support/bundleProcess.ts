import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"

export const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const address = server.address()
      server.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0))
    })
  })

/** Builds the one-file bundle of src/main.ts under `name`, inside the repo so that it finds DuckDB in node_modules. */
export const buildBundle = (name: string) => {
  const bundle = join(process.cwd(), "node_modules", ".cache", name, "server.mjs")
  execFileSync(process.execPath, ["scripts/bundle.mjs", "src/main.ts", bundle])
  return bundle
}

export interface BundleProcess {
  readonly child: ChildProcess
  readonly url: string
  readonly port: number
  readonly dataDir: string
  /** Stops the process and removes its DATA_DIR. */
  readonly stop: () => void
}

/**
 * The artifact the Docker image runs: the one-file bundle of src/main.ts, built under `name` and
 * started as a process on 127.0.0.1 with a temp DATA_DIR, `nodeFlags`, `env` and `args`; resolves once it listens.
 */
export const startBundle = async (
  name: string,
  options: { readonly nodeFlags: ReadonlyArray<string>; readonly env?: Readonly<Record<string, string>>; readonly args?: ReadonlyArray<string> }
): Promise<BundleProcess> => {
  const bundle = buildBundle(name)
  const dir = mkdtempSync(join(tmpdir(), `${name}-`))
  const port = await freePort()
  const child = spawn(process.execPath, [...options.nodeFlags, bundle, ...(options.args ?? [])], {
    env: { PATH: process.env["PATH"] ?? "", HOST: "127.0.0.1", PORT: String(port), DATA_DIR: dir, LOG_FORMAT: "json", ...options.env },
    stdio: ["ignore", "ignore", "pipe"]
  })
  const stop = () => {
    child.kill()
    rmSync(dir, { recursive: true, force: true })
  }
  await new Promise<void>((resolve, reject) => {
    let log = ""
    child.stderr!.on("data", (chunk: Buffer) => {
      log += chunk.toString()
      if (log.includes("Listening on")) resolve()
    })
    child.once("exit", (code) => reject(new Error(`the bundle exited with ${code}: ${log}`)))
  }).catch((error: unknown) => {
    stop()
    throw error
  })
  return { child, url: `http://127.0.0.1:${port}`, port, dataDir: dir, stop }
}
