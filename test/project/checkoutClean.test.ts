import { describe, expect, it } from "@effect/vitest"
import { madeSince } from "../support/checkoutClean.js"

/** The check vitest's globalSetup runs after every run (test/support/checkoutClean.ts). */
describe("what a test run leaves in the checkout", () => {
  const before = new Set(["src", "src/main.ts", "test", "test/tools"])

  it("names every file and folder a run made: runs' DATA_DIR, DuckDB's spill folder, even empty ones", () => {
    const now = new Set([...before, "data", "data/.ready", "data/.tmp", "spill", "spill/not-made-yet", "test/tools/out.csv"])
    expect(madeSince(before, now)).toEqual(["data", "data/.ready", "data/.tmp", "spill", "spill/not-made-yet", "test/tools/out.csv"])
  })

  it("leaves out source someone wrote meanwhile, and the folders made for it", () => {
    const now = new Set([...before, "test/tools/newTool.test.ts", "test/scratch", "test/scratch/notes.md", "test/scratch/out.json"])
    expect(madeSince(before, now)).toEqual(["test/scratch/out.json"])
  })
})
