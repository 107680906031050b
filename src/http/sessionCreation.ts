import { isIPv4, isIPv6 } from "node:net"
import { HttpServerRequest } from "@effect/platform"
import { Effect, Option } from "effect"
import { AppConfig } from "../config.js"
import type { SessionKind } from "../mcp/session.js"
import { SessionStore } from "../mcp/sessions.js"

const withoutZone = (address: string) => address.split("%")[0] ?? ""

/** An IPv6 host usually holds a whole /64: its first four groups name the client. */
const ipv6Prefix = (address: string) => {
  const [head = "", tail] = withoutZone(address).toLowerCase().split("::")
  const left = head === "" ? [] : head.split(":")
  const right = tail === undefined || tail === "" ? [] : tail.split(":")
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill("0"), ...right]
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, "")).join(":")}::/64`
}

const clientKey = (address: string): Option.Option<string> => {
  const v4 = address.replace(/^::ffff:/i, "")
  if (isIPv4(v4)) return Option.some(v4)
  return isIPv6(withoutZone(address)) ? Option.some(ipv6Prefix(address)) : Option.none()
}

/**
 * Who a new session is counted against: the peer's address or, behind `trustedProxies` proxies
 * that each append the address they saw to X-Forwarded-For, the entry that many from the right
 * (written by the outermost trusted proxy; entries further left come from the client and are not
 * read). A request with fewer entries than that counts against its peer.
 */
export const clientOf = (request: HttpServerRequest.HttpServerRequest, trustedProxies: number): string => {
  const forwarded = (request.headers["x-forwarded-for"] ?? "").split(",").map((s) => s.trim()).filter((s) => s !== "")
  const seenByProxy = trustedProxies > 0 ? Option.fromNullable(forwarded[forwarded.length - trustedProxies]) : Option.none()
  return Option.flatMap(seenByProxy, clientKey).pipe(
    Option.orElse(() => Option.flatMap(request.remoteAddress, clientKey)),
    Option.getOrElse(() => "unknown")
  )
}

/** A new session for the requesting client; refused at the cap (503) or over the client's rate (429), see httpFailures. */
export const createSession = (kind: SessionKind, protocolVersion: string) =>
  Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    const config = yield* AppConfig
    const store = yield* SessionStore
    return yield* store.create(kind, protocolVersion, clientOf(request, config.trustedProxies))
  })
