import { IncomingMessage } from "node:http"
import { type Headers, HttpIncomingMessage, HttpMiddleware, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { Context, Duration, Effect, Either, Layer, Option } from "effect"
import { AppConfig } from "../config.js"
import { Unavailable, UnreadBody } from "./httpFailures.js"

/**
 * Request bodies are read whole, as text, and each read holds a socket and up to
 * MCP_MAX_BODY_BYTES of memory, so reads are bounded three ways: in size, in time
 * (MCP_BODY_TIMEOUT, from the first byte asked for to the last), and in number at once
 * (MCP_MAX_BODIES_IN_FLIGHT; one more is answered 503 at once rather than queued, so a client
 * trickling bodies on many sockets gets its sockets back instead of a place in a queue).
 */

/** Why a body was not read: refused before reading (declared over the cap), or stopped while reading. */
export type BodyProblem = UnreadBody["problem"]

/** How long a client should wait before sending again once every read slot was taken. */
const RETRY_AFTER = Duration.seconds(1)

/** The request as Node received it; none for a request from elsewhere (a web Request in tests). */
const nodeMessage = (request: HttpServerRequest.HttpServerRequest) => request.source instanceof IncomingMessage ? request.source : undefined

/**
 * Waits for the I/O callback that started the request to end: Node's parser is then done with the
 * bytes it already had. Nothing to cancel: an interrupted wait's turn comes and resumes no one
 * (a canceller would cost every request an interruption handler).
 */
const afterParser = Effect.async<void>((resume) => void setImmediate(() => resume(Effect.void)))

/**
 * Whether Node has received the request's whole body. Node parses a body only after the
 * request's handler has started, even when its bytes came with the head, so a body not yet
 * complete is looked at again after the parser's turn: a small request is then whole.
 */
export const receivedWhole = (request: HttpServerRequest.HttpServerRequest): Effect.Effect<boolean> =>
  Effect.suspend(() => {
    const message = nodeMessage(request)
    if (message === undefined) return Effect.succeed(false)
    return message.complete ? Effect.succeed(true) : Effect.map(afterParser, () => message.complete)
  })

/**
 * A body Node has received whole, taken from the message's buffer in one step: the platform's
 * `request.text` sets up a stream reader, a scope and a cached effect for what is already in memory.
 */
const takeReceived = (message: IncomingMessage, maxBytes: number): Either.Either<string, BodyProblem> => {
  if (message.readableLength > maxBytes) return Either.left("too-large")
  const buffered: Buffer | null = message.read()
  return Either.right(buffered === null ? "" : buffered.toString("utf8"))
}

/** Read slots, taken at once or not at all (a request never queues for one). */
const makeSlots = (capacity: number) => {
  let taken = 0
  return {
    /** Whether one is free now: enough for a read that ends within this step. */
    free: () => taken < capacity,
    /** Takes one for a read that may suspend; false when none is free. */
    take: () => {
      if (taken >= capacity) return false
      taken++
      return true
    },
    release: () => void taken--
  }
}

export class RequestBodies extends Context.Tag("estat-mcp/RequestBodies")<RequestBodies, {
  /** The request's body as text; refused when over the cap or cut (UnreadBody), or when every read slot is taken (503). */
  readonly read: (request: HttpServerRequest.HttpServerRequest) => Effect.Effect<string, UnreadBody | Unavailable>
}>() {
  /** The read slots are shared by every request the app serves. */
  static readonly layer = Layer.effect(
    RequestBodies,
    Effect.gen(function* () {
      const settings = yield* AppConfig
      const slots = makeSlots(settings.maxBodiesInFlight)
      const unread = (problem: BodyProblem) => new UnreadBody({ problem, maxBytes: settings.maxBodyBytes })
      const busy = new Unavailable({ reason: "too many request bodies are being read; retry shortly", retryAfter: RETRY_AFTER })
      const readText = (request: HttpServerRequest.HttpServerRequest) =>
        request.text.pipe(
          HttpIncomingMessage.withMaxBodySize(Option.some(settings.maxBodyBytes)),
          Effect.mapError((error) => unread(String(error.cause).includes("maxBytes exceeded") ? "too-large" : "unreadable"))
        )
      // A body Node has received whole is taken in one step, so it needs a free slot but holds none;
      // only one still arriving holds a slot and races the deadline (a race costs two fibers and a timer).
      const readWithin = (request: HttpServerRequest.HttpServerRequest, whole: boolean) => {
        const message = nodeMessage(request)
        if (whole && message !== undefined) {
          return Effect.suspend((): Either.Either<string, UnreadBody | Unavailable> =>
            slots.free() ? Either.mapLeft(takeReceived(message, settings.maxBodyBytes), unread) : Either.left(busy))
        }
        const reading = whole ? readText(request) : readText(request).pipe(
          Effect.timeoutFail({ duration: settings.bodyTimeout, onTimeout: () => unread("timed-out") })
        )
        return Effect.acquireUseRelease(
          Effect.suspend(() => slots.take() ? Effect.void : Effect.fail(busy)),
          () => reading,
          () => Effect.sync(slots.release)
        )
      }
      const read = (request: HttpServerRequest.HttpServerRequest) => {
        const declared = Number(request.headers["content-length"] ?? "0")
        if (Number.isFinite(declared) && declared > settings.maxBodyBytes) return Effect.fail(unread("declared-too-large"))
        // Looked at before a read slot is taken: the parser's turn may see many requests start.
        return Effect.flatMap(receivedWhole(request), (whole) => readWithin(request, whole))
      }
      return { read }
    })
  )
}

/** The current request's body; refused 413 or 503 before reading, 413, 408 or 400 after a cut. */
export const readBody = Effect.contextWithEffect((context: Context.Context<RequestBodies | HttpServerRequest.HttpServerRequest>) =>
  Context.get(context, RequestBodies).read(Context.get(context, HttpServerRequest.HttpServerRequest)))

const declaresBody = (headers: Headers.Headers) =>
  headers["transfer-encoding"] !== undefined || (headers["content-length"] !== undefined && headers["content-length"] !== "0")

/** Whether Node is still receiving the request's body (not for a request from elsewhere: no socket to drain). */
const stillArriving = (request: HttpServerRequest.HttpServerRequest) => {
  const message = nodeMessage(request)
  return message !== undefined && declaresBody(request.headers) && !message.complete
}

/**
 * A request answered while its body is still arriving (refused before reading, too large, too
 * slow, no free slot, or a route that reads no body) is answered with `Connection: close`:
 * otherwise Node drains the rest of the body for as long as the client keeps sending it, holding
 * the socket. A body received whole, read or not, leaves keep-alive as it is.
 */
export const closeUnreadBodies = HttpMiddleware.make((app) =>
  Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) =>
    Effect.map(app, (response) => stillArriving(request) ? HttpServerResponse.setHeader(response, "connection", "close") : response))
)
