import { createHash, timingSafeEqual } from "node:crypto"
import { Option, Redacted } from "effect"

/**
 * Whether a browser `Origin` is allow-listed. An entry without a port admits every port of
 * that scheme and host (`http://localhost` admits `http://localhost:6274`); `*` admits all.
 */
export const originAllowed = (origin: string, allowList: ReadonlyArray<string>): boolean => {
  if (allowList.includes("*")) return true
  const parsed = safeUrl(origin)
  if (parsed === undefined) return false
  return allowList.some((entry) => {
    const allowed = safeUrl(entry)
    if (allowed === undefined) return false
    return allowed.protocol === parsed.protocol && allowed.hostname === parsed.hostname &&
      (allowed.port === "" || allowed.port === parsed.port)
  })
}

const safeUrl = (text: string): URL | undefined => {
  if (!URL.canParse(text)) return undefined
  return new URL(text)
}

const loopbackHosts = new Set(["localhost", "127.0.0.1", "[::1]", "::1"])

export const isLoopbackAddress = (host: string) => loopbackHosts.has(host) || host.startsWith("127.")

/**
 * DNS-rebinding protection: a server bound to loopback answers only requests addressed to a
 * loopback name, whatever a rebinding DNS record says. A server bound elsewhere (behind a load
 * balancer) accepts any Host.
 */
export const hostAllowed = (hostHeader: string | undefined, boundHost: string): boolean => {
  if (!isLoopbackAddress(boundHost)) return true
  if (hostHeader === undefined) return false
  if (hostHeader === lastAllowedHost) return true
  const parsed = safeUrl(`http://${hostHeader}`)
  const allowed = parsed !== undefined && loopbackHosts.has(parsed.hostname)
  if (allowed) lastAllowedHost = hostHeader
  return allowed
}

/** The last Host header found to name loopback: a client sends the same one on every request (a URL parse each is ~2 µs). */
let lastAllowedHost: string | undefined

const digest = (text: string) => createHash("sha256").update(text, "utf8").digest()

/** Constant-time check of `Authorization: Bearer <token>` (hashing first makes lengths equal). */
export const bearerMatches = (authorization: string | undefined, token: Redacted.Redacted<string>): boolean => {
  const match = /^Bearer\s+(.+)$/i.exec(authorization ?? "")
  const presented = match?.[1]?.trim() ?? ""
  const ok = timingSafeEqual(digest(presented), digest(Redacted.value(token)))
  return ok && presented.length > 0
}

export const authRequired = (token: Option.Option<Redacted.Redacted<string>>, authorization: string | undefined) =>
  Option.match(token, { onNone: () => false, onSome: (t) => !bearerMatches(authorization, t) })

export const corsHeaders = (origin: string): Record<string, string> => ({
  "access-control-allow-origin": origin,
  vary: "Origin",
  "access-control-allow-methods": "GET, POST, DELETE, OPTIONS",
  "access-control-allow-headers": "Content-Type, Accept, Authorization, Mcp-Session-Id, MCP-Protocol-Version, Mcp-Method, Mcp-Name, Last-Event-ID, traceparent, tracestate",
  // WWW-Authenticate: a browser client (MCP Inspector) finds the OAuth metadata from a 401.
  "access-control-expose-headers": "Mcp-Session-Id, MCP-Protocol-Version, WWW-Authenticate",
  "access-control-max-age": "600"
})
