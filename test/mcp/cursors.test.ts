import { Effect, Either, Option } from "effect"
import { describe, expect, it } from "@effect/vitest"
import { decodeRequest } from "../../src/mcp/incoming.js"
import type { JsonRpcResponse } from "../../src/mcp/jsonrpc.js"
import { InvalidParams } from "../../src/mcp/rpcErrors.js"
import { invalidCursor, type Page, pageOf, type Resource, type ResourceProvider } from "../../src/mcp/resources.js"
import * as McpServer from "../../src/mcp/server.js"
import { makeSession } from "../../src/mcp/session.js"

const items = Array.from({ length: 250 }, (_, i) => i)

/** Cursors this 250-item listing (pages of 100) never issues. */
const foreignCursors = [
  "", "0", "00", "0100", "100.0", "1e2", "0x64", " 100", "100 ", "+100", "-100", "50", "150", "250", "300", "1000",
  "99999999999999999999", "NaN", "Infinity", "abc", "100;", "１００", "%31%30%30", "null", "undefined", "[100]"
]

describe("pageOf: only cursors this listing issues", () => {
  it("walks every item exactly once by nextCursor", () => {
    const seen: Array<number> = []
    let cursor: string | undefined = undefined
    for (let pages = 0; pages < 10; pages++) {
      const page: Page<number> = Either.getOrThrow(pageOf(items, cursor, 100))
      seen.push(...page.items)
      cursor = page.nextCursor
      if (cursor === undefined) break
    }
    expect(seen).toEqual(items)
  })

  it.each(foreignCursors)("refuses cursor %j with -32602", (cursor) => {
    expect(pageOf(items, cursor, 100)).toEqual(Either.left(invalidCursor))
    expect(invalidCursor.code).toBe(InvalidParams.code)
  })

  it("an empty listing has one empty page and accepts no cursor", () => {
    expect(pageOf([], undefined, 100)).toEqual(Either.right({ items: [] }))
    expect(pageOf([], "100", 100)).toEqual(Either.left(invalidCursor))
  })
})

const provider: ResourceProvider<never> = {
  templates: [],
  list: (cursor) =>
    Effect.map(pageOf(items, cursor, 100), (page) => ({
      resources: page.items.map((i): Resource => ({ uri: `file:///r/${i}`, name: String(i) })),
      ...(page.nextCursor === undefined ? {} : { nextCursor: page.nextCursor })
    })),
  read: () => Effect.succeed([])
}

const setup = Effect.gen(function* () {
  const server = yield* McpServer.make([], provider)
  const session = yield* makeSession({ id: "s", kind: "stdio", protocolVersion: "2025-11-25", replayCapacity: 8 })
  const ask = (method: string, params?: Record<string, unknown>) =>
    server.handleRequest(session, decodeRequest({ jsonrpc: "2.0", id: 1, method, ...(params === undefined ? {} : { params }) }), McpServer.channel(() => Effect.void)).pipe(
      Effect.map((r) => Option.getOrThrow(r) as JsonRpcResponse & { error?: { code: number }; result?: { nextCursor?: string; resources?: Array<unknown>; tools?: Array<unknown> } })
    )
  return { ask }
})

describe("list methods answer a foreign cursor with -32602, never a full or empty list", () => {
  it.effect("tools/list: the tools fit one page, so any cursor is foreign", () =>
    Effect.gen(function* () {
      const { ask } = yield* setup
      expect((yield* ask("tools/list")).result?.tools).toEqual([])
      for (const cursor of ["x", "", "0", "100", 5, null, {}, ["a"]]) {
        expect((yield* ask("tools/list", { cursor })).error?.code, JSON.stringify(cursor)).toBe(InvalidParams.code)
      }
    }))

  it.effect("resources/list: issued cursors page on, foreign ones (strings or not) are -32602", () =>
    Effect.gen(function* () {
      const { ask } = yield* setup
      const first = yield* ask("resources/list")
      expect(first.result?.resources).toHaveLength(100)
      const second = yield* ask("resources/list", { cursor: first.result?.nextCursor })
      expect(second.result?.resources).toHaveLength(100)
      for (const cursor of [...foreignCursors, 100, null, true, {}, ["100"]]) {
        const answer = yield* ask("resources/list", { cursor })
        expect(answer.error?.code, JSON.stringify(cursor)).toBe(InvalidParams.code)
        expect(answer.result).toBeUndefined()
      }
    }))
})
