import { Effect, Either, Schema } from "effect"
import type { DataCells, DataPage, PageHead } from "../../domain/estat.js"
import { addPiece, cellColumns, dataPageOfPieces, Envelope, GetStatsData, headOfCut, toDataPage, toNumber } from "./schema.js"
import { splitValueBytes, splitValues } from "./valuePieces.js"

/**
 * Why a body was not the answer: cut short (not complete JSON), not the answer expected, refused
 * by e-Stat (RESULT.STATUS ≥ 100), or an HTTP error. A Schema: a worker thread sends it back.
 */
export const BodyFault = Schema.Union(
  Schema.TaggedStruct("Incomplete", {}),
  Schema.TaggedStruct("Unexpected", { detail: Schema.String }),
  Schema.TaggedStruct("Refused", { status: Schema.Number, errorMessage: Schema.String }),
  Schema.TaggedStruct("HttpError", { httpStatus: Schema.Number, detail: Schema.String })
)
export type BodyFault = typeof BodyFault.Type

/** A body, read where it was handed (a worker thread), was not the answer. */
export class BodyRejected extends Schema.TaggedError<BodyRejected>()("BodyRejected", { fault: BodyFault }) {
  override get message() {
    return `the body was not the answer (${this.fault._tag})`
  }
}

const unexpected = (detail: string): BodyFault => ({ _tag: "Unexpected", detail })

/**
 * What to parse of an e-Stat body (all of it, or a part), and how to make the answer of the
 * parsed JSON; `text` is checked for e-Stat's RESULT before `decode` runs.
 */
export type BodyReader<A> = (body: string) => {
  readonly text: string
  readonly decode: (json: unknown) => Effect.Effect<A, BodyFault>
}

const schemaDecoder = <A, I, B>(schema: Schema.Schema<A, I>, f: (decoded: A) => Either.Either<B, string>) => {
  const decode = Schema.decodeUnknownEither(schema)
  return (json: unknown): Either.Either<B, BodyFault> =>
    Either.mapLeft(Either.flatMap(Either.mapLeft(decode(json), (e) => e.message.slice(0, 300)), f), unexpected)
}

/** A body parsed whole, decoded by a Schema, then shaped by `f` (which may still refuse it). */
export const bySchema = <A, I, B>(schema: Schema.Schema<A, I>, f: (decoded: A) => Either.Either<B, string>): BodyReader<B> => {
  const decode = schemaDecoder(schema, f)
  return (body) => ({ text: body, decode })
}

const decodePage = schemaDecoder(GetStatsData, (answer) => toDataPage(answer.GET_STATS_DATA.STATISTICAL_DATA))
const decodeAnswer = schemaDecoder(GetStatsData, Either.right)
const parseWhole = (body: string) =>
  Either.flatMap(Either.try({ try: () => JSON.parse(body) as unknown, catch: (): BodyFault => ({ _tag: "Incomplete" }) }), decodePage)

/** Body first: e-Stat answers errors (even HTTP 403) with a RESULT.STATUS we must read. */
export const interpretBody = (httpStatus: number, body: string): Either.Either<unknown, BodyFault> => {
  const parsed = Either.try(() => JSON.parse(body) as unknown)
  const envelope = Either.flatMap(parsed, (json) => Schema.decodeUnknownEither(Envelope)(json))
  if (Either.isRight(envelope)) {
    const result = Object.values(envelope.right)[0]?.RESULT
    const status = toNumber(result?.STATUS) ?? -1
    if (status >= 100) return Either.left({ _tag: "Refused", status, errorMessage: String(result?.ERROR_MSG ?? "") })
    if (httpStatus >= 200 && httpStatus < 300 && Either.isRight(parsed)) return Either.right(parsed.right)
  }
  if (httpStatus === 429 || httpStatus >= 300) return Either.left({ _tag: "HttpError", httpStatus, detail: describeBody(body) })
  // A 200 whose body does not parse was cut on the way (or garbled): another attempt may get it whole.
  return Either.left(Either.isLeft(parsed) ? { _tag: "Incomplete" } : unexpected("the body is not an e-Stat response"))
}

/** A body as `read` makes it into an answer, e-Stat's RESULT checked first. */
export const readBody = <A>(read: BodyReader<A>, httpStatus: number, body: string): Effect.Effect<A, BodyFault> =>
  Effect.flatMap(Effect.suspend(() => {
    const reading = read(body)
    return Effect.map(interpretBody(httpStatus, reading.text), (json) => ({ reading, json }))
  }), ({ json, reading }) => reading.decode(json))

/** A short, safe description of a non-e-Stat body (e.g. a WAF's HTML page). */
const describeBody = (body: string) => {
  const title = /<title>([^<]*)<\/title>/i.exec(body)?.[1]?.trim()
  if (title !== undefined && title !== "") return `an HTML page "${title.slice(0, 80)}"`
  const trimmed = body.trim()
  return trimmed === "" ? "an empty body" : `a non-e-Stat body (${trimmed.length} bytes)`
}

