import { Effect, Either, Option } from "effect"
import { describe, expect, it } from "@effect/vitest"
import { classify, decodeRequest, paramsOf, parseJson } from "../../src/mcp/incoming.js"
import {
  InternalError,
  InvalidParams,
  InvalidRequest,
  MethodNotFound,
  ParseError,
  ResourceNotFound,
  rpcErrorResponse
} from "../../src/mcp/rpcErrors.js"
import * as McpServer from "../../src/mcp/server.js"
import { makeSession } from "../../src/mcp/session.js"

describe("JSON-RPC errors", () => {
  it("each class carries its code, and one function makes its response", () => {
    const cases = [
      [new ParseError({ message: "p" }), -32700],
      [new InvalidRequest({ message: "r" }), -32600],
      [MethodNotFound.of("nope/nope"), -32601],
      [new InvalidParams({ message: "i", data: { uri: "s3://b/k" } }), -32602],
      [new InternalError({ message: "x" }), -32603],
      [new ResourceNotFound({ message: "gone", uri: "s3://b/k" }), -32002]
    ] as const
    for (const [error, code] of cases) {
      expect(error.code).toBe(code)
      const response = rpcErrorResponse(7, error)
      expect(response).toEqual({
        jsonrpc: "2.0",
        id: 7,
        error: "data" in error && error.data !== undefined ? { code, message: error.message, data: error.data } : { code, message: error.message }
      })
    }
    expect(MethodNotFound.of("nope/nope").message).toBe("Method not found: nope/nope")
  })

  it("fails as an Effect error and keeps its tag", () =>
    Effect.runPromise(Effect.flip(new InvalidParams({ message: "bad" }))).then((error) => {
      expect(error._tag).toBe("InvalidParams")
      expect(error.code).toBe(-32602)
    }))

  it("a body that is not JSON is -32700; a value that is not JSON-RPC is -32600 with its id", () => {
    expect(Either.getLeft(parseJson("{oops"))).toEqual(Option.some(ParseError.body))
    const refused = Either.getLeft(classify({ id: 3, method: 5 }))
    expect(Option.map(refused, (left) => rpcErrorResponse(left.id, left.error))).toEqual(Option.some({
      jsonrpc: "2.0",
      id: 3,
      error: { code: -32600, message: "Invalid Request: not a JSON-RPC 2.0 request, notification or response" }
    }))
  })
})

describe("params decoded once, where a request is classified", () => {
  it("a request's params are decoded by its method's schema", () => {
    const request = decodeRequest({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "echo", arguments: { a: 1 }, _meta: { progressToken: "t" } } })
    expect(request.call._tag).toBe("Decoded")
    const params = Either.getOrThrow(paramsOf(request, "tools/call"))
    expect(params.name).toBe("echo")
    expect(params.arguments).toEqual({ a: 1 })
    expect(params._meta?.progressToken).toBe("t")
  })

  it("methods the server does not read are left unread, not refused", () => {
    expect(decodeRequest({ jsonrpc: "2.0", id: 1, method: "sampling/createMessage", params: { x: 1 } }).call).toEqual({ _tag: "Unread" })
  })

  it.each([
    [{ arguments: {} }, "Invalid params for tools/call: params.name is missing"],
    [{ name: 42 }, "Invalid params for tools/call: params.name: Expected string, actual 42"],
    [{ name: "echo", task: { ttl: -1 } }, "params.task.ttl"],
    [{ name: "echo", _meta: { progressToken: true } }, "params._meta.progressToken"]
  ])("malformed tools/call params %j are -32602 naming the field", (params, named) => {
    const request = decodeRequest({ jsonrpc: "2.0", id: 9, method: "tools/call", params })
    const error = Either.getLeft(paramsOf(request, "tools/call"))
    expect(Option.map(error, (e) => e.code)).toEqual(Option.some(-32602))
    expect(Option.getOrThrow(error).message).toContain(named)
  })

  it.effect("the server answers a malformed tools/call with -32602 naming the field, before any tool runs", () =>
    Effect.gen(function* () {
      const server = yield* McpServer.make<never>([])
      const session = yield* makeSession({ id: "s", kind: "stdio", protocolVersion: "2025-11-25", replayCapacity: 8 })
      const response = yield* server.handleRequest(
        session,
        decodeRequest({ jsonrpc: "2.0", id: 4, method: "tools/call", params: { arguments: {} } }),
        McpServer.channel(() => Effect.void)
      )
      expect(Option.getOrThrow(response)).toEqual({
        jsonrpc: "2.0",
        id: 4,
        error: { code: -32602, message: "Invalid params for tools/call: params.name is missing" }
      })
      const unknown = yield* server.handleRequest(session, decodeRequest({ jsonrpc: "2.0", id: 5, method: "nope/nope" }), McpServer.channel(() => Effect.void))
      expect(Option.getOrThrow(unknown)).toEqual({ jsonrpc: "2.0", id: 5, error: { code: -32601, message: "Method not found: nope/nope" } })
    }))
})
