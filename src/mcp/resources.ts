import { Either, type Effect } from "effect"
import type { Resource } from "./messages.js"
import { type InternalError, InvalidParams, type ResourceNotFound } from "./rpcErrors.js"

export type { Resource, ResourceLink } from "./messages.js"

/** MCP resources (`resources/list`, `resources/read`, `resources/templates/list`) as a server offers them. */

export interface ResourceTemplate {
  readonly uriTemplate: string
  readonly name: string
  readonly description: string
  readonly mimeType?: string
}

export type ResourceContents =
  | { readonly uri: string; readonly mimeType: string; readonly text: string; readonly _meta?: Readonly<Record<string, unknown>> }
  | { readonly uri: string; readonly mimeType: string; readonly blob: string }

/** A failure the client can act on (-32002 resource not found, -32602 invalid params), or the server's own (-32603). */
export type ResourceFailure = ResourceNotFound | InvalidParams | InternalError

export interface ResourceProvider<R> {
  readonly templates: ReadonlyArray<ResourceTemplate>
  readonly list: (cursor: string | undefined) => Effect.Effect<{ readonly resources: ReadonlyArray<Resource>; readonly nextCursor?: string }, ResourceFailure, R>
  readonly read: (uri: string) => Effect.Effect<ReadonlyArray<ResourceContents>, ResourceFailure, R>
}

/** One page of a listing, and the cursor of the next page when there is one. */
export interface Page<A> {
  readonly items: ReadonlyArray<A>
  readonly nextCursor?: string
}

/** What a cursor this server did not issue gets (MCP: -32602), for every paginated list. */
export const invalidCursor = new InvalidParams({
  message: "Invalid cursor: pass the nextCursor of the previous page, or no cursor for the first page"
})

/** The offset a cursor stands for, if it is one this listing would issue now: a whole page in, not past the end. */
const offsetOf = (cursor: string, length: number, pageSize: number): number | undefined => {
  if (!/^[1-9][0-9]{0,15}$/.test(cursor)) return undefined
  const offset = Number(cursor)
  return offset % pageSize === 0 && offset < length ? offset : undefined
}

/**
 * The page of `items` a cursor asks for. Cursors are opaque to clients; ours is the offset of the
 * next page, and anything else (garbage, "", "0", an offset between pages or past the end, as
 * after the list shrank) is refused, never answered with a silently full or empty page.
 */
export const pageOf = <A>(items: ReadonlyArray<A>, cursor: string | undefined, pageSize: number): Either.Either<Page<A>, InvalidParams> => {
  const start = cursor === undefined ? 0 : offsetOf(cursor, items.length, pageSize)
  if (start === undefined) return Either.left(invalidCursor)
  const end = start + pageSize
  return Either.right({ items: items.slice(start, end), ...(end < items.length ? { nextCursor: String(end) } : {}) })
}

/** `resource_link` content exists from this revision on; older clients get only the text. */
export const resourceLinksSince = "2025-06-18"
