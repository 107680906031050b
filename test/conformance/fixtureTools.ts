import { Effect, Schema } from "effect"
import * as Tool from "../../src/mcp/tool.js"
import { ToolContext } from "../../src/mcp/tool.js"

/**
 * Test doubles for the conformance suites' fixture tools. They live only here: the product's
 * tools/list never contains them. They let the suites exercise real product machinery — schema
 * generation from Effect Schemas, SSE polling (closing a POST stream mid-call), and on the
 * 2026-07-28 path the required-capability refusal and the log-level filter — that the product's
 * own tools use without a fixture name.
 */

const annotations = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false } as const

/** Refinements carry JSON Schema keywords an Effect Schema has no words for ($anchor, allOf, if/then/else). */
const Address = Schema.Struct({
  street: Schema.optional(Schema.String),
  city: Schema.optional(Schema.String)
}).pipe(Schema.filter(() => true, { identifier: "address", jsonSchema: { $anchor: "addressDef" } }))

/** A phone or an email; the one contactMethod names (email when it names none) must be there. */
const ContactInput = Schema.Struct({
  name: Schema.optional(Schema.String),
  address: Schema.optional(Address),
  contactMethod: Schema.optional(Schema.Literal("phone", "email")),
  phone: Schema.optional(Schema.String),
  email: Schema.optional(Schema.String)
}).pipe(Schema.filter((input) => input.contactMethod === "phone" ? input.phone !== undefined : input.email !== undefined, {
  jsonSchema: {
    allOf: [{ anyOf: [{ required: ["phone"] }, { required: ["email"] }] }],
    if: { properties: { contactMethod: { const: "phone" } }, required: ["contactMethod"] },
    then: { required: ["phone"] },
    else: { required: ["email"] }
  }
}))

export const jsonSchema202012Tool = Tool.make({
  name: "json_schema_2020_12_tool",
  title: "JSON Schema 2020-12 fixture",
  description: "Tool with JSON Schema 2020-12 features",
  input: ContactInput,
  output: Schema.Struct({ received: Schema.Boolean }),
  annotations,
  summarize: () => "received",
  run: () => Effect.succeed({ received: true })
})

export const testReconnection = Tool.make({
  name: "test_reconnection",
  title: "SSE polling fixture",
  description: "A tool that triggers SSE stream closure to test client reconnection behavior",
  input: Schema.Struct({}),
  output: Schema.Struct({ reconnected: Schema.Boolean }),
  annotations,
  summarize: () => "Reconnection test completed",
  run: () =>
    Effect.gen(function* () {
      const context = yield* ToolContext
      yield* context.closeStream
      yield* Effect.sleep("300 millis")
      return { reconnected: true }
    })
})

/**
 * The 2026-07-28 suite's diagnostic tools for server-stateless. Each exercises a rule of the
 * stateless path rather than a feature of the tool itself.
 */

/** Needs `sampling` declared: without it the call is refused before it runs (-32021, HTTP 400). */
export const testMissingCapability = Tool.make({
  name: "test_missing_capability",
  title: "Required client capability fixture",
  description: "A tool that cannot run unless the client declares the sampling capability",
  input: Schema.Struct({}),
  output: Schema.Struct({ ran: Schema.Boolean }),
  annotations,
  requiredClientCapabilities: { sampling: {} },
  summarize: () => "ran",
  run: () => Effect.succeed({ ran: true })
})

/**
 * Needs `elicitation` declared. The suite reads its answer stream for server-to-client requests,
 * which 2026-07-28 forbids; estat-mcp sends none (it would ask with an InputRequiredResult).
 */
export const testStreamingElicitation = Tool.make({
  name: "test_streaming_elicitation",
  title: "Response stream fixture",
  description: "A tool whose answer stream must carry notifications and its result only",
  input: Schema.Struct({}),
  output: Schema.Struct({ answered: Schema.Boolean }),
  annotations,
  requiredClientCapabilities: { elicitation: {} },
  summarize: () => "answered",
  run: () =>
    Effect.gen(function* () {
      const context = yield* ToolContext
      yield* context.progress({ progress: 1, total: 1 })
      return { answered: true }
    })
})

/** Logs at every level it can: a request that names no log level must get none of it. */
export const testLoggingTool = Tool.make({
  name: "test_logging_tool",
  title: "Logging fixture",
  description: "A tool that logs at every level",
  input: Schema.Struct({}),
  output: Schema.Struct({ logged: Schema.Int }),
  annotations,
  summarize: () => "logged",
  run: () =>
    Effect.gen(function* () {
      const context = yield* ToolContext
      for (const level of ["debug", "info", "warning", "error"] as const) yield* context.log(level, `a ${level} message`)
      return { logged: 4 }
    })
})

