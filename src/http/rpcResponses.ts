import { HttpServerResponse } from "@effect/platform"
import { errorResponse, type JsonRpcResponse } from "../mcp/jsonrpc.js"

/** Transport-level errors: a JSON-RPC error body with the HTTP status the spec asks for. */
export const httpError = (status: number, code: number, message: string, headers: Record<string, string> = {}) =>
  HttpServerResponse.unsafeJson(errorResponse(null, code, message), { status, headers })

export const jsonRpc = (body: JsonRpcResponse | ReadonlyArray<JsonRpcResponse>, status = 200, headers: Record<string, string> = {}) =>
  HttpServerResponse.unsafeJson(body, { status, headers })

/** Codes the SDK's own transport uses for transport failures. */
export const TransportCode = {
  BadRequest: -32000,
  SessionNotFound: -32001
} as const
