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
export interface ValuePieces {
  readonly head: string
  readonly pieces: ReadonlyArray<string>
}

const VALUE_KEY = '"VALUE":['

export const splitValues = (body: string, pieceChars = 1 << 16): ValuePieces | null => {
  const key = body.indexOf(VALUE_KEY)
  if (key === -1) return null
  const first = key + VALUE_KEY.length
  // The first "}]" after the key closes the array; if it sits in a text, the last piece is invalid.
  const last = body.indexOf("}]", first)
  if (body.charCodeAt(first) !== 123 /* { */ || last === -1) return null
  const pieces: Array<string> = []
  let from = first
  for (;;) {
    const cut = body.indexOf("},{", from + pieceChars)
    if (cut === -1 || cut > last) break
    pieces.push(body.slice(from, cut + 1))
    from = cut + 2
  }
  pieces.push(body.slice(from, last + 1))
  const head = body.slice(0, first) + body.slice(last + 1)
  return isJson(head) ? { head, pieces } : null
}

const isJson = (text: string) => {
  try {
    JSON.parse(text)
    return true
  } catch {
    return false
  }
}
