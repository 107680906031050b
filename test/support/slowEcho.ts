import { Effect, Schema } from "effect"
import * as Tool from "../../src/mcp/tool.js"

/** A test-only tool slower than the quick-answer window, so its answer streams with event ids. */
export const slowEcho = Tool.make({
  name: "slow_echo",
  title: "slow echo",
  description: "Echoes its text after 150 ms (test only).",
  input: Schema.Struct({ text: Schema.String }),
  output: Schema.Struct({ text: Schema.String }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  summarize: (out) => out.text,
  run: (input) => Effect.as(Effect.sleep("150 millis"), { text: input.text })
})
