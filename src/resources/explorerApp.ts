import type { FileSystem } from "@effect/platform"
import { Effect } from "effect"
import { InternalError } from "../mcp/rpcErrors.js"
import type { Resource, ResourceProvider } from "../mcp/resources.js"
import type { Extensions } from "../mcp/server.js"
import type { Tool } from "../mcp/tool.js"
import { type ExplorerAppUnavailable, loadExplorerHtml } from "./explorerHtml.js"

/**
 * The MCP App (SEP-1865, extension `io.modelcontextprotocol/ui`) that charts the fetch and
 * analysis tools' results in hosts that render apps: the tools name it in `_meta.ui.resourceUri`,
 * `resources/read` serves its HTML. Hosts without apps ignore both; MCP_APPS=false leaves them out.
 */

export const explorerUri = "ui://estat-mcp/explorer"
export const appMimeType = "text/html;profile=mcp-app"
export const uiExtension = "io.modelcontextprotocol/ui"

/** The tools whose structuredContent the explorer draws (analysis queries, a run's sample rows). */
export const explorerTools: ReadonlyArray<string> = [
  "analyze_with_athena",
  "fetch_dataset_auto",
  "fetch_large_dataset_complete",
  "fetch_dataset_filtered"
]

/** What the server declares: the extension, with the MIME type of the apps it serves. */
export const explorerExtensions: Extensions = { [uiExtension]: { mimeTypes: [appMimeType] } }

/** For the host's sandbox: no network origins, scripts or frames from anywhere (the page is self-contained). */
const resourceMeta = { ui: { csp: { connectDomains: [], resourceDomains: [], frameDomains: [] }, prefersBorder: true } }

const listing: Resource & { readonly description: string } = {
  uri: explorerUri,
  name: "explorer",
  title: "e-Stat explorer (chart app)",
  description: "Charts analyze_with_athena and fetch results: a line over time, bars by area or category, a sortable table.",
  mimeType: appMimeType,
  _meta: resourceMeta
}

/**
 * The tools with the explorer linked (`_meta.ui.resourceUri`). Not the deprecated `ui/resourceUri`
 * key too: tools/list must stay within its 28 KB budget, and ext-apps hosts read `ui` first.
 */
export const linkExplorer = <R>(tools: ReadonlyArray<Tool<R>>): ReadonlyArray<Tool<R>> =>
  tools.map((tool) =>
    explorerTools.includes(tool.definition.name)
      ? { ...tool, definition: { ...tool.definition, _meta: { ...tool.definition._meta, ui: { resourceUri: explorerUri } } } }
      : tool
  )

/**
 * `files` with the explorer added: first on the first page of `resources/list`, and read by its
 * URI from `html` (built or loaded once, at the first read).
 */
export const withExplorer = <R>(
  files: ResourceProvider<R>,
  html: Effect.Effect<string, ExplorerAppUnavailable, FileSystem.FileSystem>
): ResourceProvider<R | FileSystem.FileSystem> => ({
  templates: files.templates,
  list: (cursor) =>
    Effect.map(files.list(cursor), (page) => (cursor === undefined ? { ...page, resources: [listing, ...page.resources] } : page)),
  read: (uri) =>
    uri === explorerUri
      ? html.pipe(
        Effect.tapError((error) => Effect.logError(error.message)),
        Effect.mapError((error) => new InternalError({ message: error.message })),
        Effect.map((text) => [{ uri, mimeType: appMimeType, text, _meta: resourceMeta }])
      )
      : files.read(uri)
})

interface Offer<R> {
  readonly tools: ReadonlyArray<Tool<R>>
  readonly resources: ResourceProvider<R | FileSystem.FileSystem>
  readonly extensions: Extensions
}

/** The tools and resources as MCP_APPS says: with the explorer (its HTML made once per server, at the first read), or as they are. */
export const appsAware = <R>(enabled: boolean, tools: ReadonlyArray<Tool<R>>, files: ResourceProvider<R>): Effect.Effect<Offer<R>> =>
  enabled
    ? Effect.map(Effect.cached(loadExplorerHtml), (html) => ({ tools: linkExplorer(tools), resources: withExplorer(files, html), extensions: explorerExtensions }))
    : Effect.succeed({ tools, resources: files, extensions: {} })
