import { SUPPORTED_PROTOCOL_VERSIONS } from "@modelcontextprotocol/sdk/types.js"

/** Revisions we speak: everything the pinned SDK lists, down to 2024-11-05, newest first. */
export const supportedVersions: ReadonlyArray<string> = SUPPORTED_PROTOCOL_VERSIONS
  .filter((v) => v >= "2024-11-05")
  .sort()
  .reverse()

export const latestVersion: string = supportedVersions[0] ?? "2025-06-18"

/** Streamable HTTP clients that omit `MCP-Protocol-Version` are assumed to speak this. */
export const defaultHttpVersion = "2025-03-26"

/** The client's version when we support it, else our latest (the client then decides). */
export const negotiateVersion = (requested: unknown): string =>
  typeof requested === "string" && supportedVersions.includes(requested) ? requested : latestVersion

export const isSupportedVersion = (version: string) => supportedVersions.includes(version)

/** JSON-RPC batches exist only in the 2025-03-26 revision. */
export const allowsBatches = (version: string) => version === "2025-03-26"

export const serverInfo = {
  name: "estat-mcp",
  title: "e-Stat MCP server",
  version: "0.1.0"
} as const

export const instructions =
  "Find, fetch and analyse Japan's official statistics (e-Stat API 3.0). Start with search_estat_data " +
  "to find a table's dataset_id; its keyword suggestions map everyday words to official terms " +
  "(apply them with apply_keyword_suggestions)."