/** The UTF-8 text of a body received in pieces (a character may straddle two of them). */
const textOfPieces = (pieces: ReadonlyArray<Uint8Array>): string => {
  const utf8 = new TextDecoder()
  return pieces.map((piece) => utf8.decode(piece, { stream: true })).join("") + utf8.decode()
}

/**
 * A getStatsData page from its body's bytes, in the pieces they were handed (see EStat's
 * `readDataPage`); `between` runs between the pieces of its VALUE.
 */
export const pageOfBytes = (body: ReadonlyArray<Uint8Array>, httpStatus: number, between = yieldToEventLoop): Effect.Effect<DataPage, BodyRejected> =>
  rejected(readBody(readPage(undefined, between), httpStatus, textOfPieces(body)))

/**
 * Where a page's cells go as they are read (`streamPageOfBytes`): in order, a piece of VALUE at a
 * time. `restart`: the cells handed so far came from a cut in the wrong place, and the page, read
 * whole, comes again from its first cell.
 */
export interface CellSink<E> {
  readonly cells: (cells: DataCells, head: PageHead) => Effect.Effect<void, E>
  readonly restart: Effect.Effect<void, E>
}

/**
 * A getStatsData page from its body's bytes, its cells handed to `sink` a piece of VALUE at a
 * time (`splitValueBytes`), `between` running before each piece: neither the page's text nor its
 * columns exist whole, so what a piece leaves dies young. A body that cannot be cut right is read
 * whole and handed in one go.
 */
export const streamPageOfBytes = <E>(
  body: ReadonlyArray<Uint8Array>,
  httpStatus: number,
  sink: CellSink<E>,
  between = yieldToEventLoop,
  pieceBytes?: number
): Effect.Effect<PageHead, BodyRejected | E> =>
  Effect.gen(function* () {
    const bytes = body.length === 1 ? Buffer.from(body[0]!.buffer, body[0]!.byteOffset, body[0]!.byteLength) : Buffer.concat(body)
    const split = splitValueBytes(bytes, pieceBytes)
    if (split !== null) {
      const answer = yield* rejected(Effect.flatMap(interpretBody(httpStatus, split.head), decodeAnswer))
      const cut = headOfCut(answer.GET_STATS_DATA.STATISTICAL_DATA)
      if (cut !== null) {
        const cells = cellColumns(0)
        let count = 0
        let cutRight = true
        for (const piece of split.pieces) {
          yield* between
          const added = addPiece(cells, utf8.decode(piece))
          if (added === null) {
            cutRight = false
            break
          }
          if (Either.isLeft(added)) return yield* rejected(Effect.fail(unexpected(added.left)))
          // The next piece has about as many cells as this one.
          const batch = cells.take(cells.pending())
          count += batch.count
          yield* sink.cells(batch, cut.head)
        }
        if (cutRight && (cut.expected === null || count === cut.expected)) return cut.head
        if (count > 0) yield* sink.restart
      }
    }
    const { cells, ...head } = yield* rejected(readBody((text) => ({ text, decode: decodePage }), httpStatus, utf8.decode(bytes)))
    yield* sink.cells(cells, head)
    return head
  })

const rejected = <A>(reading: Effect.Effect<A, BodyFault>) => Effect.mapError(reading, (fault) => new BodyRejected({ fault }))

const utf8 = new TextDecoder()

/**
 * Lets the event loop run (timers, sockets: `/health`, other sessions' calls) before going on.
 * Effect.yieldNow alone would not: the scheduler resumes a yielded fiber in a microtask, before
 * any I/O is looked at.
 */
export const yieldToEventLoop: Effect.Effect<void> = Effect.async<void>((resume) => {
  const turn = setImmediate(() => resume(Effect.void))
  return Effect.sync(() => clearImmediate(turn))
})

/**
 * A getStatsData page: its VALUE parsed in pieces (`splitValues`), running `between` between
 * pieces — by default letting the event loop run (a page is ~50 ms of parsing at full speed, ~4×
 * that on a 0.25-vCPU task) — or the body whole when it cannot be cut right.
 */
export const readPage = (pieceChars?: number, between = yieldToEventLoop): BodyReader<DataPage> => (body) => {
  const split = splitValues(body, pieceChars)
  return split === null ? { text: body, decode: decodePage } : {
    text: split.head,
    decode: (head) =>
      Effect.gen(function* () {
        const answer = yield* decodeAnswer(head)
        const steps = dataPageOfPieces(answer.GET_STATS_DATA.STATISTICAL_DATA, split.pieces)
        for (let step = steps.next(); ; step = steps.next()) {
          if (step.done === true) return yield* step.value === null ? parseWhole(body) : Either.mapLeft(step.value, unexpected)
          yield* between
        }
      })
  }
}
