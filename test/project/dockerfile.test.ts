import { readFileSync } from "node:fs"
import { describe, expect, it } from "@effect/vitest"

/** No Docker engine runs on CI machines: check the Dockerfile's structure instead of building it. */
describe("Dockerfile", () => {
  const dockerfile = readFileSync("Dockerfile", "utf8")
  const stages = dockerfile.split("\n").filter((l) => /^FROM\s/i.test(l))

  it("is multi-stage on Node 22 LTS slim", () => {
    expect(stages.length).toBeGreaterThanOrEqual(2)
    for (const stage of stages) expect(stage).toMatch(/^FROM node:22-[a-z]+-slim\b/)
  })

  it("runs the compiled server with production dependencies only, as a non-root user", () => {
    const runtime = dockerfile.slice(dockerfile.lastIndexOf("FROM "))
    expect(dockerfile).toMatch(/npm ci --omit=dev/)
    expect(runtime).toMatch(/^USER node$/m)
    expect(runtime).toMatch(/^CMD \["node", "dist\/server\.mjs"\]$/m)
    expect(runtime).toMatch(/NODE_OPTIONS="?--max-old-space-size=\d+/)
    expect(runtime).not.toMatch(/devDependencies|npm install\b/)
  })

  it("listens on 0.0.0.0:8080 and checks /health", () => {
    expect(dockerfile).toMatch(/HOST=0\.0\.0\.0/)
    expect(dockerfile).toMatch(/PORT=8080/)
    expect(dockerfile).toMatch(/^EXPOSE 8080$/m)
    expect(dockerfile).toMatch(/HEALTHCHECK[\s\S]*\/health/)
  })

  it("builds with the same TypeScript config the repo type-checks", () => {
    const build = JSON.parse(readFileSync("tsconfig.build.json", "utf8")) as { extends: string; include: Array<string> }
    expect(build.extends).toBe("./tsconfig.json")
    expect(build.include).toEqual(["src"])
  })
})
