import { Either, Schema } from "effect"
import type { DataPage } from "../../domain/estat.js"
import { GetStatsData, toDataPage, toDataPageOfPieces } from "./schema.js"
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
  readonly decode: (json: unknown) => Either.Either<A, BodyFault>
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

/** A getStatsData page: its VALUE parsed in pieces (`splitValues`), or the body whole when it cannot be cut right. */
export const readPage = (pieceChars?: number): BodyReader<DataPage> => (body) => {
  const split = splitValues(body, pieceChars)
  return split === null ? { text: body, decode: decodePage } : {
    text: split.head,
    decode: (head) =>
      Either.flatMap(decodeAnswer(head), (answer) => {
        const page = toDataPageOfPieces(answer.GET_STATS_DATA.STATISTICAL_DATA, split.pieces)
        return page === null ? parseWhole(body) : Either.mapLeft(page, unexpected)
      })
  }
}
