const RESERVED = /[\\/\u0000-\u001f\u007f<>:"|?*%]/

/** A character as it stands, or the one it folds to when that is a separator or reserved (／ → /, ＜ → <); （ and ２ stay. */
const reservedLookalike = (c: string) => {
  const folded = c.normalize("NFKC")
  return RESERVED.test(folded) ? folded : c
}

/**
 * A user's file name made safe for storage keys and downloads: the last path segment only, no
 * control or reserved characters (nor their full-width look-alikes), at most 120 characters,
 * ending in `extension`. Other characters are kept as written: 人口（２０２０年） stays full-width.
 */
export const sanitizeFileName = (name: string, extension: string): string | null => {
  const base = Array.from(name, reservedLookalike).join("").split(/[\\/]/).at(-1) ?? ""
  const cleaned = base
    .replace(/[\u0000-\u001f\u007f<>:"|?*%]/g, "_")
    .replace(/^[.\s]+|[.\s]+$/g, "")
    .slice(0, 120)
  const stem = cleaned.toLowerCase().endsWith(extension) ? cleaned.slice(0, -extension.length) : cleaned
  return stem.replace(/[.\s]+$/, "") === "" ? null : `${stem}${extension}`
}

const mimeTypes: ReadonlyArray<readonly [string, string]> = [
  [".csv", "text/csv"],
  [".json", "application/json"],
  [".parquet", "application/vnd.apache.parquet"]
]

/** The media type of a stored file, by its extension. */
export const mimeTypeOf = (key: string) => mimeTypes.find(([ext]) => key.toLowerCase().endsWith(ext))?.[1] ?? "application/octet-stream"

/** Files a client can be given as text. */
export const isText = (mimeType: string) => mimeType.startsWith("text/") || mimeType === "application/json"
