import { Deferred, Effect, Option, Ref, Schema, Tracer } from "effect"
import { describe, expect, it } from "@effect/vitest"
import { decodeRequest } from "../../src/mcp/incoming.js"
import type { JsonRpcNotification, JsonRpcRequest } from "../../src/mcp/jsonrpc.js"
import * as McpServer from "../../src/mcp/server.js"
import { makeSession } from "../../src/mcp/session.js"
import { MetaKey, statelessVersion } from "../../src/mcp/stateless.js"
import * as Tool from "../../src/mcp/tool.js"
import { ToolContext } from "../../src/mcp/tool.js"

class Boom extends Schema.TaggedError<Boom>()("Boom", { reason: Schema.String }) {
  override get message() {
    return `It broke: ${this.reason}. Try a smaller request.`
  }
}

/** Test-only tools exercising the protocol core: echo, a failing one, a waiting one. */
const makeTools = (started: Deferred.Deferred<void>, interrupted: Ref.Ref<boolean>) => [
  Tool.make({
    name: "echo",
    title: "Echo",
    description: "Echoes its text",
    input: Schema.Struct({ text: Schema.String.annotations({ description: "what to echo" }), times: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 3)), { default: () => 1 }) }),
    output: Schema.Struct({ echoed: Schema.String }),
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    summarize: (o) => o.echoed,
    run: (input) => Effect.gen(function* () {
      const context = yield* ToolContext
      yield* context.progress({ progress: 1, total: 2, message: "half" })
      yield* context.progress({ progress: 1, total: 2, message: "repeat is dropped" })
      yield* context.progress({ progress: 2, total: 2 })
      yield* context.log("debug", "below the default level")
      yield* context.log("warning", "visible")
      return { echoed: input.text.repeat(input.times) }
    })
  }),
  Tool.make({
    name: "fail",
    title: "Fail",
    description: "Always fails",
    input: Schema.Struct({}),
    output: Schema.Struct({}),
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    summarize: () => "",
    run: () => Effect.fail(new Boom({ reason: "the fake said no" }))
  }),
  Tool.make({
    name: "wait",
    title: "Wait",
    description: "Waits until interrupted",
    input: Schema.Struct({}),
    output: Schema.Struct({}),
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    summarize: () => "",
    run: () => Deferred.succeed(started, undefined).pipe(
      Effect.zipRight(Effect.never),
      Effect.onInterrupt(() => Ref.set(interrupted, true))
    )
  }),
  Tool.make({
    name: "defect",
    title: "Defect",
    description: "Dies",
    input: Schema.Struct({}),
    output: Schema.Struct({}),
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    summarize: () => "",
    run: () => Effect.die(new Error("secret internals"))
  })
]

const setup = Effect.gen(function* () {
  const started = yield* Deferred.make<void>()
  const interrupted = yield* Ref.make(false)
  const server = yield* McpServer.make(makeTools(started, interrupted))
  const session = yield* makeSession({ id: "s", kind: "stdio", protocolVersion: "2025-11-25", replayCapacity: 8 })
  const sent = yield* Ref.make<ReadonlyArray<JsonRpcNotification>>([])
  const send = McpServer.channel((n: JsonRpcNotification) => Ref.update(sent, (all) => [...all, n]))
  const call = (id: number, name: string, args: unknown, meta?: object): JsonRpcRequest => ({
    jsonrpc: "2.0", id, method: "tools/call", params: { name, arguments: args, ...(meta ? { _meta: meta } : {}) }
  })
  return { server, session, sent, send, call, started, interrupted }
})

