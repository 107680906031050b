// One-file bundles for running (not for embedding: that is `dist/index.js` from tsc).
// Tree-shaking Effect's and the AWS SDK's barrels saves ~50 MB of RSS at start-up.
//   node scripts/bundle.mjs <entry.ts> <out.mjs>
//   For the server (src/main.ts) it also writes beside the bundle the MCP App's HTML (scripts/buildApp.mjs)
//   and the page worker thread's entry, pageWorker.mjs (src/pageWorker.ts, one file of its own).
import { writeFileSync } from "node:fs"
import { basename, dirname, extname, join, resolve } from "node:path"
import { build } from "esbuild"
import { buildExplorerHtml, explorerFileName } from "./buildApp.mjs"

const [entry, outfile] = process.argv.slice(2)
if (entry === undefined || outfile === undefined) {
  console.error("usage: node scripts/bundle.mjs <entry.ts> <out.mjs>")
  process.exit(2)
}
await build({
  entryPoints: [entry],
  // Code split: what is imported dynamically (the AWS SDK, for the aws backend) loads only when used.
  outdir: dirname(outfile),
  entryNames: basename(outfile, extname(outfile)),
  chunkNames: "chunks/[name]-[hash]",
  outExtension: { ".js": extname(outfile) },
  splitting: true,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  // DuckDB is a native addon; it stays in node_modules.
  external: ["@duckdb/*"],
  // CommonJS dependencies inside an ES module bundle still call require().
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  logLevel: "warning"
})
if (resolve(entry) === resolve("src/main.ts")) {
  writeFileSync(join(dirname(outfile), explorerFileName), await buildExplorerHtml())
  await build({
    entryPoints: ["src/pageWorker.ts"],
    outfile: join(dirname(outfile), "pageWorker.mjs"),
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
    logLevel: "warning"
  })
}
