import { readdirSync } from "node:fs"
import { join, relative } from "node:path"

/**
 * vitest globalSetup: a test run must write only under temp folders. Everything in the checkout
 * is listed (files and folders, ignored ones too, so `data/` counts) before the run and after it;
 * the run fails when something appeared outside the build outputs that tests and builds make.
 */

const root = process.cwd()

/** Made by builds, installs and the bundle and pack tests (all git-ignored): not a test's doing. */
const buildOutputs = new Set([".git", "node_modules", "dist", ".bench-build", ".vitest", "deploy/cdk.out"])

const entriesUnder = (dir: string, into: Set<string>): Set<string> => {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = relative(root, join(dir, entry.name))
    if (buildOutputs.has(path)) continue
    into.add(path)
    if (entry.isDirectory()) entriesUnder(join(dir, entry.name), into)
  }
  return into
}

export const checkoutEntries = (): Set<string> => entriesUnder(root, new Set())

/** Source a developer wrote meanwhile (in a shared tree, during a long run), not a test's output. */
const authored = /\.(ts|md)$/

/** What appeared since `before`, leaving out authored source and the folders holding it. */
export const madeSince = (before: ReadonlySet<string>, now: ReadonlySet<string>): ReadonlyArray<string> => {
  const made = [...now].filter((path) => !before.has(path))
  const sources = made.filter((path) => authored.test(path))
  return made.filter((path) => !authored.test(path) && !sources.some((source) => source.startsWith(`${path}/`))).sort()
}

export default function setup() {
  const before = checkoutEntries()
  return () => {
    const made = madeSince(before, checkoutEntries())
    if (made.length > 0) {
      throw new Error(`The test run wrote into the checkout (tests must write under a temp folder): ${made.slice(0, 20).join(", ")}${made.length > 20 ? ` and ${made.length - 20} more` : ""}`)
    }
  }
}
