import { Effect } from "effect"
import { type Tool, ToolContext } from "../../src/mcp/tool.js"

/** A tool called outside a session: progress and logs go nowhere. */
export const callTool = <R>(tool: Tool<R>, args: unknown) => tool.call(args).pipe(Effect.provide(ToolContext.silent))

/** The text of a tool result, ours or the SDK client's (its first `text` content). */
export const firstText = (result: unknown): string => {
  const content = typeof result === "object" && result !== null ? (result as { readonly content?: unknown }).content : undefined
  const items: ReadonlyArray<unknown> = Array.isArray(content) ? content : []
  const text = items.find((c): c is { readonly type: "text"; readonly text: string } =>
    typeof c === "object" && c !== null && (c as { readonly type?: unknown }).type === "text")
  return text?.text ?? ""
}
