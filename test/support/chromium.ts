import { existsSync } from "node:fs"
import { delimiter, join } from "node:path"

/** CI sets it (.ci/run): the browser tests must run there, never skip. */
export const chromiumRequired = process.env["CHROMIUM_REQUIRED"] === "1"

const names = ["chromium", "chromium-browser", "google-chrome-stable", "google-chrome", "chrome"]

/** A Chromium to drive with playwright-core: CHROMIUM_PATH, else the first of the usual names on PATH. */
export const findChromium = (): string | undefined => {
  const given = process.env["CHROMIUM_PATH"]
  if (given !== undefined && given !== "") return existsSync(given) ? given : undefined
  for (const dir of (process.env["PATH"] ?? "").split(delimiter).filter((d) => d !== "")) {
    for (const name of names) if (existsSync(join(dir, name))) return join(dir, name)
  }
  return undefined
}
