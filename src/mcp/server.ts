import { randomUUID } from "node:crypto"
import { Cause, Context, Effect, Exit, Fiber, FiberMap, FiberRef, Layer, Option, Ref } from "effect"
import {
  ErrorCode,
  errorResponse,
  type JsonRpcNotification,
  type JsonRpcRequest,
  type JsonRpcResponse,
  notification,
  type RequestId,
  resultResponse
} from "./jsonrpc.js"
import { instructions, negotiateVersion, serverInfo } from "./protocol.js"
import { currentSubject, type LogLevel, logLevels, type Session } from "./session.js"
import {
  invalidCursor,
  RESOURCE_NOT_FOUND,
  type ResourceFailure,
  type ResourceProvider,
  resourceLinksSince
} from "./resources.js"
import {
  allVersions,
  type ClientCapabilities,
  type Envelope,
  MetaKey,
  mirroredArgumentsOf,
  parentSpanOf,
  type StatelessOffer,
  statelessVersion
} from "./stateless.js"
import {
  declaresTasks,
  extensionTask,
  extensionTaskMethods,
  handleExtensionTaskRequest,
  handleTaskRequest,
  ownerOf,
  sessionOwner,
  taskErrorResponse,
  taskExecution,
  taskMethods,
  taskRequestOf,
  tasksCapability,
  TASKS_EXTENSION,
  tasksExtensionRequired,
  tasksSince
} from "./tasks.js"
import { type CallToolResult, type ProgressUpdate, type Tool, ToolContext } from "./tool.js"
import { AppConfig } from "../config.js"
import { TaskRunner } from "../tasks/TaskRunner.js"
import type { TaskOwner } from "../tasks/TaskStore.js"

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
export class McpServer extends Context.Tag("estat-mcp/McpServer")<McpServer, StatelessOffer & {
  /** Answers one request; None when it was cancelled (then no response is sent). */
  readonly handleRequest: (session: Session, request: JsonRpcRequest, channel: Channel) => Effect.Effect<Option.Option<JsonRpcResponse>>
  readonly handleNotification: (session: Session, message: JsonRpcNotification) => Effect.Effect<void>
  /** Answers one 2026-07-28 request from what it carries alone (its envelope already validated); None when interrupted. */
  readonly handleStateless: (request: JsonRpcRequest, envelope: Envelope, channel: Channel) => Effect.Effect<Option.Option<JsonRpcResponse>>
  readonly toolNames: ReadonlyArray<string>
  /**
   * A `tools/call` of a tool that may run for minutes (its TaskPolicy, on this backend): its answer
   * streams at once, so keep-alive comments hold the connection open through proxies' idle timeouts
   * even when the call sends nothing (no progressToken) until its result. Not so for a 2026-07-28
   * request (its `envelope`) that declares the Tasks extension: that call becomes a task, answered at once.
   */
  readonly runsLong: (request: JsonRpcRequest, envelope?: Envelope) => boolean
}>() {}

/**
 * Who a request comes from, as far as a handler needs to know: a 2025 session (its negotiated
 * version, its log level, cancellation by notifications/cancelled) or a 2026-07-28 request's own
 * envelope (log messages only when it names a level; cancelled when its stream closes).
 */
interface Caller {
  readonly version: string
  /** The level from which log messages are sent; None sends none. */
  readonly logLevel: Effect.Effect<Option.Option<LogLevel>>
  /** Runs a call where it can be cancelled; the exit is interrupted when it was. */
  readonly run: <A>(id: RequestId, call: Effect.Effect<A>) => Effect.Effect<Exit.Exit<A>>
  /** A 2026-07-28 request that declares the Tasks extension: whose its tasks are. */
  readonly taskOwner: Option.Option<TaskOwner>
}

const sessionCaller = (session: Session): Effect.Effect<Caller> =>
  Effect.map(Ref.get(session.protocolVersion), (version) => ({
    version,
    logLevel: Effect.map(Ref.get(session.logLevel), Option.some),
    run: <A>(id: RequestId, call: Effect.Effect<A>) =>
      FiberMap.run(session.inflight, id, call).pipe(
        Effect.flatMap(Fiber.await),
        Effect.tap(() => FiberMap.remove(session.inflight, id))
      ),
    taskOwner: Option.none()
  }))

