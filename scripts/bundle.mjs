// One-file bundles for running (not for embedding: that is `dist/index.js` from tsc).
// Tree-shaking Effect's and the AWS SDK's barrels saves ~50 MB of RSS at start-up.
//   node scripts/bundle.mjs <entry.ts> <out.mjs>
//   For the server (src/main.ts) it also writes the MCP App's HTML beside the bundle (scripts/buildApp.mjs);
//   for any bundle holding the page writer (the server, benches, test children), the page worker
//   thread's entry, pageWorker.mjs (src/pageWorker.ts, one file of its own).
import { writeFileSync } from "node:fs"
import { basename, dirname, extname, join, resolve } from "node:path"
import { build } from "esbuild"
import { buildExplorerHtml, explorerFileName } from "./buildApp.mjs"

const [entry, outfile] = process.argv.slice(2)
if (entry === undefined || outfile === undefined) {
  console.error("usage: node scripts/bundle.mjs <entry.ts> <out.mjs>")
  process.exit(2)
}
// CommonJS dependencies inside an ES module bundle still call require().
const banner = { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" }
const { metafile } = await build({
  entryPoints: [entry],
  metafile: true,
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
  banner,
  logLevel: "warning"
})
if (resolve(entry) === resolve("src/main.ts")) writeFileSync(join(dirname(outfile), explorerFileName), await buildExplorerHtml())
const pageWriter = resolve("src/services/pageWriter/PageWriter.ts")
if (Object.keys(metafile.inputs).some((input) => resolve(input) === pageWriter)) {
  await build({
    entryPoints: ["src/pageWorker.ts"],
    outfile: join(dirname(outfile), "pageWorker.mjs"),
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    banner,
    logLevel: "warning"
  })
}
