import { Option, Redacted } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { startEmbedded } from "../support/embedded.js"
import { initializeBody, jsonHeaders } from "../support/rawMcp.js"
import { rawRequest, type RawResponse } from "../support/rawHttp.js"
import { startTestServer } from "../support/testServer.js"

/**
 * With MCP_AUTH_TOKEN set, no spelling of a path reaches a handler without the token: the guard
 * runs before routing and only the exact public paths skip it; the router sees canonical paths only.
 */

const TOKEN = "path-spelling-secret"
const auth = { authorization: `Bearer ${TOKEN}` }
const PREFIX = "/estat"

const hex = (c: string) => `%${c.charCodeAt(0).toString(16)}`
const utf8Hex = (c: string) => [...Buffer.from(c, "utf8")].map((b) => `%${b.toString(16).toUpperCase()}`).join("")
/** Full-width letters (ｍ, ｓ) and Cyrillic or Latin look-alikes that fold or render like ASCII ones. */
const fullWidth = (c: string) => String.fromCodePoint(c.charCodeAt(0) - 0x61 + 0xff41)
const lookAlikes: Record<string, string> = { c: "с", e: "е", s: "ѕ", a: "а", p: "р", h: "һ" }
const longS = "ſ" // U+017F: upper-cases to "S"

type Spelling = readonly [kind: string, target: string]

/** Spellings of `/name` that are not `/name`. */
const spellingsOf = (name: string): ReadonlyArray<Spelling> => {
  const first = name[0] ?? ""
  const last = name.at(-1) ?? ""
  const rest = name.slice(1)
  const lookAlike = [...name].findIndex((c) => lookAlikes[c] !== undefined)
  const withLookAlike = lookAlike < 0 ? name : name.slice(0, lookAlike) + lookAlikes[name[lookAlike]!] + name.slice(lookAlike + 1)
  const spellings: ReadonlyArray<Spelling> = [
    ["case", `/${name.toUpperCase()}`],
    ["case", `/${first.toUpperCase()}${rest}`],
    ["case", `/${name.slice(0, -1)}${last.toUpperCase()}`],
    ["trailing slash", `/${name}/`],
    ["trailing slash", `/${name}//`],
    ["double slash", `//${name}`],
    ["double slash", `///${name}`],
    [";params", `/${name};x`],
    [";params", `/${name};`],
    [";params", `/${name};jsessionid=1`],
    [";params", `/;x/${name}`],
    ["percent-encoding", `/${hex(first)}${rest}`],
    ["percent-encoding", `/${hex(first).toUpperCase()}${rest}`],
    ["percent-encoding", `/${[...name].map(hex).join("")}`],
    ["percent-encoding", `/${name.slice(0, -1)}${hex(last)}`],
    ["percent-encoding", `/${name}%00`],
    ["percent-encoding", `/${name}%20`],
    ["percent-encoding", `/${name}%09`],
    ["percent-encoding", `/${name}%3fx=1`],
    ["%2f", `/%2f${name}`],
    ["%2f", `/%2F${name}`],
    ["%2f", `/${name}%2f`],
    ["%2f", `%2f${name}`],
    ["%2e", `/%2e/${name}`],
    ["%2e", `/%2e%2e/${name}`],
    ["%2e", `/x/%2e%2e/${name}`],
    ["%2e", `/${name}/%2e`],
    ["%2e", `/${name}%2e`],
    ["dot segments", `/./${name}`],
    ["dot segments", `/x/../${name}`],
    ["dot segments", `/../${name}`],
    ["dot segments", `/${name}/.`],
    ["dot segments", `/${name}/./`],
    ["dot segments", `/${name}/x/..`],
    ["backslash", `\\${name}`],
    ["backslash", `/\\${name}`],
    ["backslash", `/${name}\\`],
    ["backslash", `\\\\${name}`],
    ["backslash", `/%5c${name}`],
    ["unicode look-alike", `/${fullWidth(first)}${rest}`],
    ["unicode look-alike", `/${utf8Hex(fullWidth(first))}${rest}`],
    ["unicode look-alike", `/${withLookAlike}`],
    ["unicode look-alike", `/${name.replaceAll("s", longS)}`],
    ["unicode look-alike", `/${utf8Hex(withLookAlike[0] ?? "")}${withLookAlike.slice(1)}`],
    ["other", `/${name}#x`],
    ["other", `http://127.0.0.1/${name}`],
    ["other", `/${name}.json`],
    ["other", `/${name}~`]
  ]
  // A look-alike missing from a name (no "s" for the long s) would leave the name itself.
  return spellings.filter(([, target]) => target !== `/${name}`)
}

