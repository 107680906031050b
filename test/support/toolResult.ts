import type { CallToolResult } from "../../src/mcp/tool.js"

/** The text of a tool result (its first `text` content). */
export const firstText = (result: CallToolResult): string => {
  const text = result.content.find((c) => c.type === "text")
  return text?.type === "text" ? text.text : ""
}
