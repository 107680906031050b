import { randomUUID } from "node:crypto"
import { Cause, Context, Effect, Exit, Fiber, FiberMap, Layer, Option, Ref } from "effect"
import {
  ErrorCode,
  errorResponse,
  type JsonRpcNotification,
  type JsonRpcRequest,
  type JsonRpcResponse,
  notification,
  resultResponse
} from "./jsonrpc.js"
import { instructions, negotiateVersion, serverInfo } from "./protocol.js"
import { type LogLevel, logLevels, type Session } from "./session.js"
import { invalidCursor, type ResourceFailure, type ResourceProvider, resourceLinksSince } from "./resources.js"
import { type CallToolResult, type ProgressUpdate, type Tool, ToolContext } from "./tool.js"

/** Sends a server message that belongs to the request being handled (on its stream). */
export type Send = (message: JsonRpcNotification) => Effect.Effect<void>

/** How a request's messages reach the client, as its transport provides. */
export interface Channel {
  readonly send: Send
  /** Closes the request's current connection so the client resumes it later (SSE polling); a no-op where not possible. */
  readonly closeStream: Effect.Effect<void>
}

/** For transports that carry a request's messages on one connection (stdio, legacy SSE, JSON answers). */
export const channel = (send: Send): Channel => ({ send, closeStream: Effect.void })

/** The transport-independent MCP protocol: what every transport (HTTP, SSE, stdio) delegates to. */
export class McpServer extends Context.Tag("estat-mcp/McpServer")<McpServer, {
  /** Answers one request; None when it was cancelled (then no response is sent). */
  readonly handleRequest: (session: Session, request: JsonRpcRequest, channel: Channel) => Effect.Effect<Option.Option<JsonRpcResponse>>
  readonly handleNotification: (session: Session, message: JsonRpcNotification) => Effect.Effect<void>
  readonly toolNames: ReadonlyArray<string>
}>() {}

const levelRank = (level: LogLevel) => logLevels.indexOf(level)
const isLogLevel = (value: unknown): value is LogLevel => logLevels.some((l) => l === value)

const progressTokenOf = (request: JsonRpcRequest): Option.Option<string | number> => {
  const meta = request.params?.["_meta"]
  if (typeof meta !== "object" || meta === null) return Option.none()
  const token = (meta as { readonly progressToken?: unknown }).progressToken
  return typeof token === "string" || typeof token === "number" ? Option.some(token) : Option.none()
}

const makeToolContext = (session: Session, request: JsonRpcRequest, { closeStream, send }: Channel) =>
  Effect.gen(function* () {
    const token = progressTokenOf(request)
    const last = yield* Ref.make(Number.NEGATIVE_INFINITY)
    const progress = (update: ProgressUpdate) =>
      Option.match(token, {
        onNone: () => Effect.void,
        onSome: (progressToken) =>
          // Progress must increase; a stale or repeated value is dropped, not sent.
          Ref.modify(last, (prev) => [update.progress > prev, Math.max(prev, update.progress)] as const).pipe(
            Effect.flatMap((increases) =>
              increases
                ? send(notification("notifications/progress", {
                  progressToken,
                  progress: update.progress,
                  ...(update.total === undefined ? {} : { total: update.total }),
                  ...(update.message === undefined ? {} : { message: update.message })
                }))
                : Effect.void
            )
          )
      })
    const log = (level: LogLevel, data: unknown) =>
      Ref.get(session.logLevel).pipe(
        Effect.flatMap((threshold) =>
          levelRank(level) >= levelRank(threshold)
            ? send(notification("notifications/message", { level, logger: serverInfo.name, data }))
            : Effect.void
        )
      )
    return Context.make(ToolContext, { progress, log, closeStream })
  })

