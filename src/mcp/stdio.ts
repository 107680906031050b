import { NodeStream } from "@effect/platform-node"
import { Effect, Either, Option, Stream } from "effect"
import { classify, type JsonRpcResponse, parseJson } from "./jsonrpc.js"
import { latestVersion } from "./protocol.js"
import { channel, McpServer } from "./server.js"
import { makeSession } from "./session.js"

/**
 * MCP over stdio: newline-delimited JSON-RPC on stdin/stdout, one implicit session for the
 * life of the process. Requests run concurrently; each message is written as one line.
 */
export const serveStdio = (io: {
  readonly input: NodeJS.ReadableStream
  readonly write: (line: string) => void
} = { input: process.stdin, write: (line) => process.stdout.write(line) }) =>
  Effect.gen(function* () {
    const server = yield* McpServer
    const session = yield* makeSession({ id: "stdio", kind: "stdio", protocolVersion: latestVersion, replayCapacity: 1 })
    const send = (message: unknown) => Effect.sync(() => io.write(`${JSON.stringify(message)}\n`))

    const handleLine = (line: string) => {
      const message = Either.flatMap(parseJson(line), classify)
      if (Either.isLeft(message)) return send(message.left)
      const m = message.right
      switch (m._tag) {
        case "Request":
          return server.handleRequest(session, m.message, channel(send)).pipe(
            Effect.flatMap(Option.match({ onNone: () => Effect.void, onSome: (r: JsonRpcResponse) => send(r) })),
            Effect.forkIn(session.scope),
            Effect.asVoid
          )
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