/** Spellings of the mount prefix in front of a canonical route. */
const prefixSpellingsOf = (name: string): ReadonlyArray<Spelling> => [
  ["prefix case", `/ESTAT/${name}`],
  ["prefix case", `/Estat/${name}`],
  ["prefix slashes", `//estat/${name}`],
  ["prefix slashes", `/estat//${name}`],
  ["prefix percent-encoding", `/%65stat/${name}`],
  ["prefix percent-encoding", `/estat%2f${name}`],
  ["prefix dot segments", `/./estat/${name}`],
  ["prefix dot segments", `/x/../estat/${name}`],
  ["prefix dot segments", `/estat/./${name}`],
  ["prefix ;params", `/estat;x/${name}`],
  ["prefix backslash", `/estat\\${name}`],
  ["prefix absolute-form", `http://127.0.0.1/estat/${name}`]
]

interface Target {
  readonly port: number
  /** A legacy session open on this server, so that a bypass of /messages would be accepted (202). */
  readonly legacySessionId: string
}

/** The request each endpoint would act on: initialize (opens a session), a tool call, or a stream. */
const attack = (name: string, target: string, sessionId: string) => {
  switch (name) {
    case "mcp":
      return { method: "POST", target, headers: jsonHeaders, body: JSON.stringify(initializeBody()) }
    case "messages":
      return {
        method: "POST",
        target: `${target}?sessionId=${encodeURIComponent(sessionId)}`,
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 7, method: "tools/list" })
      }
    default:
      return { method: "GET", target, headers: { accept: "text/event-stream" } }
  }
}

/** What a request got: the status, and whether a handler acted (session header, SSE stream, 202). */
const outcome = (response: RawResponse) => ({
  status: response.status,
  reachedHandler: response.headers["mcp-session-id"] !== undefined ||
    (response.headers["content-type"] ?? "").startsWith("text/event-stream") ||
    response.status === 202 || response.status === 200
})

/** Opens the legacy SSE stream (with the token) and keeps it open; its session id is in the first event. */
const openLegacySession = async (base: string) => {
  const controller = new AbortController()
  const response = await fetch(`${base}/sse`, { headers: { ...auth, accept: "text/event-stream" }, signal: controller.signal })
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader()
  let text = ""
  while (!text.includes("\n\n")) text += (await reader.read()).value ?? ""
  const id = /sessionId=([^\s&]+)/.exec(text)?.[1]
  if (id === undefined) throw new Error(`no endpoint event: ${text}`)
  return { sessionId: decodeURIComponent(id), close: () => controller.abort() }
}

/** The README's embedding recipe, under PREFIX of a host router. */
const startMounted = () =>
  startEmbedded(PREFIX, { authToken: Option.some(Redacted.make(TOKEN)) })

const names = ["mcp", "sse", "messages"] as const
const routeSpellings = names.flatMap((name) => spellingsOf(name).map(([kind, target]) => ({ name, kind, target })))
const publicSpellings = ["health", "ready"].flatMap((name) =>
  spellingsOf(name).map(([kind, target]) => ({ name, kind: `public path, ${kind}`, target }))
)
const prefixSpellings = names.flatMap((name) => prefixSpellingsOf(name).map(([kind, target]) => ({ name, kind, target })))

/** Prints what each class of spelling got (the figures of the issue report). */
const tally = (label: string, results: ReadonlyArray<{ kind: string; status: number }>) => {
  const byKind = new Map<string, Map<number, number>>()
  for (const { kind, status } of results) {
    const counts = byKind.get(kind) ?? new Map<number, number>()
    counts.set(status, (counts.get(status) ?? 0) + 1)
    byKind.set(kind, counts)
  }
  const lines = [...byKind].map(([kind, counts]) => `  ${kind}: ${[...counts].map(([s, n]) => `${n}×${s}`).join(", ")}`)
  console.log(`${label} (${results.length} requests)\n${lines.join("\n")}`)
}

