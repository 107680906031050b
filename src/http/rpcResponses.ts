import { HttpServerResponse } from "@effect/platform"
import type { JsonRpcResponse } from "../mcp/jsonrpc.js"
import { rpcErrorResponse } from "../mcp/rpcErrors.js"

/** Transport-level errors: a JSON-RPC error body with the HTTP status the spec asks for. */
export const httpError = (status: number, code: number, message: string, headers: Record<string, string> = {}) =>
  HttpServerResponse.unsafeJson(rpcErrorResponse(null, { code, message }), { status, headers })

export const jsonRpc = (body: JsonRpcResponse | ReadonlyArray<JsonRpcResponse>, status = 200, headers: Record<string, string> = {}) =>
  HttpServerResponse.unsafeJson(body, { status, headers })

/** Codes the SDK's own transport uses for transport failures. */
export const TransportCode = {
  BadRequest: -32000,
  SessionNotFound: -32001
} as const
