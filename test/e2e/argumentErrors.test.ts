import { describe, expect, it } from "@effect/vitest"
import { useE2E } from "../support/e2eServer.js"
import { firstText } from "../support/toolResult.js"

/** Argument errors say, per argument, its name, what was given, what is expected and an example. */
describe("argument errors a model can act on", () => {
  const e2e = useE2E("e2e-arguments", [])

  const refused = async (name: string, args: Record<string, unknown>) => {
    const result = await e2e().client.callTool({ name, arguments: args })
    expect(result.isError, name).toBe(true)
    const text = firstText(result)
    expect(text.startsWith(`Invalid arguments for ${name}: `), text).toBe(true)
    // None of Effect's schema dump reaches the model.
    expect(text).not.toMatch(/readonly|Encoded side|Expected |actual /)
    return text.slice(`Invalid arguments for ${name}: `.length)
  }

  it("every tool: each required argument missing, a wrong type and an unknown argument, all named at once", async () => {
    const { tools } = await e2e().client.listTools()
    expect(tools).toHaveLength(10)
    for (const tool of tools) {
      const required = (tool.inputSchema.required ?? []) as ReadonlyArray<string>
      const properties = tool.inputSchema.properties as Record<string, { type?: string }>
      const missing = await refused(tool.name, {})
      for (const name of required) expect(missing, tool.name).toContain(`\`${name}\` is required: `)
      if (required.length === 0) continue

      // A number where a string is expected (or a string where something else is), plus an argument that does not exist.
      const first = required[0]!
      const wrong = properties[first]?.type === "string" ? 12 : "twelve"
      const text = await refused(tool.name, { ...Object.fromEntries(required.map((r) => [r, wrong])), bogus_argument: true })
      expect(text, tool.name).toContain(`\`${first}\` must be `)
      expect(text, tool.name).toContain(`given ${JSON.stringify(wrong)}.`)
      expect(text, tool.name).toContain(`\`bogus_argument\` is not an argument of ${tool.name}; the arguments are ${Object.keys(properties).join(", ")}.`)
    }
  })

  it("says what fits, with an example, in the tool's language", async () => {
    expect(await refused("fetch_dataset_auto", { dataset_id: "123" })).toBe(
      "`dataset_id` must be e-Stat's 10-digit statsDataId (search_estat_data finds one), e.g. \"0003410379\"; given \"123\"."
    )
    expect(await refused("search_estat_data", { query: "人口", max_reslts: 3, scoring_method: "best" })).toBe(
      "`max_reslts` is not an argument of search_estat_data (did you mean `max_results`?); the arguments are query, max_results, auto_suggest, " +
        "scoring_method, stats_field, stats_code, survey_years, open_years, stored_only, updated_since. " +
        "`scoring_method` must be one of \"enhanced\", \"basic\", e.g. \"enhanced\"; given \"best\"."
    )
    expect(await refused("fetch_large_dataset_complete", { dataset_id: "0003445078", concurrency: 9 })).toBe(
      "`concurrency` must be an integer from 1 to 8, e.g. 4; given 9."
    )
    expect(await refused("fetch_dataset_filtered", { dataset_id: "0003445078", filters: { area: 5 } })).toBe(
      "`filters.area` must be one code or exact label, a list of them, a range {\"from\", \"to\"} or a level {\"level\"}, e.g. \"東京都\"; given 5."
    )
    expect(await refused("analyze_with_athena", { table_name: "Bad Name" })).toBe(
      "`table_name`: use lower-case letters, digits and _ only (at most 128, not starting with a digit), e.g. \"population\"; given \"Bad Name\"."
    )
  })
})
