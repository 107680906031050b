import { Either, Option, ParseResult, Schema, Tracer } from "effect"
import type { McpRequest } from "./incoming.js"
import type { JsonRpcResponse, Params, RequestId } from "./jsonrpc.js"
import { InvalidParams, InvalidRequest, MethodNotFound, rpcErrorResponse } from "./rpcErrors.js"
import { supportedVersions } from "./protocol.js"
import { LogLevel } from "./session.js"

/**
 * MCP 2026-07-28: the stateless revision. No handshake and no session: every request carries
 * its protocol version, client capabilities (and optionally client info, log level, trace
 * context) in `params._meta`, so any server process can answer it.
 */

export const statelessVersion = "2026-07-28"
/** Revisions served statelessly; the older ones (`supportedVersions`) keep their sessions. */
export const statelessVersions: ReadonlyArray<string> = [statelessVersion]
/** Every revision we speak, newest first: what `server/discover` and version errors list. */
export const allVersions: ReadonlyArray<string> = [...statelessVersions, ...supportedVersions]

export const MetaKey = {
  protocolVersion: "io.modelcontextprotocol/protocolVersion",
  clientInfo: "io.modelcontextprotocol/clientInfo",
  clientCapabilities: "io.modelcontextprotocol/clientCapabilities",
  logLevel: "io.modelcontextprotocol/logLevel",
  serverInfo: "io.modelcontextprotocol/serverInfo"
} as const

const Implementation = Schema.Struct({ name: Schema.String, version: Schema.String }, { key: Schema.String, value: Schema.Unknown })
const JsonObject = Schema.Record({ key: Schema.String, value: Schema.Unknown })

/** The per-request envelope (`_meta`) of a 2026-07-28 request, as the server reads it. */
export const Envelope = Schema.Struct({
  [MetaKey.protocolVersion]: Schema.String,
  [MetaKey.clientCapabilities]: JsonObject,
  [MetaKey.clientInfo]: Schema.optional(Implementation),
  [MetaKey.logLevel]: Schema.optional(LogLevel),
  progressToken: Schema.optional(Schema.Union(Schema.String, Schema.Number)),
  traceparent: Schema.optional(Schema.String)
})
export type Envelope = typeof Envelope.Type

const decodeEnvelope = Schema.decodeUnknownEither(Envelope)

/** The revision's error codes (basic/index, "Error Codes"): -32020 … -32099 belong to the specification. */
export const StatelessCode = {
  HeaderMismatch: -32020,
  MissingRequiredClientCapability: -32021,
  UnsupportedProtocolVersion: -32022
} as const

/** An HTTP header disagrees with the body, or a required header is missing or malformed (400, -32020). */
export class HeaderMismatch extends Schema.TaggedError<HeaderMismatch>()("HeaderMismatch", {
  header: Schema.String,
  problem: Schema.String
}) {
  readonly code = StatelessCode.HeaderMismatch
  readonly status = 400
  override get message() {
    return `Header mismatch: ${this.header} ${this.problem}`
  }
}

/** A revision we do not speak (400, -32022); `data.supported` lets the client retry with one we do. */
export class UnsupportedProtocolVersion extends Schema.TaggedError<UnsupportedProtocolVersion>()("UnsupportedProtocolVersion", {
  requested: Schema.String
}) {
  readonly code = StatelessCode.UnsupportedProtocolVersion
  readonly status = 400
  override get message() {
    return `Unsupported protocol version: ${this.requested}; this server speaks ${allVersions.join(", ")}`
  }
  get data() {
    return { supported: allVersions, requested: this.requested }
  }
}

/** A required `_meta` key is missing or malformed (400, -32602). */
export class InvalidEnvelope extends Schema.TaggedError<InvalidEnvelope>()("InvalidEnvelope", {
  key: Schema.String,
  problem: Schema.String
}) {
  readonly code = InvalidParams.code
  readonly status = 400
  override get message() {
    return `Invalid params: _meta["${this.key}"] ${this.problem}`
  }
}

