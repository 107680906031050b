// The MCP App `ui://estat-mcp/explorer` as one self-contained HTML file: app/main.ts bundled by
// esbuild for the browser (ECharts tree-shaken through echarts/core, ext-apps' App class), inlined
// into app/explorer.html under a CSP that runs only that script (by its hash) and loads nothing.
//   node scripts/buildApp.mjs <out.html>       (scripts/bundle.mjs writes it beside a server bundle)
import { createHash } from "node:crypto"
import { readFileSync, writeFileSync } from "node:fs"
import { dirname } from "node:path"
import { fileURLToPath } from "node:url"
import { build } from "esbuild"

/** The file name the server looks for beside its code (dist/). */
export const explorerFileName = "explorer-app.html"

const appDir = new URL("../app/", import.meta.url)

/** The page's CSP: its one inline script by hash, inline styles (ECharts sets them), no network, no frames. */
export const cspFor = (script) =>
  [
    "default-src 'none'",
    `script-src 'sha256-${createHash("sha256").update(script, "utf8").digest("base64")}'`,
    "style-src 'unsafe-inline'",
    "img-src data:",
    "font-src data:",
    "connect-src 'none'",
    "base-uri 'none'",
    "form-action 'none'"
  ].join("; ")

/**
 * ext-apps reaches zod through its namespace object, which keeps every zod locale (~300 KB of the
 * page) although only English messages are ever used: the locale index is cut down to English.
 */
const zodEnglishOnly = {
  name: "zod-english-only",
  setup: (build) => {
    build.onLoad({ filter: /[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/ }, (args) => ({
      contents: 'export { default as en } from "./en.js"',
      resolveDir: dirname(args.path),
      loader: "js"
    }))
  }
}

/** The explorer's HTML (a string, UTF-8). */
export const buildExplorerHtml = async () => {
  const result = await build({
    entryPoints: [fileURLToPath(new URL("main.ts", appDir))],
    bundle: true,
    write: false,
    format: "iife",
    platform: "browser",
    target: "es2022",
    minify: true,
    legalComments: "none",
    charset: "utf8",
    define: { "process.env.NODE_ENV": '"production"' },
    plugins: [zodEnglishOnly],
    logLevel: "warning"
  })
  // A "</script" inside the code would end the inline script early.
  const script = result.outputFiles[0].text.replaceAll("</script", "<\\/script")
  const template = readFileSync(new URL("explorer.html", appDir), "utf8")
  return template.replace("__CSP__", () => cspFor(script)).replace("__SCRIPT__", () => script)
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [outfile] = process.argv.slice(2)
  if (outfile === undefined) {
    console.error("usage: node scripts/buildApp.mjs <out.html>")
    process.exit(2)
  }
  writeFileSync(outfile, await buildExplorerHtml())
}
