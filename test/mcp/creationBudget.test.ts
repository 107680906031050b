import { Duration, Option } from "effect"
import { describe, expect, it } from "@effect/vitest"
import { makeCreationBudget } from "../../src/mcp/creationBudget.js"

describe("the per-client session creation budget", () => {
  it("allows a burst of the per-minute number, then one per refill interval, with the wait to the next", () => {
    const budget = makeCreationBudget(60)
    for (let i = 0; i < 60; i++) expect(budget.take("a", 0)).toEqual(Option.none())
    expect(budget.take("a", 0)).toEqual(Option.some(Duration.millis(1_000)))
    expect(budget.take("a", 400)).toEqual(Option.some(Duration.millis(600)))
    expect(budget.take("a", 1_000)).toEqual(Option.none())
    expect(Option.isSome(budget.take("a", 1_000))).toBe(true)
    // Other clients have their own.
    expect(budget.take("b", 1_000)).toEqual(Option.none())
    // Refilled to the burst, never beyond.
    for (let i = 0; i < 60; i++) expect(budget.take("a", 3_600_000)).toEqual(Option.none())
    expect(Option.isSome(budget.take("a", 3_600_000))).toBe(true)
  })

  it("is off at 0", () => {
    const budget = makeCreationBudget(0)
    for (let i = 0; i < 1_000; i++) expect(budget.take("a", 0)).toEqual(Option.none())
    expect(budget.clients()).toBe(0)
  })

  it("tracks a bounded number of clients, forgetting the least recently seen", () => {
    const budget = makeCreationBudget(1, 100)
    for (let i = 0; i < 10_000; i++) budget.take(`client-${i}`, 0)
    expect(budget.clients()).toBe(100)
    expect(Option.isSome(budget.take("client-9999", 0))).toBe(true)
    expect(budget.take("client-0", 0)).toEqual(Option.none())
  })
})
