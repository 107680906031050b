import { Either, Schema } from "effect"

/** JSON-RPC 2.0 as MCP uses it: requests, notifications, responses. */

export const RequestId = Schema.Union(Schema.String, Schema.Number)
export type RequestId = typeof RequestId.Type

const Params = Schema.Record({ key: Schema.String, value: Schema.Unknown })
export type Params = typeof Params.Type

export const JsonRpcRequest = Schema.Struct({
  jsonrpc: Schema.Literal("2.0"),
  id: RequestId,
  method: Schema.String,
  params: Schema.optional(Params)
})
export type JsonRpcRequest = typeof JsonRpcRequest.Type

export const JsonRpcNotification = Schema.Struct({
  jsonrpc: Schema.Literal("2.0"),
  method: Schema.String,
  params: Schema.optional(Params)
})
export type JsonRpcNotification = typeof JsonRpcNotification.Type

const ErrorObject = Schema.Struct({
  code: Schema.Number,
  message: Schema.String,
  data: Schema.optional(Schema.Unknown)
})

export const JsonRpcResult = Schema.Struct({
  jsonrpc: Schema.Literal("2.0"),
  id: RequestId,
  result: Schema.Unknown
})
export const JsonRpcErrorResponse = Schema.Struct({
  jsonrpc: Schema.Literal("2.0"),
  id: Schema.NullOr(RequestId),
  error: ErrorObject
})
export type JsonRpcResponse = typeof JsonRpcResult.Type | typeof JsonRpcErrorResponse.Type

export type JsonRpcMessage =
  | { readonly _tag: "Request"; readonly message: JsonRpcRequest }
  | { readonly _tag: "Notification"; readonly message: JsonRpcNotification }
  | { readonly _tag: "Response"; readonly message: JsonRpcResponse }

export const ErrorCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603
} as const

export const errorResponse = (
  id: RequestId | null,
  code: number,
  message: string,
  data?: unknown
): JsonRpcResponse => ({
  jsonrpc: "2.0",
  id,
  error: data === undefined ? { code, message } : { code, message, data }
})

export const resultResponse = (id: RequestId, result: unknown): JsonRpcResponse => ({ jsonrpc: "2.0", id, result })

export const notification = (method: string, params?: Params): JsonRpcNotification =>
  params === undefined ? { jsonrpc: "2.0", method } : { jsonrpc: "2.0", method, params }

const isRequest = Schema.is(JsonRpcRequest)
const isNotification = Schema.is(JsonRpcNotification)
const isResult = Schema.is(JsonRpcResult)
const isErrorResponse = Schema.is(JsonRpcErrorResponse)

const hasOwn = (value: object, key: string) => Object.prototype.hasOwnProperty.call(value, key)

/** Classifies one decoded JSON value; Left carries the `-32600` response to send back. */
export const classify = (value: unknown): Either.Either<JsonRpcMessage, JsonRpcResponse> => {
  const idOf = (): RequestId | null => {
    if (typeof value !== "object" || value === null) return null
    const id = (value as { readonly id?: unknown }).id
    return typeof id === "string" || typeof id === "number" ? id : null
  }
  if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    const hasMethod = hasOwn(value, "method")
    const hasId = hasOwn(value, "id")
    if (hasMethod && hasId && isRequest(value)) return Either.right({ _tag: "Request", message: value })
    if (hasMethod && !hasId && isNotification(value)) return Either.right({ _tag: "Notification", message: value })
    if (!hasMethod && (isResult(value) || isErrorResponse(value))) return Either.right({ _tag: "Response", message: value })
  }
  return Either.left(errorResponse(idOf(), ErrorCode.InvalidRequest, "Invalid Request: not a JSON-RPC 2.0 request, notification or response"))
}

/** Parses a body; Left is the `-32700` response. */
export const parseJson = (text: string): Either.Either<unknown, JsonRpcResponse> =>
  Either.try({
    try: () => JSON.parse(text) as unknown,
    catch: () => errorResponse(null, ErrorCode.ParseError, "Parse error: the body is not valid JSON")
  })
