import { Effect, Either, Schema } from "effect"
import { describe, expect, it } from "@effect/vitest"
import type { DataCells, DataPage, PageHead } from "../../../src/domain/estat.js"
import { readPage, streamPageOfBytes } from "../../../src/services/estat/bodies.js"
import { GetStatsData, toDataPage, toDataPageOfPieces } from "../../../src/services/estat/schema.js"
import { splitValueBytes, splitValues } from "../../../src/services/estat/valuePieces.js"
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

describe("splitValueBytes + streamPageOfBytes: a page read from its bytes, its cells handed on a piece at a time", () => {
  const bytesOf = (body: string) => new TextEncoder().encode(body)

  /** Every batch the sink is handed, and each restart, in order. */
  const collect = (body: ReadonlyArray<Uint8Array>, pieceBytes: number) =>
    Effect.gen(function* () {
      const events: Array<DataCells | "restart"> = []
      const head = yield* streamPageOfBytes(body, 200, {
        cells: (cells) => Effect.sync(() => void events.push(cells)),
        restart: Effect.sync(() => void events.push("restart"))
      }, Effect.void, pieceBytes)
      return { head, events }
    })

  /** The batches after the last restart, as one page. */
  const pageOf = (head: PageHead, events: ReadonlyArray<DataCells | "restart">): DataPage => {
    const batches = events.slice(events.lastIndexOf("restart") + 1) as ReadonlyArray<DataCells>
    const axes = Object.keys(batches[0]?.dims ?? {})
    return {
      ...head,
      cells: {
        count: batches.reduce((n, b) => n + b.count, 0),
        dims: Object.fromEntries(axes.map((axis) => [axis, batches.flatMap((b) => b.dims[axis]!)])),
        unit: batches.flatMap((b) => b.unit),
        annotation: batches.flatMap((b) => b.annotation),
        raw: batches.flatMap((b) => b.raw)
      }
    }
  }

  it("cuts the bytes where splitValues cuts the text, never inside a character", () => {
    const body = answer(Array.from({ length: 500 }, (_, i) => ({ ...cell(i), "@unit": i % 3 === 0 ? "千人" : "円" })))
    for (const size of [1, 700, 1 << 15]) {
      const fromText = splitValues(body, size)!
      const fromBytes = splitValueBytes(Buffer.from(bytesOf(body)), size)!
      expect(fromBytes.head).toBe(fromText.head)
      // A cut after `size` bytes falls later in the text than one after `size` characters: same cells, fewer pieces.
      const utf8 = new TextDecoder("utf-8", { fatal: true })
      expect(fromBytes.pieces.map((piece) => utf8.decode(piece)).join(",")).toBe(fromText.pieces.join(","))
    }
    expect(splitValueBytes(Buffer.from(bytesOf(body)), 1)!.pieces.length).toBe(500)
  })

  it.effect("hands the cells a piece at a time, and they make the page a whole parse makes", () =>
    Effect.gen(function* () {
      const body = answer(Array.from({ length: 3000 }, (_, i) => (i % 101 === 0 ? cell(i, "***") : i % 103 === 0 ? { ...cell(i), "@annotation": "A1" } : cell(i))))
      const { events, head } = yield* collect([bytesOf(body)], 4096)
      expect(events.length).toBeGreaterThan(20)
      expect(events).not.toContain("restart")
      expect(pageOf(head, events)).toEqual(Either.getOrThrow(whole(body)))
    }))

  it.effect("a cut in a text (or a count other than RESULT_INF's) restarts the sink with the page read whole", () =>
    Effect.gen(function* () {
      const cutInText = answer(Array.from({ length: 400 }, (_, i) => cell(i, i % 50 === 7 ? 'a},{"@tab":"09"' : undefined)))
      const cut = yield* collect([bytesOf(cutInText)], 1)
      expect(cut.events.filter((e) => e === "restart").length).toBe(1)
      expect(cut.events.indexOf("restart")).toBeGreaterThan(0)
      expect(pageOf(cut.head, cut.events)).toEqual(Either.getOrThrow(whole(cutInText)))
      const short = answer(Array.from({ length: 10 }, (_, i) => cell(i)), { TOTAL_NUMBER: 100, FROM_NUMBER: 1, TO_NUMBER: 11 })
      const counted = yield* collect([bytesOf(short)], 1)
      expect(counted.events.filter((e) => e === "restart").length).toBe(1)
      expect(pageOf(counted.head, counted.events)).toEqual(Either.getOrThrow(whole(short)))
      // Not cut at all ("}]" in a text): read whole, no restart.
      const endInText = answer(Array.from({ length: 40 }, (_, i) => cell(i, i === 9 ? "x}]" : undefined)))
      const uncut = yield* collect([bytesOf(endInText)], 1)
      expect(uncut.events.length).toBe(1)
      expect(pageOf(uncut.head, uncut.events)).toEqual(Either.getOrThrow(whole(endInText)))
    }))

  it.effect("e-Stat's refusals and broken cells fail as the whole read does, whatever was handed before", () =>
    Effect.gen(function* () {
      const refused = encodeJson({ GET_STATS_DATA: { RESULT: { STATUS: 100, ERROR_MSG: "認証に失敗しました。" } } })
      expect(yield* Effect.flip(collect([bytesOf(refused)], 1))).toMatchObject({ _tag: "BodyRejected", fault: { _tag: "Refused", status: 100 } })
      const broken = answer(Array.from({ length: 40 }, (_, i) => (i === 30 ? { "@tab": "01", $: "1" } : cell(i))))
      expect(yield* Effect.flip(collect([bytesOf(broken)], 1))).toMatchObject({ _tag: "BodyRejected", fault: { _tag: "Unexpected", detail: "VALUE[30] lacks @cat01" } })
      const cutShort = bytesOf(answer(Array.from({ length: 40 }, (_, i) => cell(i))))
      expect(yield* Effect.flip(collect([cutShort.slice(0, cutShort.length - 40)], 1))).toMatchObject({ _tag: "BodyRejected", fault: { _tag: "Incomplete" } })
    }))
})
