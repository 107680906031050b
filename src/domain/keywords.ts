import { keywordDictionary, type KeywordEntry } from "./keywordDictionary.js"
import { foldText } from "./text.js"

export { keywordDictionary, type KeywordEntry } from "./keywordDictionary.js"

export interface KeywordSuggestion {
  readonly term: string
  readonly suggested: string
  readonly reason: string
  readonly alternatives: ReadonlyArray<string>
}

interface Span {
  readonly start: number
  readonly end: number
}

const isWordChar = (ch: string | undefined) => ch !== undefined && /[\p{L}\p{N}]/u.test(ch) && /[\x00-\x7f]/.test(ch)
const isAscii = (text: string) => /^[\x00-\x7f]+$/.test(text)
const isSpace = (ch: string | undefined) => ch === undefined || /\s/u.test(ch)

/**
 * Where `term` may match in `text` (both folded): English words only as whole words (`pop`
 * never matches inside `population`); one-character terms (県, 市, 家) only as whole terms;
 * other Japanese terms anywhere, including inside a phrase (「北海道の収入」).
 */
const occurrences = (text: string, term: string): ReadonlyArray<Span> => {
  const spans: Array<Span> = []
  const ascii = isAscii(term)
  const single = [...term].length === 1
  for (let at = text.indexOf(term); at >= 0; at = text.indexOf(term, at + 1)) {
    const before = text[at - 1]
    const after = text[at + term.length]
    if (ascii && (isWordChar(before) || isWordChar(after))) continue
    if (single && !(isSpace(before) && isSpace(after))) continue
    spans.push({ start: at, end: at + term.length })
  }
  return spans
}

const overlaps = (a: Span, b: Span) => a.start < b.end && b.start < a.end
const covers = (outer: Span, inner: Span) => outer.start <= inner.start && inner.end <= outer.end

/** Official vocabulary: a match inside one of these (消費者物価指数 ∋ 物価) is already official. */
const officialTerms: ReadonlyArray<string> = [...new Set(
  keywordDictionary.flatMap((e) => [e.suggested, ...e.alternatives]).map(foldText)
)]

const folded: ReadonlyArray<readonly [string, KeywordEntry]> = keywordDictionary
  .map((entry) => [foldText(entry.term), entry] as const)
  .sort((a, b) => b[0].length - a[0].length)

/** Everyday words in the query with the official terms e-Stat uses instead, in query order. */
export const suggestKeywords = (query: string): ReadonlyArray<KeywordSuggestion> => {
  const text = foldText(query)
  const official = officialTerms.flatMap((term) => occurrences(text, term))
  const taken: Array<Span & { readonly entry: KeywordEntry }> = []
  for (const [term, entry] of folded) {
    for (const span of occurrences(text, term)) {
      if (taken.some((t) => overlaps(t, span))) continue // a longer term already matched here
      if (official.some((o) => o.end - o.start > span.end - span.start && covers(o, span))) continue
      taken.push({ ...span, entry })
    }
  }
  const seen = new Set<string>()
  return taken
    .sort((a, b) => a.start - b.start)
    .filter(({ entry }) => !seen.has(entry.term) && seen.add(entry.term) !== undefined)
    // 収入→所得 for 「収入と所得」 is noise: the query already uses the official term.
    .filter(({ entry }) => occurrences(text, foldText(entry.suggested)).length === 0)
    .map(({ entry }) => ({ term: entry.term, suggested: entry.suggested, reason: entry.reason, alternatives: entry.alternatives }))
}

export interface AppliedKeyword {
  readonly term: string
  readonly replacement: string
  readonly occurrences: number
}

export interface KeywordRewrite {
  readonly original_query: string
  readonly transformed_query: string
  readonly applied: ReadonlyArray<AppliedKeyword>
  readonly unmatched: ReadonlyArray<string>
}

/** The query folded code point by code point, with each folded unit's original index. */
const foldWithIndex = (text: string) => {
  const chars = [...text]
  let foldedText = ""
  const origin: Array<number> = []
  let offset = 0
  for (const ch of chars) {
    const f = foldText(ch) === "" ? ch : foldText(ch)
    for (let i = 0; i < f.length; i++) origin.push(offset)
    foldedText += f
    offset += ch.length
  }
  origin.push(text.length)
  return { folded: foldedText, origin }
}

/**
 * Replaces each accepted term by its replacement: whole terms and whole occurrences inside a
 * Japanese phrase, matched regardless of full/half width; longer terms first, so overlapping
 * keys never replace twice, and replacements are never scanned again.
 */
export const applyKeywordSuggestions = (
  originalQuery: string,
  accepted: Readonly<Record<string, string>>
): KeywordRewrite => {
  const { folded: text, origin } = foldWithIndex(originalQuery)
  const terms = Object.keys(accepted)
  const claimed: Array<Span & { readonly term: string }> = []
  const byLength = [...terms].sort((a, b) => foldText(b).length - foldText(a).length)
  for (const term of byLength) {
    const key = foldText(term)
    if (key === "") continue
    for (const span of occurrences(text, key)) {
      if (claimed.some((c) => overlaps(c, span))) continue
      claimed.push({ ...span, term })
    }
  }
  claimed.sort((a, b) => a.start - b.start)
  let out = ""
  let cursor = 0
  for (const span of claimed) {
    const from = origin[span.start] ?? originalQuery.length
    out += originalQuery.slice(cursor, from) + (accepted[span.term] ?? "")
    cursor = origin[span.end] ?? originalQuery.length
  }
  out += originalQuery.slice(cursor)
  const counts = (term: string) => claimed.filter((c) => c.term === term).length
  return {
    original_query: originalQuery,
    transformed_query: out,
    applied: terms.filter((t) => counts(t) > 0).map((t) => ({ term: t, replacement: accepted[t] ?? "", occurrences: counts(t) })),
    unmatched: terms.filter((t) => counts(t) === 0)
  }
}
