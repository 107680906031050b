import { Effect, Schema } from "effect"
import * as Tool from "../../src/mcp/tool.js"
import { ToolContext } from "../../src/mcp/tool.js"

/**
 * Test doubles for the conformance suite's fixture tools. They live only here: the product's
 * tools/list never contains them. They let the suite exercise real product machinery — schema
 * generation from Effect Schemas, and SSE polling (closing a POST stream mid-call) — that the
 * product's own tools use without a fixture name.
 */

const annotations = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false } as const

const Address = Schema.Struct({
  street: Schema.optional(Schema.String),
  city: Schema.optional(Schema.String)
}).annotations({ identifier: "address" })

export const jsonSchema202012Tool = Tool.make({
  name: "json_schema_2020_12_tool",
  title: "JSON Schema 2020-12 fixture",
  description: "Tool with JSON Schema 2020-12 features",
  input: Schema.Struct({ name: Schema.optional(Schema.String), address: Schema.optional(Address) }),
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