describe("McpServer core", () => {
  it.effect("tools/list publishes JSON Schema 2020-12 from the Effect Schemas, with descriptions and defaults", () =>
    Effect.gen(function* () {
      const { server, session, send } = yield* setup
      const response = yield* server.handleRequest(session, decodeRequest({ jsonrpc: "2.0", id: 1, method: "tools/list" }), send)
      const result = Option.getOrThrow(response) as { result: { tools: Array<{ name: string; inputSchema: Record<string, unknown>; annotations: object }> } }
      const echo = result.result.tools.find((t) => t.name === "echo")!
      expect(echo.inputSchema).toMatchObject({
        $schema: "https://json-schema.org/draft/2020-12/schema",
        type: "object",
        required: ["text"],
        properties: { text: { type: "string", description: "what to echo" }, times: { type: "integer", minimum: 1, maximum: 3 } }
      })
      expect(echo.annotations).toEqual({ readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false })
    }))

  it.effect("a call sends increasing progress and logs above the session level, then the structured result", () =>
    Effect.gen(function* () {
      const { server, session, sent, send, call } = yield* setup
      const response = yield* server.handleRequest(session, decodeRequest(call(2, "echo", { text: "ab", times: 2 }, { progressToken: "tok" })), send)
      expect(Option.getOrThrow(response)).toEqual({
        jsonrpc: "2.0", id: 2,
        result: { content: [{ type: "text", text: "abab\nechoed: abab" }], structuredContent: { echoed: "abab" }, isError: false }
      })
      expect(yield* Ref.get(sent)).toEqual([
        { jsonrpc: "2.0", method: "notifications/progress", params: { progressToken: "tok", progress: 1, total: 2, message: "half" } },
        { jsonrpc: "2.0", method: "notifications/progress", params: { progressToken: "tok", progress: 2, total: 2 } },
        { jsonrpc: "2.0", method: "notifications/message", params: { level: "warning", logger: "estat-mcp", data: "visible" } }
      ])
    }))

  it.effect("no progress without a progressToken; logging/setLevel changes what is sent", () =>
    Effect.gen(function* () {
      const { server, session, sent, send, call } = yield* setup
      yield* server.handleRequest(session, decodeRequest({ jsonrpc: "2.0", id: 1, method: "logging/setLevel", params: { level: "error" } }), send)
      yield* server.handleRequest(session, decodeRequest(call(3, "echo", { text: "x" })), send)
      expect(yield* Ref.get(sent)).toEqual([])
      const bad = yield* server.handleRequest(session, decodeRequest({ jsonrpc: "2.0", id: 4, method: "logging/setLevel", params: { level: "loud" } }), send)
      expect(Option.getOrThrow(bad)).toMatchObject({ error: { code: -32602 } })
    }))

  it.effect("invalid arguments and typed failures are isError results with actionable text", () =>
    Effect.gen(function* () {
      const { server, session, send, call } = yield* setup
      const invalid = Option.getOrThrow(yield* server.handleRequest(session, decodeRequest(call(5, "echo", { text: 1, extra: true })), send)) as { result: { isError: boolean; content: Array<{ text: string }> } }
      expect(invalid.result.isError).toBe(true)
      expect(invalid.result.content[0]!.text).toContain("Invalid arguments for echo")
      expect(invalid.result.content[0]!.text).toContain("text")
      expect(invalid.result.content[0]!.text).toContain("extra")
      const failed = Option.getOrThrow(yield* server.handleRequest(session, decodeRequest(call(6, "fail", {})), send))
      expect(failed).toEqual({ jsonrpc: "2.0", id: 6, result: { content: [{ type: "text", text: "It broke: the fake said no. Try a smaller request." }], isError: true } })
    }))

  it.effect("a defect is -32603 with a trace id and no internals", () =>
    Effect.gen(function* () {
      const { server, session, send, call } = yield* setup
      const response = Option.getOrThrow(yield* server.handleRequest(session, decodeRequest(call(7, "defect", {})), send)) as { error: { code: number; message: string } }
      expect(response.error.code).toBe(-32603)
      expect(response.error.message).toMatch(/^Internal error \(trace id [0-9a-f-]{36}\)$/)
      expect(JSON.stringify(response)).not.toContain("secret internals")
    }))

  it.effect("notifications/cancelled interrupts the call; no response is produced", () =>
    Effect.gen(function* () {
      const { server, session, send, call, started, interrupted } = yield* setup
      const fiber = yield* Effect.fork(server.handleRequest(session, decodeRequest(call(8, "wait", {})), send))
      yield* Deferred.await(started)
      yield* server.handleNotification(session, { jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: 8, reason: "user" } })
      const response = yield* fiber.await
      expect(response._tag === "Success" && Option.isNone(response.value)).toBe(true)
      expect(yield* Ref.get(interrupted)).toBe(true)
    }))

  it.effect("a detached call answers None once cancelled, or when its session ends, so that its HTTP answer is not left waiting", () =>
    Effect.gen(function* () {
      for (const end of ["cancelled", "session closed"] as const) {
        const { server, session, send, call, started, interrupted } = yield* setup
        const answered = yield* Deferred.make<Option.Option<unknown>>()
        yield* server.runDetached(session, decodeRequest(call(9, "wait", {})), send, (response) => Deferred.succeed(answered, response))
        yield* Deferred.await(started)
        yield* end === "cancelled"
          ? server.handleNotification(session, { jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: 9, reason: "user" } })
          : session.close
        expect(Option.isNone(yield* Deferred.await(answered))).toBe(true)
        expect(yield* Ref.get(interrupted)).toBe(true)
      }
    }))

  it.effect("initialize negotiates: a supported version is kept, others get the latest", () =>
    Effect.gen(function* () {
      const { server, session, send } = yield* setup
      const init = (v: string) => server.handleRequest(session, decodeRequest({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: v, capabilities: {}, clientInfo: { name: "t", version: "1" } } }), send)
      expect(Option.getOrThrow(yield* init("2025-03-26"))).toMatchObject({ result: { protocolVersion: "2025-03-26" } })
      expect(Option.getOrThrow(yield* init("2023-01-01"))).toMatchObject({ result: { protocolVersion: "2025-11-25" } })
    }))
})

describe("request spans", () => {
  /** The native tracer, recording every span it makes: an installed tracer as an embedder's OpenTelemetry layer would be. */
  const recordingTracer = Effect.map(Effect.tracer, (native) => {
    const spans: Array<Tracer.Span> = []
    const tracer = Tracer.make({
      span: (...args) => {
        const span = native.span(...args)
        spans.push(span)
        return span
      },
      context: native.context
    })
    return { tracer, spans }
  })

  it.effect("reach an installed tracer: named by method and tool; a 2026-07-28 request's traceparent parents its span", () =>
    Effect.gen(function* () {
      const { server, session, send, call } = yield* setup
      const { tracer, spans } = yield* recordingTracer
      yield* server.handleRequest(session, decodeRequest(call(1, "echo", { text: "a" })), send).pipe(Effect.withTracer(tracer))
      expect(spans.map((span) => [span.name, span.attributes.get("gen_ai.tool.name")])).toEqual([["mcp.tools/call", "echo"]])

      const traceId = "4bf92f3577b34da6a3ce929d0e0e4736"
      const envelope = {
        [MetaKey.protocolVersion]: statelessVersion,
        [MetaKey.clientCapabilities]: {},
        traceparent: `00-${traceId}-00f067aa0ba902b7-01`
      }
      yield* server.handleStateless(decodeRequest({ jsonrpc: "2.0", id: 2, method: "tools/list" }), envelope, send).pipe(Effect.withTracer(tracer))
      const stateless = spans[1]!
      expect([stateless.name, stateless.traceId, Option.map(stateless.parent, (parent) => parent.spanId)]).toEqual(["mcp.tools/list", traceId, Option.some("00f067aa0ba902b7")])
    }))
})
