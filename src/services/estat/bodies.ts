import { Effect, Either, Schema } from "effect"
import type { DataPage } from "../../domain/estat.js"
import { dataPageOfPieces, GetStatsData, toDataPage } from "./schema.js"
import { splitValues } from "./valuePieces.js"

/** Why a body could not be read: cut short (not complete JSON), or not the answer expected. */
export type BodyFault = { readonly _tag: "Incomplete" } | { readonly _tag: "Unexpected"; readonly detail: string }

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
 * A getStatsData page: its VALUE parsed in pieces (`splitValues`), letting the event loop run
 * between pieces (a page is ~50 ms of parsing at full speed, ~4× that on a 0.25-vCPU task), or
 * the body whole when it cannot be cut right.
 */
export const readPage = (pieceChars?: number): BodyReader<DataPage> => (body) => {
  const split = splitValues(body, pieceChars)
  return split === null ? { text: body, decode: decodePage } : {
    text: split.head,
    decode: (head) =>
      Effect.gen(function* () {
        const answer = yield* decodeAnswer(head)
        const steps = dataPageOfPieces(answer.GET_STATS_DATA.STATISTICAL_DATA, split.pieces)
        for (let step = steps.next(); ; step = steps.next()) {
          if (step.done === true) return yield* step.value === null ? parseWhole(body) : Either.mapLeft(step.value, unexpected)
          yield* yieldToEventLoop
        }
      })
  }
}
