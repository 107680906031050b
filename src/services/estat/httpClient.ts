import { NodeHttpClient } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import type { IncomingMessage } from "node:http"

/**
 * The HttpClient e-Stat is asked through: node:http, connections kept alive (the Agent's default
 * would open one, and a TLS session, per request). Not fetch: a data page's ~8 MB body read from
 * node:http's own events (`messagePieces`) costs the event loop's thread ~13–15 ms of CPU, against
 * ~40–58 ms through an Effect Stream over fetch's web stream (README, responsiveness, eighth pass).
 */
export const estatHttpClient = NodeHttpClient.layerWithoutAgent.pipe(Layer.provide(NodeHttpClient.makeAgentLayer({ keepAlive: true })))

/**
 * A node:http answer's body in the pieces it came in (each a buffer of its own), read by the
 * message's own events. Fails with `onError`'s error when the connection ends before the body
 * does; interrupted, it stops listening and destroys the message (the request is aborted).
 */
export const messagePieces = <E>(message: IncomingMessage, onError: (cause: unknown) => E): Effect.Effect<ReadonlyArray<Uint8Array>, E> =>
  Effect.async<ReadonlyArray<Uint8Array>, E>((resume) => {
    const pieces: Array<Uint8Array> = []
    const onData = (piece: Uint8Array) => void pieces.push(piece)
    const stop = () => {
      message.off("data", onData).off("end", onEnd).off("error", onFailure).off("close", onClose)
    }
    function onEnd() {
      stop()
      resume(Effect.succeed(pieces))
    }
    function onFailure(cause: unknown) {
      stop()
      resume(Effect.fail(onError(cause)))
    }
    // A connection that closes before the end may emit no error (Node emits 'aborted' only on some versions).
    function onClose() {
      if (!message.complete) onFailure(new Error("the connection closed before the body's end"))
    }
    if (message.destroyed) return onFailure(message.errored ?? new Error("the connection closed before the body was read"))
    message.on("data", onData).on("end", onEnd).on("error", onFailure).on("close", onClose)
    return Effect.sync(() => {
      stop()
      message.destroy()
    })
  })
