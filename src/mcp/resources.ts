import type { Effect } from "effect"

/** MCP resources (`resources/list`, `resources/read`, `resources/templates/list`) as a server offers them. */

export interface Resource {
  readonly uri: string
  readonly name: string
  readonly title?: string
  readonly mimeType?: string
  readonly size?: number
}

export interface ResourceTemplate {
  readonly uriTemplate: string
  readonly name: string
  readonly description: string
  readonly mimeType?: string
}

export type ResourceContents =
  | { readonly uri: string; readonly mimeType: string; readonly text: string }
  | { readonly uri: string; readonly mimeType: string; readonly blob: string }

/** A failure the client can act on, with its JSON-RPC code (-32002 resource not found, -32602 invalid params). */
export interface ResourceFailure {
  readonly code: number
  readonly message: string
}

export interface ResourceProvider<R> {
  readonly templates: ReadonlyArray<ResourceTemplate>
  readonly list: (cursor: string | undefined) => Effect.Effect<{ readonly resources: ReadonlyArray<Resource>; readonly nextCursor?: string }, ResourceFailure, R>
  readonly read: (uri: string) => Effect.Effect<ReadonlyArray<ResourceContents>, ResourceFailure, R>
}

/** A tool result's pointer to a resource it wrote (MCP `resource_link`, 2025-06-18 and later). */
export interface ResourceLink extends Resource {
  readonly type: "resource_link"
}

/** `resource_link` content exists from this revision on; older clients get only the text. */
export const resourceLinksSince = "2025-06-18"

export const RESOURCE_NOT_FOUND = -32002
