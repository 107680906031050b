import { existsSync } from "node:fs"
import { fileURLToPath } from "node:url"

/**
 * Real e-Stat answers recorded by others (see SOURCES.md there), read where they are and never
 * copied: `../shared/real-estat` beside the repository, else the workplace's copy (a worktree
 * checked out elsewhere).
 */
const besideRepository = fileURLToPath(new URL("../../../shared/real-estat", import.meta.url))
export const REAL_ESTAT_DIR = [besideRepository, "/work/shared/real-estat"].find((dir) => existsSync(dir)) ?? besideRepository
