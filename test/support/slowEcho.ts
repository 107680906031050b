import { Effect, Schema } from "effect"
import * as Tool from "../../src/mcp/tool.js"
import { ToolContext } from "../../src/mcp/tool.js"

const slowTool = (name: string, description: string, before: Effect.Effect<void, never, ToolContext>, task?: Tool.TaskPolicy) =>
  Tool.make({
    name,
    title: name.replace("_", " "),
    description,
    input: Schema.Struct({ text: Schema.String }),
    output: Schema.Struct({ text: Schema.String }),
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    ...(task === undefined ? {} : { task }),
    summarize: (out) => out.text,
    run: (input) => before.pipe(Effect.zipRight(Effect.sleep("150 millis")), Effect.as({ text: input.text }))
  })

/** A test-only tool that logs a line before its result, so its answer streams (with event ids on sessions). */
export const slowEcho = slowTool(
  "slow_echo",
  "Says it starts (an info log message), then echoes its text after 150 ms (test only).",
  Effect.flatMap(ToolContext, (context) => context.log("info", "echoing in 150 ms"))
)

/** A test-only tool as slow as slow_echo that sends nothing before its result: answered as plain JSON. */
export const slowQuietEcho = slowTool("slow_quiet_echo", "Echoes its text after 150 ms, saying nothing before (test only).", Effect.void)

/** As quiet, but of a kind that may run for minutes (as the fetch tools): its answer streams at once. */
export const slowLongEcho = slowTool("slow_long_echo", "Echoes its text after 150 ms, saying nothing before; may run long (test only).", Effect.void, {
  runsLong: "always"
})