describe("path spellings with MCP_AUTH_TOKEN set", () => {
  let root: Target & { close: () => Promise<void> }
  let mounted: Target & { close: () => Promise<void> }
  let legacyStreams: Array<{ close: () => void }> = []
  beforeAll(async () => {
    const server = await startTestServer({ authToken: Option.some(Redacted.make(TOKEN)) })
    const embedded = await startMounted()
    const rootLegacy = await openLegacySession(server.url)
    const mountedLegacy = await openLegacySession(`http://127.0.0.1:${embedded.port}${PREFIX}`)
    legacyStreams = [rootLegacy, mountedLegacy]
    root = { port: Number(new URL(server.url).port), legacySessionId: rootLegacy.sessionId, close: server.close }
    mounted = { port: embedded.port, legacySessionId: mountedLegacy.sessionId, close: embedded.close }
  })
  afterAll(async () => {
    for (const stream of legacyStreams) stream.close()
    await Promise.all([root.close(), mounted.close()])
  })

  const send = (target: Target, name: string, path: string, headers: Record<string, string> = {}) => {
    const request = attack(name, path, target.legacySessionId)
    return rawRequest(target.port, { ...request, headers: { ...request.headers, ...headers } })
  }

  it("the canonical paths: 401 without the token, served with it; /health and /ready open", async () => {
    for (const target of [root, mounted]) {
      const at = target === mounted ? PREFIX : ""
      for (const name of names) {
        const denied = await send(target, name, `${at}/${name}`)
        expect(denied.status, `${at}/${name}`).toBe(401)
        expect(denied.headers["www-authenticate"]).toContain("Bearer")
      }
      const initialized = await send(target, "mcp", `${at}/mcp`, auth)
      expect(initialized.status).toBe(200)
      expect(initialized.headers["mcp-session-id"]).toBeDefined()
      expect((await send(target, "sse", `${at}/sse`, auth)).headers["content-type"]).toContain("text/event-stream")
      expect((await send(target, "messages", `${at}/messages`, auth)).status).toBe(202)
      expect((await rawRequest(target.port, { method: "GET", target: `${at}/health` })).status).toBe(200)
      expect((await rawRequest(target.port, { method: "GET", target: `${at}/ready` })).status).toBe(200)
    }
  })

  it("no other spelling of /mcp, /sse, /messages reaches a handler: 401 without the token, 404 with it", async () => {
    const results: Array<{ kind: string; status: number }> = []
    for (const { name, kind, target } of routeSpellings) {
      const anonymous = outcome(await send(root, name, target))
      const withToken = outcome(await send(root, name, target, auth))
      expect(anonymous.reachedHandler, `${kind} ${target} without token`).toBe(false)
      // 400: Node's own parser refused the request line before our code saw it.
      expect([400, 401], `${kind} ${target} without token`).toContain(anonymous.status)
      expect([400, 404], `${kind} ${target} with token`).toContain(withToken.status)
      results.push({ kind, status: anonymous.status })
    }
    tally("route spellings at the root, without the token", results)
    expect(routeSpellings.length).toBeGreaterThanOrEqual(140)
  })

  it("odd spellings of the public paths are protected, and not served", async () => {
    for (const { kind, target } of publicSpellings) {
      const anonymous = await rawRequest(root.port, { method: "GET", target })
      expect([400, 401], `${kind} ${target}`).toContain(anonymous.status)
      const withToken = await rawRequest(root.port, { method: "GET", target, headers: auth })
      expect([400, 404], `${kind} ${target} with token`).toContain(withToken.status)
    }
  })

  it("mounted under a prefix: no spelling below it, nor of the prefix, reaches a handler without the token", async () => {
    const results: Array<{ kind: string; status: number }> = []
    for (const { name, kind, target } of routeSpellings) {
      const path = target.startsWith("http://") ? target.replace("http://127.0.0.1", `http://127.0.0.1${PREFIX}`) : `${PREFIX}${target}`
      const anonymous = outcome(await send(mounted, name, path))
      const withToken = outcome(await send(mounted, name, path, auth))
      expect(anonymous.reachedHandler, `${kind} ${path} without token`).toBe(false)
      expect([400, 401, 404], `${kind} ${path} without token`).toContain(anonymous.status)
      expect([400, 404], `${kind} ${path} with token`).toContain(withToken.status)
      results.push({ kind, status: anonymous.status })
    }
    for (const { name, kind, target } of prefixSpellings) {
      const anonymous = outcome(await send(mounted, name, target))
      expect(anonymous.reachedHandler, `${kind} ${target} without token`).toBe(false)
      expect([400, 401, 404], `${kind} ${target} without token`).toContain(anonymous.status)
      results.push({ kind, status: anonymous.status })
    }
    tally(`route and prefix spellings under ${PREFIX}, without the token`, results)
  })

  it("preflights and foreign origins are answered before routing, on any spelling", async () => {
    for (const target of ["/mcp", "/MCP", "//sse", "/nothing/here"]) {
      const preflight = await rawRequest(root.port, { method: "OPTIONS", target, headers: { origin: "http://localhost:6274" } })
      expect(preflight.status).toBe(204)
      expect(preflight.headers["access-control-allow-origin"]).toBe("http://localhost:6274")
      const foreign = await rawRequest(root.port, { method: "POST", target, headers: { ...jsonHeaders, ...auth, origin: "https://evil.example" }, body: "{}" })
      expect(foreign.status).toBe(403)
    }
  })
})
