import { existsSync, readFileSync } from "node:fs"
import { describe, expect, it } from "@effect/vitest"

const pkg = JSON.parse(readFileSync("package.json", "utf8")) as { exports: Record<string, { types: string; import: string }>; scripts: Record<string, string> }
const build = JSON.parse(readFileSync("tsconfig.build.json", "utf8")) as { compilerOptions: { rootDir: string; outDir: string }; include: ReadonlyArray<string> }

/** What `npm run build` emits for a source file: tsc maps src/X.ts to dist/X.js. */
const emitted = (source: string) => source.replace(/^src\//, "./dist/").replace(/\.ts$/, ".js")

describe("estat-mcp/testing for embedders", () => {
  it("is a package export that the build emits from src/testing/index.ts", () => {
    expect(build.compilerOptions).toMatchObject({ rootDir: "src", outDir: "dist" })
    expect(build.include).toContain("src")
    expect(existsSync("src/testing/index.ts")).toBe(true)
    expect(pkg.exports["./testing"]).toEqual({ types: emitted("src/testing/index.ts").replace(/\.js$/, ".d.ts"), import: emitted("src/testing/index.ts") })
  })

  it("npm run demo starts the server in mock mode", () => {
    expect(pkg.scripts["demo"]).toMatch(/--mock$/)
    expect(pkg.scripts["demo"]).toContain("src/main.ts")
  })
})
