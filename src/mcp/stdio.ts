import { NodeStream } from "@effect/platform-node"
import { Effect, Either, FiberMap, Option, Stream } from "effect"
import { classify, type McpRequest, parseJson } from "./incoming.js"
import type { JsonRpcResponse } from "./jsonrpc.js"
import { rpcErrorResponse } from "./rpcErrors.js"
import { latestVersion } from "./protocol.js"
import { channel, McpServer } from "./server.js"
import { makeSession } from "./session.js"
import { admit, claimsStateless, readEnvelope, refusalResponse } from "./stateless.js"

/**
 * MCP over stdio: newline-delimited JSON-RPC on stdin/stdout. A request whose `_meta` claims
 * 2026-07-28 is answered from what it carries, as on HTTP (no handshake needed, refusals with
 * the same codes); everything else belongs to the one implicit 2025 session of the process.
 * Requests run concurrently; `notifications/cancelled` interrupts either kind; each message is
 * written as one line.
 */
export const serveStdio = (io: {
  readonly input: NodeJS.ReadableStream
  readonly write: (line: string) => void
} = { input: process.stdin, write: (line) => process.stdout.write(line) }) =>
  Effect.gen(function* () {
    const server = yield* McpServer
    const send = (message: unknown) => Effect.sync(() => io.write(`${JSON.stringify(message)}\n`))
    const session = yield* makeSession({ id: "stdio", kind: "stdio", protocolVersion: latestVersion, replayCapacity: 1, deliver: send })
    const answer = Option.match({ onNone: () => Effect.void, onSome: (response: JsonRpcResponse) => send(response) })

    /** A 2026-07-28 request: refused before it runs, or handled with its envelope; cancellable by id like a session's. */
    const handleStateless = (request: McpRequest) =>
      Either.match(Either.flatMap(readEnvelope(request.params), (envelope) => Either.map(admit(request, envelope, server), () => envelope)), {
        onLeft: (refusal) => send(refusalResponse(request.id, refusal)),
        onRight: (envelope) =>
          FiberMap.run(session.inflight, request.id, Effect.flatMap(server.handleStateless(request, envelope, channel(send)), answer)).pipe(Effect.asVoid)
      })

    const handleLine = (line: string) => {
      const message = Either.flatMap(Either.mapLeft(parseJson(line), (error) => ({ id: null, error })), classify)
      if (Either.isLeft(message)) return send(rpcErrorResponse(message.left.id, message.left.error))
      const m = message.right
      switch (m._tag) {
        case "Request":
          return claimsStateless(m.message.params)
            ? handleStateless(m.message)
            : server.handleRequest(session, m.message, channel(send)).pipe(Effect.flatMap(answer), Effect.forkIn(session.scope), Effect.asVoid)
        case "Notification":
          return server.handleNotification(session, m.message)
        case "Response":
          return Effect.void
      }
    }

    yield* NodeStream.fromReadable<Error, Uint8Array>(() => io.input, (e) => e instanceof Error ? e : new Error(String(e))).pipe(
      Stream.decodeText(),
      Stream.splitLines,
      Stream.filter((line) => line.trim() !== ""),
      Stream.runForEach(handleLine),
      Effect.catchAll((error) => Effect.logError("stdin failed", error)),
      Effect.ensuring(session.close)
    )
  })