const statelessCaller = (envelope: Envelope, taskOwner: Option.Option<TaskOwner>): Caller => ({
  version: statelessVersion,
  logLevel: Effect.succeed(Option.fromNullable(envelope[MetaKey.logLevel])),
  run: (_id, call) => Effect.exit(call),
  taskOwner
})

/** List results a client or a shared cache may keep (2026-07-28 `CacheableResult`). */
const cacheHints = {
  /** The tool list and templates change only with a deployment. */
  static: { ttlMs: 300_000, cacheScope: "public" },
  /** Stored files come and go as calls write them, for whoever holds the token. */
  files: { ttlMs: 0, cacheScope: "private" }
} as const

const levelRank = (level: LogLevel) => logLevels.indexOf(level)
const isLogLevel = (value: unknown): value is LogLevel => logLevels.some((l) => l === value)

const progressTokenOf = (request: JsonRpcRequest): Option.Option<string | number> => {
  const meta = request.params?.["_meta"]
  if (typeof meta !== "object" || meta === null) return Option.none()
  const token = (meta as { readonly progressToken?: unknown }).progressToken
  return typeof token === "string" || typeof token === "number" ? Option.some(token) : Option.none()
}

const makeToolContext = (caller: Caller, request: JsonRpcRequest, { closeStream, send }: Channel) =>
  Effect.gen(function* () {
    // Only a call that asked for progress keeps the last value sent.
    const progress = yield* Option.match(progressTokenOf(request), {
      onNone: () => Effect.succeed((_: ProgressUpdate) => Effect.void),
      onSome: (progressToken) =>
        Effect.map(Ref.make(Number.NEGATIVE_INFINITY), (last) => (update: ProgressUpdate) =>
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
          ))
    })
    const log = (level: LogLevel, data: unknown) =>
      caller.logLevel.pipe(
        Effect.flatMap((threshold) =>
          Option.isSome(threshold) && levelRank(level) >= levelRank(threshold.value)
            ? send(notification("notifications/message", { level, logger: serverInfo.name, data }))
            : Effect.void
        )
      )
    return Context.make(ToolContext, { progress, log, closeStream })
  })

/** Protocol extensions the server offers (SEP-1724), by identifier, with their settings: `io.modelcontextprotocol/ui` for MCP Apps. */
export type Extensions = Readonly<Record<string, Readonly<Record<string, unknown>>>>