export const make = <R>(
  tools: ReadonlyArray<Tool<R>>,
  resources?: ResourceProvider<R>
): Effect.Effect<Context.Tag.Service<McpServer>, never, R> =>
  Effect.gen(function* () {
    const context = yield* Effect.context<R>()
    const byName = new Map(tools.map((tool) => [tool.definition.name, tool]))
    const capabilities = {
      tools: { listChanged: false },
      ...(resources === undefined ? {} : { resources: { listChanged: false, subscribe: false } }),
      logging: {}
    }

    const initialize = (session: Session, request: JsonRpcRequest) =>
      Effect.gen(function* () {
        const version = negotiateVersion(request.params?.["protocolVersion"])
        yield* Ref.set(session.protocolVersion, version)
        return resultResponse(request.id, {
          protocolVersion: version,
          capabilities,
          serverInfo,
          instructions
        })
      })

    const callTool = (session: Session, request: JsonRpcRequest, channel: Channel) =>
      Effect.gen(function* () {
        const name = request.params?.["name"]
        const tool = typeof name === "string" ? byName.get(name) : undefined
        if (tool === undefined) {
          return Option.some(errorResponse(request.id, ErrorCode.InvalidParams, `Unknown tool: ${String(name)}. Call tools/list for the available tools.`))
        }
        const toolContext = yield* makeToolContext(session, request, channel)
        const program = tool.call(request.params?.["arguments"]).pipe(
          Effect.provide(Context.merge(context, toolContext))
        )
        const fiber = yield* FiberMap.run(session.inflight, request.id, program)
        const exit = yield* Fiber.await(fiber)
        yield* FiberMap.remove(session.inflight, request.id)
        if (Exit.isSuccess(exit)) return Option.some(resultResponse(request.id, forVersion(exit.value, yield* Ref.get(session.protocolVersion))))
        if (Cause.isInterruptedOnly(exit.cause)) return Option.none()
        return Option.some(yield* internalError(request, exit.cause))
      })

    const internalError = (request: JsonRpcRequest, cause: Cause.Cause<unknown>) => {
      const traceId = randomUUID()
      return Effect.logError("defect while handling a request", cause).pipe(
        Effect.annotateLogs({ traceId, method: request.method }),
        Effect.as(errorResponse(request.id, ErrorCode.InternalError, `Internal error (trace id ${traceId})`))
      )
    }

    const setLevel = (session: Session, request: JsonRpcRequest) => {
      const level = request.params?.["level"]
      return isLogLevel(level)
        ? Effect.as(Ref.set(session.logLevel, level), resultResponse(request.id, {}))
        : Effect.succeed(errorResponse(request.id, ErrorCode.InvalidParams, `Invalid log level: ${String(level)}. Use one of ${logLevels.join(", ")}.`))
    }

    const toolList = { tools: tools.map((tool) => tool.definition) }
    /** The tools fit one page: no cursor was ever issued, so any cursor is not ours. */
    const listTools = (request: JsonRpcRequest) =>
      request.params?.["cursor"] === undefined
        ? resultResponse(request.id, toolList)
        : errorResponse(request.id, invalidCursor.code, invalidCursor.message)

    /** resources/list, resources/read and resources/templates/list, when the server has resources. */
    const resourceRequest = (request: JsonRpcRequest): Effect.Effect<JsonRpcResponse> => {
      if (resources === undefined) return Effect.succeed(errorResponse(request.id, ErrorCode.MethodNotFound, `Method not found: ${request.method}`))
      const answer = <A>(effect: Effect.Effect<A, ResourceFailure, R>) =>
        effect.pipe(
          Effect.provide(context),
          Effect.match({
            onFailure: (failure) => errorResponse(request.id, failure.code, failure.message),
            onSuccess: (result) => resultResponse(request.id, result)
          })
        )
      switch (request.method) {
        case "resources/templates/list":
          return Effect.succeed(resultResponse(request.id, { resourceTemplates: resources.templates }))
        case "resources/list": {
          const cursor = request.params?.["cursor"]
          if (cursor !== undefined && typeof cursor !== "string") {
            return Effect.succeed(errorResponse(request.id, invalidCursor.code, invalidCursor.message))
          }
          return answer(resources.list(cursor))
        }
        default: {
          const uri = request.params?.["uri"]
          return typeof uri === "string"
            ? answer(Effect.map(resources.read(uri), (contents) => ({ contents })))
            : Effect.succeed(errorResponse(request.id, ErrorCode.InvalidParams, "resources/read needs params.uri"))
        }
      }
    }

    const dispatch = (session: Session, request: JsonRpcRequest, channel: Channel): Effect.Effect<Option.Option<JsonRpcResponse>> => {
      switch (request.method) {
        case "initialize":
          return Effect.map(initialize(session, request), Option.some)
        case "ping":
          return Effect.succeed(Option.some(resultResponse(request.id, {})))
        case "tools/list":
          return Effect.succeed(Option.some(listTools(request)))
        case "tools/call":
          return callTool(session, request, channel)
        case "logging/setLevel":
          return Effect.map(setLevel(session, request), Option.some)
        case "resources/list":
        case "resources/read":
        case "resources/templates/list":
          return Effect.map(resourceRequest(request), Option.some)
        default:
          return Effect.succeed(Option.some(errorResponse(request.id, ErrorCode.MethodNotFound, `Method not found: ${request.method}`)))
      }
    }

    const handleRequest = (session: Session, request: JsonRpcRequest, channel: Channel) =>
      dispatch(session, request, channel).pipe(
        Effect.catchAllCause((cause) =>
          Cause.isInterruptedOnly(cause) ? Effect.succeed(Option.none()) : Effect.map(internalError(request, cause), Option.some)
        ),
        Effect.withSpan(`mcp.${request.method}`)
      )

    const handleNotification = (session: Session, message: JsonRpcNotification) => {
      switch (message.method) {
        case "notifications/initialized":
          return Ref.set(session.initialized, true)
        case "notifications/cancelled": {
          const id = message.params?.["requestId"]
          return typeof id === "string" || typeof id === "number" ? FiberMap.remove(session.inflight, id) : Effect.void
        }
        default:
          return Effect.void
      }
    }

    return { handleRequest, handleNotification, toolNames: tools.map((t) => t.definition.name) }
  })

/** `resource_link` content is dropped for clients of revisions that do not know it. */
const forVersion = (result: CallToolResult, version: string): CallToolResult =>
  version >= resourceLinksSince ? result : { ...result, content: result.content.filter((c) => c.type !== "resource_link") }

export const layer = <R>(tools: ReadonlyArray<Tool<R>>, resources?: ResourceProvider<R>): Layer.Layer<McpServer, never, R> =>
  Layer.effect(McpServer, make(tools, resources))
