import { HttpServerResponse } from "@effect/platform"
import type { JsonRpcResponse } from "../mcp/jsonrpc.js"

/** A JSON-RPC answer (one response or a batch's) with its HTTP status and headers. */
export const jsonRpc = (body: JsonRpcResponse | ReadonlyArray<JsonRpcResponse>, status = 200, headers: Record<string, string> = {}) =>
  HttpServerResponse.unsafeJson(body, { status, headers })