export const make = <R>(
  tools: ReadonlyArray<Tool<R>>,
  resources?: ResourceProvider<R>,
  extensions: Extensions = {}
): Effect.Effect<Context.Tag.Service<McpServer>, never, R> =>
  Effect.gen(function* () {
    const context = yield* Effect.context<R>()
    const byName = new Map(tools.map((tool) => [tool.definition.name, tool]))
    /** Tasks (2025-11-25 sessions) when a TaskRunner is provided. */
    const taskRunner = yield* Effect.serviceOption(TaskRunner)
    const config = yield* Effect.serviceOption(AppConfig)
    const tokenAuth = Option.match(config, { onNone: () => false, onSome: (settings) => Option.isSome(settings.authToken) })
    const onAws = Option.match(config, { onNone: () => false, onSome: (settings) => settings.backend === "aws" })
    /** On 2026-07-28 the server decides: a call of a tool that may run long becomes a task (see TaskPolicy). */
    const runsLong = (tool: Tool<R>) => tool.task !== undefined && (tool.task.runsLong === "always" || onAws)
    const callRunsLong = (request: JsonRpcRequest) => {
      const name = request.method === "tools/call" ? request.params?.["name"] : undefined
      const tool = typeof name === "string" ? byName.get(name) : undefined
      return tool !== undefined && runsLong(tool)
    }
    const capabilities = {
      tools: { listChanged: false },
      ...(resources === undefined ? {} : { resources: { listChanged: false, subscribe: false } }),
      logging: {},
      // 2025 sessions read extensions from initialize's capabilities too (SEP-1724); none: the key is left out.
      ...(Object.keys(extensions).length === 0 ? {} : { extensions })
    }
    const withTasks = (version: string) => Option.isSome(taskRunner) && version >= tasksSince

    const initialize = (session: Session, request: JsonRpcRequest) =>
      Effect.gen(function* () {
        const version = negotiateVersion(request.params?.["protocolVersion"])
        yield* Ref.set(session.protocolVersion, version)
        return resultResponse(request.id, {
          protocolVersion: version,
          capabilities: withTasks(version) ? { ...capabilities, tasks: tasksCapability } : capabilities,
          serverInfo,
          instructions
        })
      })

    /**
     * The call runs detached and the client gets the task at once: `{ task }` for a 2025-11-25
     * session, the task itself with `resultType: "task"` for the 2026-07-28 Tasks extension.
     */
    const startTask = (
      owner: TaskOwner,
      tool: Tool<R>,
      request: JsonRpcRequest,
      options: { readonly ttlMs?: number; readonly extension: boolean; readonly session?: Session }
    ) =>
      Option.match(taskRunner, {
        onNone: () => Effect.succeed(errorResponse(request.id, ErrorCode.MethodNotFound, "This server runs no tasks.")),
        onSome: (runner) =>
          runner.start(owner, tool.call(request.params?.["arguments"]).pipe(Effect.provide(context)), {
            tool: tool.definition.name,
            ttlMs: options.ttlMs,
            // A 2025 session hears when its task ends (2026-07-28 would say it on subscriptions/listen, not served here).
            onEnded: Option.match(Option.fromNullable(options.session), {
              onNone: () => undefined,
              onSome: (session) => (task) => session.notify(notification("notifications/tasks/status", { ...task }))
            })
          }).pipe(Effect.match({
            onFailure: (failure) => taskErrorResponse(request, failure),
            onSuccess: (view) => resultResponse(request.id, options.extension ? { resultType: "task", ...extensionTask(view) } : { task: view })
          }))
      })

    const callTool = (caller: Caller, request: JsonRpcRequest, channel: Channel, session?: Session) =>
      Effect.gen(function* () {
        const name = request.params?.["name"]
        const tool = typeof name === "string" ? byName.get(name) : undefined
        if (tool === undefined) {
          return Option.some(errorResponse(request.id, ErrorCode.InvalidParams, `Unknown tool: ${String(name)}. Call tools/list for the available tools.`))
        }
        // 2026-07-28 drops `task` from tools/call: its Tasks extension decides on the server side.
        if (Option.isSome(caller.taskOwner) && runsLong(tool)) {
          return Option.some(yield* startTask(caller.taskOwner.value, tool, request, { extension: true }))
        }
        const task = session !== undefined && withTasks(caller.version) ? taskRequestOf(request) : Option.none()
        if (session !== undefined && Option.isSome(task)) {
          if (typeof task.value === "string") return Option.some(errorResponse(request.id, ErrorCode.InvalidParams, task.value))
          if (tool.task === undefined) {
            return Option.some(errorResponse(request.id, ErrorCode.MethodNotFound, `${tool.definition.name} does not run as a task (its execution.taskSupport is forbidden): call it without params.task.`))
          }
          return Option.some(yield* startTask(sessionOwner(session, tokenAuth), tool, request, { ...task.value, extension: false, session }))
        }
        const toolContext = yield* makeToolContext(caller, request, channel)
        const program = tool.call(request.params?.["arguments"]).pipe(
          Effect.provide(Context.merge(context, toolContext))
        )
        const exit = yield* caller.run(request.id, program)
        if (Exit.isSuccess(exit)) return Option.some(resultResponse(request.id, forVersion(exit.value, caller.version)))
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

    const toolList = {
      tools: tools.map((tool) =>
        Option.isSome(taskRunner) && tool.task !== undefined ? { ...tool.definition, execution: taskExecution } : tool.definition)
    }
    /** The tools fit one page: no cursor was ever issued, so any cursor is not ours. */
    const listTools = (request: JsonRpcRequest) =>
      request.params?.["cursor"] === undefined
        ? resultResponse(request.id, toolList)
        : errorResponse(request.id, invalidCursor.code, invalidCursor.message)

    /** resources/list, resources/read and resources/templates/list, when the server has resources. */
    const resourceRequest = (request: JsonRpcRequest, version: string): Effect.Effect<JsonRpcResponse> => {
      if (resources === undefined) return Effect.succeed(errorResponse(request.id, ErrorCode.MethodNotFound, `Method not found: ${request.method}`))
      // 2026-07-28 retired -32002 (resource not found) for -32602, which names the URI it refused in data.uri.
      const failed = (failure: ResourceFailure) => {
        if (version < statelessVersion) return errorResponse(request.id, failure.code, failure.message)
        const code = failure.code === RESOURCE_NOT_FOUND ? ErrorCode.InvalidParams : failure.code
        const uri = request.params?.["uri"]
        return errorResponse(request.id, code, failure.message, code === ErrorCode.InvalidParams && typeof uri === "string" ? { uri } : undefined)
      }
      const answer = <A>(effect: Effect.Effect<A, ResourceFailure, R>) =>
        effect.pipe(
          Effect.provide(context),
          Effect.match({
            onFailure: failed,
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

    /** The methods every revision shares; None for one it does not know. */
    const dispatchShared = (caller: Caller, request: JsonRpcRequest, channel: Channel, session?: Session): Option.Option<Effect.Effect<Option.Option<JsonRpcResponse>>> => {
      switch (request.method) {
        case "tools/list":
          return Option.some(Effect.succeed(Option.some(listTools(request))))
        case "tools/call":
          return Option.some(callTool(caller, request, channel, session))
        case "resources/list":
        case "resources/read":
        case "resources/templates/list":
          return Option.some(Effect.map(resourceRequest(request, caller.version), Option.some))
        default:
          return Option.none()
      }
    }

    const methodNotFound = (request: JsonRpcRequest) =>
      Effect.succeed(Option.some(errorResponse(request.id, ErrorCode.MethodNotFound, `Method not found: ${request.method}`)))

    const dispatch = (session: Session, request: JsonRpcRequest, channel: Channel): Effect.Effect<Option.Option<JsonRpcResponse>> => {
      switch (request.method) {
        case "initialize":
          return Effect.map(initialize(session, request), Option.some)
        case "ping":
          return Effect.succeed(Option.some(resultResponse(request.id, {})))
        case "logging/setLevel":
          return Effect.map(setLevel(session, request), Option.some)
        default:
          return sessionCaller(session).pipe(
            Effect.flatMap((caller) =>
              taskMethods.has(request.method) && Option.isSome(taskRunner) && withTasks(caller.version)
                ? caller.run(request.id, handleTaskRequest(sessionOwner(session, tokenAuth), request, (result) => forVersion(result, caller.version)).pipe(
                  Effect.provideService(TaskRunner, taskRunner.value)
                )).pipe(Effect.map((exit) => Exit.isSuccess(exit) ? Option.some(exit.value) : Option.none()))
                : Option.getOrElse(dispatchShared(caller, request, channel, session), () => methodNotFound(request)))
          )
      }
    }

    /** Defects become -32603 with a trace id; an interrupted request gets no answer. */
    const answered = (request: JsonRpcRequest) => (effect: Effect.Effect<Option.Option<JsonRpcResponse>>) =>
      effect.pipe(
        Effect.catchAllCause((cause) =>
          Cause.isInterruptedOnly(cause) ? Effect.succeed(Option.none()) : Effect.map(internalError(request, cause), Option.some)
        )
      )

    const handleRequest = (session: Session, request: JsonRpcRequest, channel: Channel) =>
      // No stack trace on the span: it is made here for every request, so it would always say this line.
      dispatch(session, request, channel).pipe(answered(request), Effect.withSpan(`mcp.${request.method}`, { captureStackTrace: false }))

    const statelessCapabilities = {
      ...capabilities,
      extensions: Option.isSome(taskRunner) ? { ...extensions, [TASKS_EXTENSION]: {} } : extensions
    }
    const discover = (request: JsonRpcRequest) =>
      resultResponse(request.id, { supportedVersions: allVersions, capabilities: statelessCapabilities, instructions, ...cacheHints.static })

    const cacheHintsOf = (method: string) => {
      switch (method) {
        case "tools/list":
        case "resources/templates/list":
          return cacheHints.static
        case "resources/list":
        case "resources/read":
          return cacheHints.files
        default:
          return {}
      }
    }

    /** Every 2026-07-28 result says what it is (complete, or a task) and names the server (no session remembers it). */
    const statelessResult = (method: string) => (response: JsonRpcResponse): JsonRpcResponse =>
      "result" in response && typeof response.result === "object" && response.result !== null
        ? resultResponse(response.id, {
          // "complete" unless the handler says otherwise (a task: "task").
          resultType: "complete",
          ...response.result,
          ...cacheHintsOf(method),
          _meta: { [MetaKey.serverInfo]: serverInfo }
        })
        : response

    const statelessMethods: ReadonlySet<string> = new Set([
      "server/discover",
      "tools/list",
      "tools/call",
      ...(resources === undefined ? [] : ["resources/list", "resources/read", "resources/templates/list"]),
      ...(Option.isSome(taskRunner) ? extensionTaskMethods : [])
    ])

    /** Whose a 2026-07-28 request's tasks are: the OAuth subject, the shared token, or whoever holds the id. */
    const statelessOwner = Effect.map(FiberRef.get(currentSubject), (subject) => ownerOf(subject, tokenAuth, { _tag: "IdHolder" }))

    const handleStateless = (request: JsonRpcRequest, envelope: Envelope, channel: Channel) => {
      const tasksDeclared = Option.isSome(taskRunner) && declaresTasks(envelope[MetaKey.clientCapabilities])
      const dispatched = Effect.flatMap(tasksDeclared ? Effect.map(statelessOwner, Option.some) : Effect.succeedNone, (taskOwner) => {
        const caller = statelessCaller(envelope, taskOwner)
        if (request.method === "server/discover") return Effect.succeed(Option.some(discover(request)))
        if (extensionTaskMethods.has(request.method) && Option.isSome(taskOwner) && Option.isSome(taskRunner)) {
          return Effect.map(handleExtensionTaskRequest(taskOwner.value, request).pipe(Effect.provideService(TaskRunner, taskRunner.value)), Option.some)
        }
        return Option.getOrElse(dispatchShared(caller, request, channel), () => methodNotFound(request))
      })
      const parent = parentSpanOf(envelope.traceparent)
      return dispatched.pipe(
        answered(request),
        Effect.map(Option.map(statelessResult(request.method))),
        // The client's trace context (`_meta.traceparent`) makes this request's span part of its trace.
        Effect.withSpan(`mcp.${request.method}`, {
          ...(Option.isSome(parent) ? { parent: parent.value } : {}),
          captureStackTrace: false,
          attributes: { "mcp.protocol.version": statelessVersion, "mcp.method.name": request.method }
        })
      )
    }

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

    const mirrored = new Map(tools.map((tool) => [tool.definition.name, mirroredArgumentsOf(tool.definition.inputSchema)]))
    const mirroredArguments = (request: JsonRpcRequest) => {
      const name = request.method === "tools/call" ? request.params?.["name"] : undefined
      return (typeof name === "string" ? mirrored.get(name) : undefined) ?? []
    }

    const requiredClientCapabilities = (request: JsonRpcRequest): ClientCapabilities => {
      if (extensionTaskMethods.has(request.method)) return tasksExtensionRequired
      const name = request.method === "tools/call" ? request.params?.["name"] : undefined
      return (typeof name === "string" ? byName.get(name)?.requiredClientCapabilities : undefined) ?? {}
    }

    return {
      handleRequest,
      handleNotification,
      handleStateless,
      statelessMethods,
      requiredClientCapabilities,
      mirroredArguments,
      toolNames: tools.map((t) => t.definition.name),
      runsLong: (request, envelope) =>
        callRunsLong(request) && !(envelope !== undefined && Option.isSome(taskRunner) && declaresTasks(envelope[MetaKey.clientCapabilities]))
    }
  })

/** `resource_link` content is dropped for clients of revisions that do not know it. */
const forVersion = (result: CallToolResult, version: string): CallToolResult =>
  version >= resourceLinksSince ? result : { ...result, content: result.content.filter((c) => c.type !== "resource_link") }

export const layer = <R>(tools: ReadonlyArray<Tool<R>>, resources?: ResourceProvider<R>, extensions?: Extensions): Layer.Layer<McpServer, never, R> =>
  Layer.effect(McpServer, make(tools, resources, extensions))
