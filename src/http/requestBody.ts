import { HttpIncomingMessage, HttpServerRequest } from "@effect/platform"
import { Effect, Either, Option } from "effect"

export type BodyProblem = "too-large" | "unreadable"

/** Reads the body as text, refusing more than `maxBytes` (by header first, then while reading). */
export const readBody = (maxBytes: number) =>
  Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    const declared = Number(request.headers["content-length"] ?? "0")
    if (Number.isFinite(declared) && declared > maxBytes) return Either.left<BodyProblem>("too-large")
    return yield* request.text.pipe(
      HttpIncomingMessage.withMaxBodySize(Option.some(maxBytes)),
      Effect.map((text) => Either.right(text)),
      Effect.catchAll((error) =>
        Effect.succeed(Either.left<BodyProblem>(String(error.cause).includes("maxBytes exceeded") ? "too-large" : "unreadable"))
      )
    )
  })