/** A method this revision does not have, or we do not serve (404, -32601: the body tells it from a legacy server's 404). */
export class NotServedStatelessly extends Schema.TaggedError<NotServedStatelessly>()("NotServedStatelessly", {
  method: Schema.String
}) {
  readonly code = MethodNotFound.code
  readonly status = 404
  override get message() {
    return `Method not found: ${this.method} is not part of MCP ${statelessVersion} on this server (call server/discover)`
  }
}

/** The request is not one JSON-RPC request (400, -32600). */
export class InvalidStatelessRequest extends Schema.TaggedError<InvalidStatelessRequest>()("InvalidStatelessRequest", {
  problem: Schema.String
}) {
  readonly code = InvalidRequest.code
  readonly status = 400
  override get message() {
    return `Invalid Request: ${this.problem}`
  }
}

/**
 * Client capabilities as a tree of names (`{ sampling: {} }`, `{ elicitation: { form: {} } }`):
 * what a request declares in its envelope, and what a tool needs declared before it runs.
 */
export interface ClientCapabilities {
  readonly [name: string]: ClientCapabilities
}

/**
 * Handling the request needs a client capability its envelope does not declare (400, -32021).
 * `data.requiredCapabilities` names every missing one, so the client knows what to declare on a retry.
 */
export class MissingRequiredClientCapability extends Schema.TaggedError<MissingRequiredClientCapability>()("MissingRequiredClientCapability", {
  method: Schema.String,
  required: Schema.Record({ key: Schema.String, value: Schema.Unknown })
}) {
  readonly code = StatelessCode.MissingRequiredClientCapability
  readonly status = 400
  override get message() {
    return `Missing required client capability: ${this.method} needs ${Object.keys(this.required).join(", ")} declared in _meta["${MetaKey.clientCapabilities}"]`
  }
  get data() {
    return { requiredCapabilities: this.required }
  }
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value)

/** The part of `required` that `declared` lacks (a key absent, or a required sub-capability absent under it); None when nothing is. */
export const missingCapabilities = (required: ClientCapabilities, declared: unknown): Option.Option<ClientCapabilities> => {
  const missing: Record<string, ClientCapabilities> = {}
  for (const [name, sub] of Object.entries(required)) {
    const present = isObject(declared) ? declared[name] : undefined
    if (!isObject(present)) {
      missing[name] = sub
      continue
    }
    const missingSub = missingCapabilities(sub, present)
    if (Option.isSome(missingSub)) missing[name] = missingSub.value
  }
  return Object.keys(missing).length === 0 ? Option.none() : Option.some(missing)
}

/** What the server offers on the stateless path, as admission needs to know it. */
export interface StatelessOffer {
  /** The methods served statelessly; any other is -32601. */
  readonly statelessMethods: ReadonlySet<string>
  readonly requiredClientCapabilities: (request: McpRequest) => ClientCapabilities
  /** The arguments of a tools/call that its tool's input schema mirrors into `Mcp-Param-*` headers (`x-mcp-header`). */
  readonly mirroredArguments: (request: McpRequest) => ReadonlyArray<MirroredArgument>
}

/** A tool argument an HTTP client also sends as the header `Mcp-Param-<header>` (SEP-2243), so proxies can route on it. */
export interface MirroredArgument {
  readonly argument: string
  readonly header: string
}

/** The arguments an input schema marks with `x-mcp-header` (top-level properties only, as the revision defines). */
export const mirroredArgumentsOf = (inputSchema: { readonly [key: string]: unknown }): ReadonlyArray<MirroredArgument> => {
  const properties = inputSchema["properties"]
  if (!isObject(properties)) return []
  return Object.entries(properties).flatMap(([argument, schema]) => {
    const header = isObject(schema) ? schema["x-mcp-header"] : undefined
    return typeof header === "string" ? [{ argument, header }] : []
  })
}

