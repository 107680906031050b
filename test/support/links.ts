import { lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, relative } from "node:path"

/** What files outside DATA_DIR hold: a result or message containing it means a link was followed. */
export const SECRET = "SECRET-OUTSIDE-DATA-DIR-7c1e"

/** Windows without Developer Mode cannot create symbolic links (EPERM): the link tests skip there. */
export const symlinksWork = (() => {
  const dir = mkdtempSync(join(tmpdir(), "estat-symlink-probe-"))
  try {
    symlinkSync(dir, join(dir, "link"))
    return true
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EPERM") return false
    throw error
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})()

/** Every entry under `dir` (not following links) with its content, to show nothing was written there; `skip` folders are left out. */
export const outsideSnapshot = (dir: string, skip: ReadonlyArray<string> = []): ReadonlyArray<readonly [string, string]> => {
  const entries: Array<readonly [string, string]> = []
  const walk = (at: string) => {
    for (const name of readdirSync(at).sort()) {
      const path = join(at, name)
      if (skip.includes(path)) continue
      const info = lstatSync(path)
      const key = relative(dir, path)
      if (info.isSymbolicLink()) entries.push([key, `-> ${readlinkSync(path)}`])
      else if (info.isDirectory()) (entries.push([key, "dir"]), walk(path))
      else entries.push([key, readFileSync(path, "utf8")])
    }
  }
  walk(dir)
  return entries
}
