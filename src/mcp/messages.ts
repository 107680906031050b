import { Schema } from "effect"
import { RequestId } from "./jsonrpc.js"
import { LogLevel } from "./session.js"

/**
 * MCP messages as Effect Schemas, after @effect/ai's McpSchema (its shapes and names, not its
 * @effect/rpc layer: our transports are our own). Request params are classes, decoded once where
 * a request is classified (see incoming.ts); results and content items are structs, built as
 * plain objects on every call, so answering costs no constructor or validation.
 */

export const ProgressToken = Schema.Union(Schema.String, Schema.Number)
export type ProgressToken = typeof ProgressToken.Type

const JsonObject = Schema.Record({ key: Schema.String, value: Schema.Unknown })

/**
 * A request's `_meta`: the progress token of 2025 revisions; other keys (the 2026-07-28 envelope,
 * read by stateless.ts, and any client's own) pass through as they are.
 */
export const RequestMeta = Schema.Struct({ progressToken: Schema.optional(ProgressToken) }, { key: Schema.String, value: Schema.Unknown })

const metaField = { _meta: Schema.optional(RequestMeta) }

export const Implementation = Schema.Struct(
  { name: Schema.String, title: Schema.optional(Schema.String), version: Schema.String },
  { key: Schema.String, value: Schema.Unknown }
)

// =============================================================================
// Requests' params
// =============================================================================

/** `initialize`: the client's latest revision (any string: the server answers with one it speaks). */
export class InitializeParams extends Schema.Class<InitializeParams>("InitializeParams")({
  ...metaField,
  protocolVersion: Schema.String,
  capabilities: Schema.optional(JsonObject),
  clientInfo: Schema.optional(Implementation)
}) {}

/** Params of requests that carry nothing but `_meta` (ping, server/discover, resources/templates/list). */
export class RequestParams extends Schema.Class<RequestParams>("RequestParams")(metaField) {}

/** `tools/list`, `resources/list`, `tasks/list`: a page, by the cursor of the previous one. */
export class PaginatedParams extends Schema.Class<PaginatedParams>("PaginatedParams")({
  ...metaField,
  cursor: Schema.optional(Schema.String)
}) {}

/** A 2025-11-25 session's request to run a call as a task, kept `ttl` milliseconds after it ends. */
export const TaskMetadata = Schema.Struct({
  ttl: Schema.optional(Schema.NullOr(Schema.Int.pipe(Schema.positive({ message: () => "a positive whole number of milliseconds" }))))
})

/**
 * `tools/call`. The arguments stay unknown here: the tool's own input schema decodes them, and
 * a mismatch is an `isError` result the model can read, not a protocol error.
 */
export class CallToolParams extends Schema.Class<CallToolParams>("CallToolParams")({
  ...metaField,
  name: Schema.String,
  arguments: Schema.optional(Schema.Unknown),
  task: Schema.optional(TaskMetadata)
}) {}

export class SetLevelParams extends Schema.Class<SetLevelParams>("SetLevelParams")({
  ...metaField,
  level: LogLevel
}) {}

export class ReadResourceParams extends Schema.Class<ReadResourceParams>("ReadResourceParams")({
  ...metaField,
  uri: Schema.String
}) {}

/** `tasks/get`, `tasks/result`, `tasks/cancel`, `tasks/update`. */
export class TaskParams extends Schema.Class<TaskParams>("TaskParams")({
  ...metaField,
  taskId: Schema.String
}) {}

/** `prompts/get`: not served, but its name is what `Mcp-Name` must mirror on 2026-07-28. */
export class GetPromptParams extends Schema.Class<GetPromptParams>("GetPromptParams")({
  ...metaField,
  name: Schema.String
}) {}

/** `notifications/cancelled`. */
export class CancelledParams extends Schema.Class<CancelledParams>("CancelledParams")({
  requestId: RequestId,
  reason: Schema.optional(Schema.String)
}) {}

/** The params each method the server reads is decoded with; other methods' params are not read. */
export const paramsSchemas = {
  "initialize": InitializeParams,
  "ping": RequestParams,
  "logging/setLevel": SetLevelParams,
  "server/discover": RequestParams,
  "tools/list": PaginatedParams,
  "tools/call": CallToolParams,
  "resources/list": PaginatedParams,
  "resources/read": ReadResourceParams,
  "resources/templates/list": RequestParams,
  "prompts/get": GetPromptParams,
  "tasks/get": TaskParams,
  "tasks/result": TaskParams,
  "tasks/cancel": TaskParams,
  "tasks/update": TaskParams,
  "tasks/list": PaginatedParams
} as const

export type Method = keyof typeof paramsSchemas
export type ParamsOf<M extends Method> = (typeof paramsSchemas)[M]["Type"]

// =============================================================================
// Results and content
// =============================================================================

export const TextContent = Schema.Struct({ type: Schema.Literal("text"), text: Schema.String })
export type TextContent = typeof TextContent.Type

const ExtensionMeta = Schema.Record({ key: Schema.String, value: Schema.Unknown })

/** A resource the server can read. `_meta` carries extension metadata, e.g. an MCP App's `ui`. */
export const Resource = Schema.Struct({
  uri: Schema.String,
  name: Schema.String,
  title: Schema.optionalWith(Schema.String, { exact: true }),
  mimeType: Schema.optionalWith(Schema.String, { exact: true }),
  size: Schema.optionalWith(Schema.Number, { exact: true }),
  _meta: Schema.optionalWith(ExtensionMeta, { exact: true })
})
export type Resource = typeof Resource.Type

/** A tool result's pointer to a resource it wrote (2025-06-18 and later). */
export const ResourceLink = Schema.Struct({ type: Schema.Literal("resource_link"), ...Resource.fields })
export type ResourceLink = typeof ResourceLink.Type

export const ContentBlock = Schema.Union(TextContent, ResourceLink)
export type ContentBlock = typeof ContentBlock.Type

export const CallToolResult = Schema.Struct({
  content: Schema.Array(ContentBlock),
  structuredContent: Schema.optionalWith(Schema.Unknown, { exact: true }),
  isError: Schema.Boolean
})
export type CallToolResult = typeof CallToolResult.Type

/** Hints a client shows its user before approving a call. */
export const ToolAnnotations = Schema.Struct({
  readOnlyHint: Schema.Boolean,
  destructiveHint: Schema.Boolean,
  idempotentHint: Schema.Boolean,
  openWorldHint: Schema.Boolean
})
export type ToolAnnotations = typeof ToolAnnotations.Type

const JsonSchemaObject = Schema.Record({ key: Schema.String, value: Schema.Unknown })

export const ToolDefinition = Schema.Struct({
  name: Schema.String,
  title: Schema.String,
  description: Schema.String,
  inputSchema: JsonSchemaObject,
  outputSchema: JsonSchemaObject,
  annotations: ToolAnnotations,
  /** Extension metadata, e.g. `ui.resourceUri`: the MCP App a host renders beside the tool's results. */
  _meta: Schema.optionalWith(ExtensionMeta, { exact: true })
})
export type ToolDefinition = typeof ToolDefinition.Type