/**
 * The checks every transport makes of a request whose envelope has been read: a method we serve
 * (-32601), then the client capabilities handling it needs (-32021), before anything runs.
 */
export const admit = (request: McpRequest, envelope: Envelope, offer: StatelessOffer): Either.Either<void, NotServedStatelessly | MissingRequiredClientCapability> => {
  if (!offer.statelessMethods.has(request.method)) return Either.left(new NotServedStatelessly({ method: request.method }))
  return Option.match(missingCapabilities(offer.requiredClientCapabilities(request), envelope[MetaKey.clientCapabilities]), {
    onNone: () => Either.void,
    onSome: (missing) => Either.left(new MissingRequiredClientCapability({ method: request.method, required: missing }))
  })
}

export type StatelessRefusal =
  | HeaderMismatch
  | UnsupportedProtocolVersion
  | InvalidEnvelope
  | NotServedStatelessly
  | InvalidStatelessRequest
  | MissingRequiredClientCapability

/** The JSON-RPC error a refusal is answered with. */
export const refusalResponse = (id: RequestId | null, refusal: StatelessRefusal): JsonRpcResponse => rpcErrorResponse(id, refusal)

const metaOf = (params: Params | undefined): Option.Option<Record<string, unknown>> => {
  const meta = params?.["_meta"]
  return typeof meta === "object" && meta !== null && !Array.isArray(meta)
    ? Option.some(meta as Record<string, unknown>)
    : Option.none()
}

/** The protocol version a body's `_meta` claims, when it carries the key at all. */
export const claimedVersion = (params: Params | undefined): Option.Option<unknown> =>
  Option.flatMap(metaOf(params), (meta) =>
    Object.prototype.hasOwnProperty.call(meta, MetaKey.protocolVersion) ? Option.some(meta[MetaKey.protocolVersion]) : Option.none()
  )

/**
 * Whether a body claims the per-request envelope of a revision we serve statelessly, or of one we
 * do not know (answered -32022). A claim naming a session revision stays session traffic.
 */
export const claimsStateless = (params: Params | undefined): boolean =>
  Option.match(claimedVersion(params), {
    onNone: () => false,
    onSome: (version) => typeof version !== "string" || !supportedVersions.includes(version)
  })

/** Reads the envelope of a request that claims it; the first missing or malformed key is the refusal. */
export const readEnvelope = (params: Params | undefined): Either.Either<Envelope, InvalidEnvelope | UnsupportedProtocolVersion> => {
  const meta = Option.getOrElse(metaOf(params), (): Record<string, unknown> => ({}))
  const version = meta[MetaKey.protocolVersion]
  if (typeof version === "string" && !statelessVersions.includes(version)) {
    return Either.left(new UnsupportedProtocolVersion({ requested: version }))
  }
  return decodeEnvelope(meta).pipe(Either.mapLeft((error) => {
    const issue = ParseResult.ArrayFormatter.formatErrorSync(error)[0]
    const key = String(issue?.path[0] ?? MetaKey.protocolVersion)
    return new InvalidEnvelope({ key, problem: issue?.message === "is missing" ? "is required" : `is invalid: ${issue?.message ?? "malformed"}` })
  }))
}

const W3C_TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/

/** The caller's span from a W3C `traceparent` (version 00 layout; all-zero ids and version ff are invalid). */
export const parentSpanOf = (traceparent: string | undefined): Option.Option<Tracer.ExternalSpan> => {
  const match = W3C_TRACEPARENT.exec(traceparent?.trim() ?? "")
  if (match === null) return Option.none()
  const [, version = "", traceId = "", spanId = "", flags = "00"] = match
  if (version === "ff" || /^0+$/.test(traceId) || /^0+$/.test(spanId)) return Option.none()
  return Option.some(Tracer.externalSpan({ traceId, spanId, sampled: (Number.parseInt(flags, 16) & 1) === 1 }))
}
