/**
 * A getStatsData body with its VALUE array cut out: `head` is the answer with `"VALUE":[]`, and
 * `pieces` are runs of whole cells (`{…},…,{…}`) of about `pieceChars` characters. Parsed piece by
 * piece, a page's 100,000 cells become small trees that die young, instead of one ~40 MB tree that
 * V8 promotes into its old space (and that sets the process's peak memory).
 *
 * The cuts are found by text search, not by a parser: a cut inside a quoted text leaves a piece
 * that is not valid JSON (its text is unterminated), so a wrong cut shows as a parse failure,
 * never as other data; the caller then parses the body whole. null: no VALUE array to cut, or a
 * cut that leaves the rest of the answer broken.
 */
export interface ValuePieces<T = string> {
  readonly head: string
  readonly pieces: ReadonlyArray<T>
}

const VALUE_KEY = '"VALUE":['

/** What the cuts are searched in: a body's text, or its UTF-8 bytes. */
interface Searched<T> {
  readonly indexOf: (text: string, from: number) => number
  readonly codeAt: (index: number) => number
  readonly slice: (from: number, to?: number) => T
  readonly text: (part: T) => string
}

const cutValues = <T>(body: Searched<T>, pieceSize: number): ValuePieces<T> | null => {
  const key = body.indexOf(VALUE_KEY, 0)
  if (key === -1) return null
  const first = key + VALUE_KEY.length
  // The first "}]" after the key closes the array; if it sits in a text, the last piece is invalid.
  const last = body.indexOf("}]", first)
  if (body.codeAt(first) !== 123 /* { */ || last === -1) return null
  const pieces: Array<T> = []
  let from = first
  for (;;) {
    const cut = body.indexOf("},{", from + pieceSize)
    if (cut === -1 || cut > last) break
    pieces.push(body.slice(from, cut + 1))
    from = cut + 2
  }
  pieces.push(body.slice(from, last + 1))
  const head = body.text(body.slice(0, first)) + body.text(body.slice(last + 1))
  return isJson(head) ? { head, pieces } : null
}

export const splitValues = (body: string, pieceChars = 1 << 16): ValuePieces | null =>
  cutValues({
    indexOf: (text, from) => body.indexOf(text, from),
    codeAt: (index) => body.charCodeAt(index),
    slice: (from, to) => body.slice(from, to),
    text: (part) => part
  }, pieceChars)

/**
 * `splitValues` on the body's UTF-8 bytes: the pieces stay bytes until each is parsed, so the
 * page never exists as one string (8–16 MB that V8 keeps in its old space until the page is done).
 * A cut falls between ASCII bytes, never inside a character.
 */
export const splitValueBytes = (body: Buffer, pieceBytes = 1 << 16): ValuePieces<Uint8Array> | null =>
  cutValues({
    indexOf: (text, from) => body.indexOf(text, from),
    codeAt: (index) => body[index] ?? -1,
    slice: (from, to) => body.subarray(from, to),
    text: (part) => utf8.decode(part)
  }, pieceBytes)

const utf8 = new TextDecoder()

const isJson = (text: string) => {
  try {
    JSON.parse(text)
    return true
  } catch {
    return false
  }
}
