import { Context, Effect, Either, ParseResult, Schema } from "effect"
import { describeArgumentErrors } from "./argumentErrors.js"
import { jsonSchemaOf } from "./jsonSchema.js"
import type { CallToolResult, ResourceLink, ToolAnnotations, ToolDefinition } from "./messages.js"
import type { ClientCapabilities } from "./stateless.js"
import { renderText } from "./textContent.js"

export type { CallToolResult, TextContent, ToolAnnotations, ToolDefinition } from "./messages.js"

export interface ProgressUpdate {
  readonly progress: number
  readonly total?: number | undefined
  readonly message?: string | undefined
  /** The dataset run the call is writing: what to resume when a task running the call ends early. */
  readonly runId?: string | undefined
}

/**
 * The running call's link back to its client: progress notifications when the call carries
 * a `progressToken` (otherwise a no-op), and log messages above the session's log level.
 */
export class ToolContext extends Context.Tag("estat-mcp/ToolContext")<ToolContext, {
  readonly progress: (update: ProgressUpdate) => Effect.Effect<void>
  readonly log: (level: "debug" | "info" | "warning" | "error", data: unknown) => Effect.Effect<void>
  /**
   * Closes the call's current SSE connection while the work goes on; the client reconnects
   * with Last-Event-ID and gets the rest (SSE polling, for calls that outlast proxies).
   */
  readonly closeStream: Effect.Effect<void>
}>() {
  /** For running a tool outside any MCP call (embedding, tests). */
  static readonly silent = Context.make(ToolContext, {
    progress: () => Effect.void,
    log: () => Effect.void,
    closeStream: Effect.void
  })
}

/** Every tool failure carries a tag and a sentence a user can act on. */
export interface ToolFailure {
  readonly _tag: string
  readonly message: string
}

/**
 * A tool whose calls may run as tasks (execution.taskSupport "optional"). A 2025-11-25 client asks
 * for one; on 2026-07-28 the server decides, for clients of the Tasks extension: `always`, or only
 * `on aws` (where Athena and Glue take seconds to minutes; locally DuckDB answers at once).
 */
export interface TaskPolicy {
  readonly runsLong: "always" | "on aws"
}

/** A tool with its types erased: what the registry and the protocol handle. */
export interface Tool<R> {
  readonly definition: ToolDefinition
  /** Validates raw arguments, runs the program, encodes the result; failures become `isError` results. */
  readonly call: (args: unknown) => Effect.Effect<CallToolResult, never, R | ToolContext>
  /** Client capabilities the tool cannot run without; a 2026-07-28 call that does not declare them is refused with -32021. */
  readonly requiredClientCapabilities?: ClientCapabilities
  /** Present when its calls may run as tasks. */
  readonly task?: TaskPolicy
}

/** An optional argument with a default, published in the JSON Schema as `default`. */
export const withDefault = <A, I>(schema: Schema.Schema<A, I>, value: NoInfer<A>, description: string) =>
  Schema.optionalWith(schema.annotations({ description, default: value }), { default: () => value })

export const errorResult = (message: string): CallToolResult => ({
  content: [{ type: "text", text: message }],
  isError: true
})

const formatArgumentError = (definition: ToolDefinition, args: unknown, error: ParseResult.ParseError) =>
  `Invalid arguments for ${definition.name}: ${describeArgumentErrors(definition.name, definition.inputSchema, args, error)}`

export const make = <I, IE, O, OE, E extends ToolFailure, R>(options: {
  readonly name: string
  readonly title: string
  readonly description: string
  readonly input: Schema.Schema<I, IE>
  readonly output: Schema.Schema<O, OE>
  readonly annotations: ToolAnnotations
  /**
   * The first line of the `text` content: what happened and what to call next. The lines after it
   * hold every fact of `structuredContent` (see textContent.ts), so it need not repeat them.
   */
  readonly summarize: (output: O) => string
  /**
   * Top-level fields the summary states in words ("duckdb on estat_db.prices in 46 ms"):
   * the text leaves out their `key: value` lines, each only when the summary holds its value.
   */
  readonly summaryStates?: ReadonlyArray<keyof O & string>
  /** Files the call wrote, as `resource_link` content (readable with `resources/read`). */
  readonly links?: (output: O) => ReadonlyArray<Omit<ResourceLink, "type">>
  readonly run: (input: I) => Effect.Effect<O, E, R>
  readonly requiredClientCapabilities?: ClientCapabilities
  readonly task?: TaskPolicy
}): Tool<Exclude<R, ToolContext>> => {
  // Built once per tool; synchronous, so a call costs no effect steps for decoding and encoding.
  const decode = Schema.decodeUnknownEither(options.input, { errors: "all", onExcessProperty: "error" })
  const encode = Schema.encodeEither(options.output)
  const definition: ToolDefinition = {
    name: options.name,
    title: options.title,
    description: options.description,
    inputSchema: jsonSchemaOf(options.input),
    outputSchema: jsonSchemaOf(options.output),
    annotations: options.annotations
  }
  const resultOf = (output: O, encoded: OE): CallToolResult => ({
    content: [
      { type: "text", text: renderText(options.summarize(output), encoded, options.summaryStates) },
      ...(options.links?.(output) ?? []).map((link): ResourceLink => ({ type: "resource_link", ...link }))
    ],
    structuredContent: encoded,
    isError: false
  })
  const call = (args: unknown) =>
    Either.match(decode(args ?? {}), {
      onLeft: (error) => Effect.succeed(errorResult(formatArgumentError(definition, args, error))),
      onRight: (input) =>
        options.run(input).pipe(Effect.matchEffect({
          onFailure: (failure) => Effect.succeed(errorResult(failure.message)),
          // An output that does not match its own schema is a bug, not a user error.
          onSuccess: (output) => Effect.map(Effect.orDie(encode(output)), (encoded) => resultOf(output, encoded))
        }))
    })
  // R ⊆ Exclude<R, ToolContext> | ToolContext holds, but TypeScript cannot prove it for a generic R.
  return {
    definition,
    call: call as Tool<Exclude<R, ToolContext>>["call"],
    ...(options.requiredClientCapabilities === undefined ? {} : { requiredClientCapabilities: options.requiredClientCapabilities }),
    ...(options.task === undefined ? {} : { task: options.task })
  }
}
