import { Schema } from "effect"
import { describe, expect, it } from "@effect/vitest"
import { jsonSchemaOf } from "../../src/mcp/jsonSchema.js"

describe("jsonSchemaOf", () => {
  it("keeps properties named like keywords, inlines refinements, drops generated titles and descriptions", () => {
    const schema = Schema.Struct({
      title: Schema.String,
      properties: Schema.optional(Schema.Int.pipe(Schema.between(1, 3)))
    })
    expect(jsonSchemaOf(schema)).toEqual({
      $schema: "https://json-schema.org/draft/2020-12/schema",
      type: "object",
      required: ["title"],
      properties: {
        title: { type: "string" },
        properties: { type: "integer", minimum: 1, maximum: 3 }
      },
      additionalProperties: false
    })
  })

  it("keeps named object schemas as $defs and publishes an empty struct as an object", () => {
    const Address = Schema.Struct({ city: Schema.String }).annotations({ identifier: "address" })
    const out = jsonSchemaOf(Schema.Struct({ home: Address }))
    expect(out["properties"]).toEqual({ home: { $ref: "#/$defs/address" } })
    expect(out["$defs"]).toEqual({ address: { type: "object", required: ["city"], properties: { city: { type: "string" } }, additionalProperties: false } })
    expect(jsonSchemaOf(Schema.Struct({}))).toEqual({ $schema: "https://json-schema.org/draft/2020-12/schema", type: "object", properties: {}, additionalProperties: false })
  })

  it("writes a union of bare types as one type list, and records without empty required/properties", () => {
    const out = jsonSchemaOf(Schema.Struct({
      count: Schema.NullOr(Schema.Int),
      cells: Schema.Record({ key: Schema.String, value: Schema.NullOr(Schema.Union(Schema.String, Schema.Number)) }),
      level: Schema.Union(Schema.Int, Schema.String.pipe(Schema.pattern(/^\d+$/)))
    }))
    expect(out["properties"]).toEqual({
      count: { type: ["integer", "null"] },
      cells: { type: "object", additionalProperties: { type: ["string", "number", "null"] } },
      // A member saying more than its type stays an anyOf.
      level: { anyOf: [{ type: "integer" }, { type: "string", pattern: "^\\d+$" }] }
    })
  })
})
