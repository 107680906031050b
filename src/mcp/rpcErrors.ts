import { Schema } from "effect"
import type { JsonRpcResponse, RequestId } from "./jsonrpc.js"

/**
 * JSON-RPC errors as MCP answers them, each class carrying its code (the style of @effect/ai's
 * McpSchema errors): handlers fail with one, and `rpcErrorResponse` is the one place that turns
 * any of them into the error response.
 */

/** What every JSON-RPC error has on the wire; the code comes from the class. */
const fields = { message: Schema.String, data: Schema.optional(Schema.Unknown) }

export class ParseError extends Schema.TaggedError<ParseError>()("ParseError", fields) {
  static readonly code = -32700
  readonly code = ParseError.code
  static readonly body = new ParseError({ message: "Parse error: the body is not valid JSON" })
}

export class InvalidRequest extends Schema.TaggedError<InvalidRequest>()("InvalidRequest", fields) {
  static readonly code = -32600
  readonly code = InvalidRequest.code
}

export class MethodNotFound extends Schema.TaggedError<MethodNotFound>()("MethodNotFound", fields) {
  static readonly code = -32601
  readonly code = MethodNotFound.code
  static readonly of = (method: string) => new MethodNotFound({ message: `Method not found: ${method}` })
}

export class InvalidParams extends Schema.TaggedError<InvalidParams>()("InvalidParams", fields) {
  static readonly code = -32602
  readonly code = InvalidParams.code
}

export class InternalError extends Schema.TaggedError<InternalError>()("InternalError", fields) {
  static readonly code = -32603
  readonly code = InternalError.code
}

/** MCP's resource not found (-32002, up to 2025-11-25; 2026-07-28 answers -32602 naming the URI). */
export class ResourceNotFound extends Schema.TaggedError<ResourceNotFound>()("ResourceNotFound", {
  ...fields,
  uri: Schema.String
}) {
  static readonly code = -32002
  readonly code = ResourceNotFound.code
}

export type RpcError = ParseError | InvalidRequest | MethodNotFound | InvalidParams | InternalError | ResourceNotFound

/** Anything answered as a JSON-RPC error: these classes, and the 2026-07-28 refusals that carry their own code. */
export interface RpcErrorLike {
  readonly code: number
  readonly message: string
  readonly data?: unknown
}

/** The error response for `id` (null when the request's id is unknown). */
export const rpcErrorResponse = (id: RequestId | null, error: RpcErrorLike): JsonRpcResponse => ({
  jsonrpc: "2.0",
  id,
  error: error.data === undefined
    ? { code: error.code, message: error.message }
    : { code: error.code, message: error.message, data: error.data }
})
