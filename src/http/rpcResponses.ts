import { HttpServerResponse } from "@effect/platform"
import type { JsonRpcResponse } from "../mcp/jsonrpc.js"

/**
 * A JSON-RPC answer (one response or a batch's) with its HTTP status and headers. The JSON text
 * goes to Node as a string, with its length: Node writes it with the header in one write, with
 * no encoding to bytes first (the same bytes as `HttpServerResponse.unsafeJson`).
 */
export const jsonRpc = (body: JsonRpcResponse | ReadonlyArray<JsonRpcResponse>, status = 200, headers: Record<string, string> = {}) => {
  const text = JSON.stringify(body)
  return HttpServerResponse.raw(text, { status, headers, contentType: "application/json", contentLength: Buffer.byteLength(text, "utf8") })
}