/** An argument mirrored into the `Mcp-Param-Region` header (SEP-2243), which the server checks against the body. */
const Region = Schema.String.annotations({ jsonSchema: { type: "string", description: "Region to route on", "x-mcp-header": "Region" } })

export const testCustomHeader = Tool.make({
  name: "test_custom_header",
  title: "Custom header fixture",
  description: "A tool whose region argument is mirrored into the Mcp-Param-Region header",
  input: Schema.Struct({ region: Region }),
  output: Schema.Struct({ region: Schema.String }),
  annotations,
  summarize: (output) => output.region,
  run: (input) => Effect.succeed({ region: input.region })
})

/**
 * The Tasks extension scenarios' fixtures (SEP-2663): `greet` answers at once; the other three may
 * run as tasks (always, as the product's fetch tools do) and exercise a task's three endings.
 */
export const greet = Tool.make({
  name: "greet",
  title: "Sync fixture",
  description: "Greets by name, at once",
  input: Schema.Struct({ name: Schema.String }),
  output: Schema.Struct({ greeting: Schema.String }),
  annotations,
  summarize: (out) => out.greeting,
  // The text is the greeting alone, as the scenario reads it.
  summaryStates: ["greeting"],
  run: (input) => Effect.succeed({ greeting: `Hello, ${input.name}!` })
})

export const slowCompute = Tool.make({
  name: "slow_compute",
  title: "Task fixture",
  description: "Sleeps for the given seconds, then answers",
  input: Schema.Struct({ seconds: Schema.Number, label: Schema.optional(Schema.String) }),
  output: Schema.Struct({ label: Schema.String, slept: Schema.Number }),
  annotations,
  task: { runsLong: "always" },
  summarize: (out) => `${out.label} done after ${out.slept} s`,
  run: (input) => Effect.as(Effect.sleep(`${input.seconds} seconds`), { label: input.label ?? "", slept: input.seconds })
})

class JobFailed extends Schema.TaggedError<JobFailed>()("JobFailed", {}) {
  override get message() {
    return "The job failed, as this fixture always does."
  }
}

export const failingJob = Tool.make({
  name: "failing_job",
  title: "Task fixture: a tool error",
  description: "Reports a tool execution error after about a second",
  input: Schema.Struct({}),
  output: Schema.Struct({}),
  annotations,
  task: { runsLong: "always" },
  summarize: () => "never",
  run: () => Effect.zipRight(Effect.sleep("1 second"), Effect.fail(new JobFailed()))
})

export const protocolErrorJob = Tool.make({
  name: "protocol_error_job",
  title: "Task fixture: the server's own failure",
  description: "Fails inside the server (a defect), not as a tool error",
  input: Schema.Struct({}),
  output: Schema.Struct({}),
  annotations,
  task: { runsLong: "always" },
  summarize: () => "never",
  run: () => Effect.dieMessage("protocol_error_job: a defect by design")
})

/** A text result: the `text` content every tool result leads with. */
export const testSimpleText = Tool.make({
  name: "test_simple_text",
  title: "Simple text fixture",
  description: "A tool whose result is text",
  input: Schema.Struct({}),
  output: Schema.Struct({ said: Schema.String }),
  annotations,
  summarize: () => "This is a simple text response for testing.",
  run: () => Effect.succeed({ said: "simple text" })
})

/** A tool failure: an `isError` result with the failure's message, not a protocol error. */
export const testErrorHandling = Tool.make({
  name: "test_error_handling",
  title: "Error fixture",
  description: "A tool that always fails",
  input: Schema.Struct({}),
  output: Schema.Struct({}),
  annotations,
  summarize: () => "never",
  run: () => Effect.fail({ _tag: "FixtureFailure", message: "This tool intentionally returns an error for testing" })
})

/** Progress notifications (0, 50, 100 of 100) on the call's stream before its result. */
export const testToolWithProgress = Tool.make({
  name: "test_tool_with_progress",
  title: "Progress fixture",
  description: "A tool that reports progress three times",
  input: Schema.Struct({}),
  output: Schema.Struct({ steps: Schema.Int }),
  annotations,
  summarize: () => "progressed",
  run: () =>
    Effect.gen(function* () {
      const context = yield* ToolContext
      for (const progress of [0, 50, 100]) yield* context.progress({ progress, total: 100 })
      return { steps: 3 }
    })
})
