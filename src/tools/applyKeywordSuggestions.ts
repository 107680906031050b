import { Effect, Schema } from "effect"
import { applyKeywordSuggestions as apply } from "../domain/keywords.js"
import * as Tool from "../mcp/tool.js"

const Input = Schema.Struct({
  original_query: Schema.String.pipe(Schema.minLength(1)).annotations({
    description: "The search query to rewrite, e.g. the `query` given to search_estat_data.",
    examples: ["北海道の収入"]
  }),
  accepted_keywords: Schema.Record({ key: Schema.String.pipe(Schema.minLength(1)), value: Schema.String }).annotations({
    description: "term → replacement, usually the `term` → `suggested` pairs accepted from search_estat_data's suggestions.",
    examples: [{ 収入: "所得" }]
  })
})

const Applied = Schema.Struct({
  term: Schema.String,
  replacement: Schema.String,
  occurrences: Schema.Int
})

const Output = Schema.Struct({
  original_query: Schema.String,
  transformed_query: Schema.String,
  applied: Schema.Array(Applied),
  unmatched: Schema.Array(Schema.String).annotations({ description: "Accepted terms that do not occur in the query." })
})

export const applyKeywordSuggestions = Tool.make({
  name: "apply_keyword_suggestions",
  title: "Apply keyword suggestions",
  description:
    "Rewrites a search query with accepted replacements (everyday word → official term), whole terms only, also " +
    "inside Japanese phrases (「北海道の収入」 with {収入: 所得} → 「北海道の所得」), no network. Result: transformed_query, the replacements made. Next: search_estat_data with it.",
  input: Input,
  output: Output,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  summarize: (out) =>
    (out.applied.length === 0 ? "No replacement applied. " : "") + "Next: search_estat_data with transformed_query.",
  run: (input) => Effect.sync(() => apply(input.original_query, input.accepted_keywords))
})
