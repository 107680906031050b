import { type Headers, HttpIncomingMessage, HttpMiddleware, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { Context, Effect, Either, FiberRef, Layer, Option } from "effect"
import { AppConfig, type AppSettings } from "../config.js"
import { httpError, TransportCode } from "./rpcResponses.js"

/**
 * Request bodies are read whole, as text, and each read holds a socket and up to
 * MCP_MAX_BODY_BYTES of memory, so reads are bounded three ways: in size, in time
 * (MCP_BODY_TIMEOUT, from the first byte asked for to the last), and in number at once
 * (MCP_MAX_BODIES_IN_FLIGHT; one more is answered 503 at once rather than queued, so a client
 * trickling bodies on many sockets gets its sockets back instead of a place in a queue).
 */

/** Refused before reading: the declared length is over the cap, or every read slot is taken. */
export type BodyRefusal = "declared-too-large" | "busy"
/** Stopped while reading: the platform has destroyed the request, and on Node its socket. */
export type BodyCut = "too-large" | "timed-out" | "unreadable"
export type BodyProblem = BodyRefusal | BodyCut

/** How long a client should wait before sending again once every read slot was taken. */
const RETRY_AFTER_SECONDS = 1

/**
 * A cut body is answered with a status and no body: its socket is already gone, and a body
 * written to it never finishes, which would hold the request's fiber and memory for good.
 */
export const bodyProblemResponse = (problem: BodyProblem, settings: Pick<AppSettings, "maxBodyBytes">) => {
  switch (problem) {
    case "declared-too-large":
      return httpError(413, TransportCode.BadRequest, `Payload Too Large: the body exceeds ${settings.maxBodyBytes} bytes`)
    case "busy":
      return httpError(503, TransportCode.BadRequest, "Service Unavailable: too many request bodies are being read; retry shortly", {
        "retry-after": String(RETRY_AFTER_SECONDS)
      })
    case "too-large":
      return HttpServerResponse.empty({ status: 413 })
    case "timed-out":
      return HttpServerResponse.empty({ status: 408 })
    case "unreadable":
      return HttpServerResponse.empty({ status: 400 })
  }
}

/** Whether the current request's body was read to its end (see closeUnreadBodies). */
const bodyRead = FiberRef.unsafeMake(false)

export class RequestBodies extends Context.Tag("estat-mcp/RequestBodies")<RequestBodies, {
  /** The current request's body as text, or the problem that stopped reading it. */
  readonly read: Effect.Effect<Either.Either<string, BodyProblem>, never, HttpServerRequest.HttpServerRequest>
}>() {
  /** The read slots are shared by every request the app serves. */
  static readonly layer = Layer.effect(
    RequestBodies,
    Effect.gen(function* () {
      const settings = yield* AppConfig
      const slots = yield* Effect.makeSemaphore(settings.maxBodiesInFlight)
      const readWithin = (request: HttpServerRequest.HttpServerRequest) =>
        request.text.pipe(
          HttpIncomingMessage.withMaxBodySize(Option.some(settings.maxBodyBytes)),
          Effect.mapError((error): BodyCut => String(error.cause).includes("maxBytes exceeded") ? "too-large" : "unreadable"),
          Effect.timeoutFail({ duration: settings.bodyTimeout, onTimeout: (): BodyCut => "timed-out" }),
          Effect.tap(() => FiberRef.set(bodyRead, true)),
          Effect.either
        )
      const read = Effect.gen(function* () {
        const request = yield* HttpServerRequest.HttpServerRequest
        const declared = Number(request.headers["content-length"] ?? "0")
        if (Number.isFinite(declared) && declared > settings.maxBodyBytes) return Either.left<BodyProblem>("declared-too-large")
        const slotted = yield* slots.withPermitsIfAvailable(1)(readWithin(request))
        return Option.getOrElse(slotted, () => Either.left<BodyProblem>("busy"))
      })
      return { read }
    })
  )
}

/** The current request's body, or the response to answer instead (413, 503; after a cut 413, 408 or 400). */
export const readBody = Effect.gen(function* () {
  const bodies = yield* RequestBodies
  const settings = yield* AppConfig
  const body = yield* bodies.read
  return Either.mapLeft(body, (problem) => bodyProblemResponse(problem, settings))
})

const declaresBody = (headers: Headers.Headers) =>
  headers["transfer-encoding"] !== undefined || (headers["content-length"] !== undefined && headers["content-length"] !== "0")

/**
 * A request whose body was not read to its end (refused before reading, too large, too slow, no
 * free slot, or a route that reads no body) is answered with `Connection: close`: otherwise Node
 * drains the rest of the body for as long as the client keeps sending it, holding the socket.
 */
export const closeUnreadBodies = HttpMiddleware.make((app) =>
  Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    if (!declaresBody(request.headers)) return yield* app
    const [response, read] = yield* Effect.locally(Effect.zip(app, FiberRef.get(bodyRead)), bodyRead, false)
    return read ? response : HttpServerResponse.setHeader(response, "connection", "close")
  })
)
