import { Effect, Either, Schema } from "effect"
import { describe, expect, it } from "@effect/vitest"
import { readPage } from "../../../src/services/estat/bodies.js"
import { GetStatsData, toDataPage, toDataPageOfPieces } from "../../../src/services/estat/schema.js"
import { splitValues } from "../../../src/services/estat/valuePieces.js"
import { encodeJson } from "../../fakes/estat/encode.js"

const answer = (values: ReadonlyArray<Record<string, string>>, resultInf = { TOTAL_NUMBER: 5000, FROM_NUMBER: 1, TO_NUMBER: values.length }) =>
  encodeJson({
    GET_STATS_DATA: {
      RESULT: { STATUS: 0, ERROR_MSG: "正常に終了しました。" },
      STATISTICAL_DATA: {
        RESULT_INF: resultInf,
        DATA_INF: { NOTE: [{ "@char": "***", $: "該当なし" }], VALUE: values, ANNOTATION: [{ "@annotation": "A1", $: "速報値 [暫定]" }] }
      }
    }
  })

const cell = (i: number, text = ((i * 7919) % 1000 / 10).toFixed(1)) =>
  ({ "@tab": "01", "@cat01": `${String(i % 37).padStart(4, "0")}`, "@area": "00000", "@time": `${2000 + (i % 20)}000000`, "@unit": "円", $: text })

const statsData = (json: unknown) => Schema.decodeUnknownSync(GetStatsData)(json).GET_STATS_DATA.STATISTICAL_DATA
const whole = (body: string) => toDataPage(statsData(JSON.parse(body)))
const inPieces = (body: string, pieceChars: number) => {
  const split = splitValues(body, pieceChars)
  if (split === null) throw new Error("not split")
  return { pieces: split.pieces.length, page: toDataPageOfPieces(statsData(JSON.parse(split.head)), split.pieces) }
}

describe("splitValues + toDataPageOfPieces", () => {
  it("pieces of VALUE make the very page a whole parse makes", () => {
    const body = answer(Array.from({ length: 3000 }, (_, i) => (i % 101 === 0 ? cell(i, "***") : i % 103 === 0 ? { ...cell(i), "@annotation": "A1" } : cell(i))))
    for (const pieceChars of [1, 500, 1 << 16, 1 << 24]) {
      const { page, pieces } = inPieces(body, pieceChars)
      if (pieceChars === 1) expect(pieces).toBe(3000)
      else if (pieceChars > body.length) expect(pieces).toBe(1)
      else expect(pieces).toBeGreaterThan(1)
      expect(page).toEqual(whole(body))
    }
  })

  it("a cut inside a text is found out (null), never read as other data", () => {
    const cutInText = answer(Array.from({ length: 50 }, (_, i) => cell(i, i === 20 ? 'a},{"@tab":"09"' : undefined)))
    expect(Either.getOrThrow(whole(cutInText)).cells.raw[20]).toBe('a},{"@tab":"09"')
    expect(inPieces(cutInText, 1).page).toBeNull()
    expect(inPieces(cutInText, 1 << 20).page).toEqual(whole(cutInText)) // one piece: no cut
    // A "}]" in a text is taken for the end of VALUE: what is left of the answer is not JSON.
    expect(splitValues(answer(Array.from({ length: 50 }, (_, i) => cell(i, i === 20 ? "x}]" : undefined))), 1)).toBeNull()
  })

  it("a piece count other than RESULT_INF's, or VALUE not left empty by the cut, is null", () => {
    const short = answer(Array.from({ length: 10 }, (_, i) => cell(i)), { TOTAL_NUMBER: 100, FROM_NUMBER: 1, TO_NUMBER: 11 })
    expect(inPieces(short, 1).page).toBeNull()
    const body = answer(Array.from({ length: 10 }, (_, i) => cell(i)))
    const split = splitValues(body)!
    expect(toDataPageOfPieces(statsData(JSON.parse(body)), split.pieces)).toBeNull()
  })

  it.effect("readPage reads every body as a whole parse would: cut right, cut in a text, or not cut at all", () =>
    Effect.gen(function* () {
      const read = (body: string, pieceChars: number) => {
        const reading = readPage(pieceChars)(body)
        return Effect.map(Effect.either(reading.decode(JSON.parse(reading.text))), (page) => ({ cut: reading.text !== body, page }))
      }
      const plain = answer(Array.from({ length: 400 }, (_, i) => cell(i)))
      const cutInText = answer(Array.from({ length: 400 }, (_, i) => cell(i, i % 50 === 7 ? 'a},{"@tab":"09"' : undefined)))
      const endInText = answer(Array.from({ length: 400 }, (_, i) => cell(i, i === 9 ? "x}]" : undefined)))
      expect(yield* read(plain, 1)).toEqual({ cut: true, page: whole(plain) })
      expect(yield* read(cutInText, 1)).toEqual({ cut: true, page: whole(cutInText) })
      expect(yield* read(endInText, 1)).toEqual({ cut: false, page: whole(endInText) })
      expect(Either.isRight(whole(cutInText)) && Either.isRight(whole(endInText))).toBe(true)
    }))

  it.effect("readPage lets the event loop run between pieces: other work (a /health request) is not held up for a whole page", () =>
    Effect.gen(function* () {
      const body = answer(Array.from({ length: 2000 }, (_, i) => cell(i)))
      const reading = readPage(1000)(body)
      const pieces = splitValues(body, 1000)!.pieces.length
      // Event-loop turns counted while the page is read: a chain of setImmediate callbacks, one a turn.
      let turns = 0
      let readingDone = false
      const countTurns = () => {
        if (readingDone) return
        turns++
        setImmediate(countTurns)
      }
      setImmediate(countTurns)
      const page = yield* reading.decode(JSON.parse(reading.text)).pipe(Effect.ensuring(Effect.sync(() => (readingDone = true))))
      expect(pieces).toBeGreaterThan(50)
      expect(page.cells.count).toBe(2000)
      // A read in one go would let at most one turn by; it takes one per piece.
      expect(turns).toBeGreaterThanOrEqual(pieces)
    }))

  it("bodies without a VALUE array to cut are left to a whole parse", () => {
    expect(splitValues(encodeJson({ GET_STATS_DATA: { RESULT: { STATUS: 100, ERROR_MSG: "認証に失敗しました。" } } }))).toBeNull()
    expect(splitValues(answer([]))).toBeNull()
    expect(splitValues(answer([cell(1)]).replace('"VALUE":[', '"VALUE":').replace("}]", "}"))).toBeNull()
    expect(splitValues('{"GET_STATS_DATA": {"VALUE": [{"@tab": "1"}]}}')).toBeNull() // not compact
  })
})
