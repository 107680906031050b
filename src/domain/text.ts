/** Text normalisation shared by search, suggestions and ranking. */

/**
 * NFKC folds full-width ASCII to half-width (ＧＤＰ → GDP, ２０２０ → 2020) and half-width
 * katakana to full-width (ｼﾞﾝｺｳ → ジンコウ); the ideographic space becomes a plain space.
 */
export const normalizeText = (text: string): string =>
  text.normalize("NFKC").replace(/\s+/gu, " ").trim()

/** Lower-case form for comparisons (English is matched case-insensitively). */
export const foldText = (text: string): string => normalizeText(text).toLowerCase()

/** e-Stat's search operators, which are not terms. */
export const searchOperators: ReadonlySet<string> = new Set(["AND", "OR", "NOT"])

/** Terms of a query: split on half- and full-width spaces. */
export const splitTerms = (text: string): ReadonlyArray<string> =>
  normalizeText(text).split(" ").filter((t) => t.length > 0)
