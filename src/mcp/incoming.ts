import { Either, ParseResult, Schema } from "effect"
import {
  JsonRpcErrorResponse,
  JsonRpcNotification,
  JsonRpcRequest,
  type JsonRpcResponse,
  JsonRpcResult,
  type RequestId
} from "./jsonrpc.js"
import { type Method, type ParamsOf, paramsSchemas } from "./messages.js"
import { InvalidParams, InvalidRequest, ParseError } from "./rpcErrors.js"

/**
 * The edge every transport passes a message through: JSON parsed, the JSON-RPC shape classified,
 * and a request's params decoded once, by the schema of its method (messages.ts), so handlers
 * read typed params and transports' checks (scopes, Mcp-Name) read the same decoded values.
 */

/** A request's params as its method's schema decoded them, or why they do not fit; `Unread` for methods the server does not read. */
export type Call =
  | { readonly [M in Method]: { readonly _tag: "Decoded"; readonly method: M; readonly params: ParamsOf<M> } }[Method]
  | { readonly _tag: "Invalid"; readonly error: InvalidParams }
  | { readonly _tag: "Unread" }

export interface McpRequest extends JsonRpcRequest {
  readonly call: Call
}

export type JsonRpcMessage =
  | { readonly _tag: "Request"; readonly message: McpRequest }
  | { readonly _tag: "Notification"; readonly message: JsonRpcNotification }
  | { readonly _tag: "Response"; readonly message: JsonRpcResponse }

const isMethod = (method: string): method is Method => Object.hasOwn(paramsSchemas, method)

// Built once, at module load: a request costs one synchronous decode and no decoder construction.
const decoders = Object.fromEntries(
  Object.entries(paramsSchemas).map(([method, schema]) => [method, Schema.decodeUnknownEither(schema as Schema.Schema<unknown, unknown>)])
) as { readonly [M in Method]: (params: unknown) => Either.Either<ParamsOf<M>, ParseResult.ParseError> }

/** "params.name is missing; params.task.ttl: a positive whole number of milliseconds". */
const describe = (error: ParseResult.ParseError) =>
  ParseResult.ArrayFormatter.formatErrorSync(error)
    .map((issue) => {
      const path = ["params", ...issue.path.map(String)].join(".")
      return issue.message === "is missing" ? `${path} is missing` : `${path}: ${issue.message}`
    })
    .join("; ")

const decodeCall = (method: string, params: unknown): Call => {
  if (!isMethod(method)) return { _tag: "Unread" }
  return Either.match(decoders[method](params ?? {}), {
    onLeft: (error): Call => ({ _tag: "Invalid", error: new InvalidParams({ message: `Invalid params for ${method}: ${describe(error)}` }) }),
    // The decoder of `method` gave params of `method`: TypeScript cannot relate the two through the table.
    onRight: (decoded) => ({ _tag: "Decoded", method, params: decoded }) as Call
  })
}

/** A JSON-RPC request with its params decoded (also for requests made in code, e.g. tests and embedders). */
export const decodeRequest = (request: JsonRpcRequest): McpRequest => ({ ...request, call: decodeCall(request.method, request.params) })

/** The params of `method` when the request is one of it and they decoded; else why not (-32602). */
export const paramsOf = <M extends Method>(request: McpRequest, method: M): Either.Either<ParamsOf<M>, InvalidParams> => {
  const call = request.call
  if (call._tag === "Invalid") return Either.left(call.error)
  // Decoded by `method`'s schema: see decodeCall.
  if (call._tag === "Decoded" && call.method === method) return Either.right(call.params as ParamsOf<M>)
  return Either.left(new InvalidParams({ message: `Invalid params: ${request.method} is not ${method}` }))
}

/** A tools/call's tool name, when the request is one and its params decoded. */
export const toolNameOf = (request: McpRequest): string | undefined =>
  request.call._tag === "Decoded" && request.call.method === "tools/call" ? request.call.params.name : undefined

const isRequest = Schema.is(JsonRpcRequest)
const isNotification = Schema.is(JsonRpcNotification)
const isResult = Schema.is(JsonRpcResult)
const isErrorResponse = Schema.is(JsonRpcErrorResponse)

const hasOwn = (value: object, key: string) => Object.prototype.hasOwnProperty.call(value, key)

/** The id of a message that may be malformed: what its error response answers to. */
export const idOf = (value: unknown): RequestId | null => {
  if (typeof value !== "object" || value === null) return null
  const id = (value as { readonly id?: unknown }).id
  return typeof id === "string" || typeof id === "number" ? id : null
}

/** A message that is not JSON-RPC 2.0: the error and the id it answers to. */
export interface Unclassified {
  readonly id: RequestId | null
  readonly error: InvalidRequest
}

const notJsonRpc = new InvalidRequest({ message: "Invalid Request: not a JSON-RPC 2.0 request, notification or response" })

/** Classifies one decoded JSON value, decoding a request's params. */
export const classify = (value: unknown): Either.Either<JsonRpcMessage, Unclassified> => {
  if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    const hasMethod = hasOwn(value, "method")
    const hasId = hasOwn(value, "id")
    if (hasMethod && hasId && isRequest(value)) return Either.right({ _tag: "Request", message: decodeRequest(value) })
    if (hasMethod && !hasId && isNotification(value)) return Either.right({ _tag: "Notification", message: value })
    if (!hasMethod && (isResult(value) || isErrorResponse(value))) return Either.right({ _tag: "Response", message: value })
  }
  return Either.left({ id: idOf(value), error: notJsonRpc })
}

/** Parses a body. */
export const parseJson = (text: string): Either.Either<unknown, ParseError> =>
  Either.try({ try: () => JSON.parse(text) as unknown, catch: () => ParseError.body })
