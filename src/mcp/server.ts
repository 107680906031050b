import { randomUUID } from "node:crypto"
import { Cause, Context, Effect, Either, Exit, Fiber, FiberMap, FiberRef, Layer, Option, Ref, Schema, type Tracer } from "effect"
import { type McpRequest, paramsOf, toolNameOf } from "./incoming.js"
import { type JsonRpcNotification, type JsonRpcResponse, notification, type RequestId, resultResponse } from "./jsonrpc.js"
import { type CallToolParams, type CallToolResult, CancelledParams, type ProgressToken } from "./messages.js"
import { instructions, negotiateVersion, serverInfo } from "./protocol.js"
import { InternalError, InvalidParams, MethodNotFound, type RpcError, rpcErrorResponse } from "./rpcErrors.js"
import { currentSubject, type LogLevel, logLevels, type Session } from "./session.js"
import { invalidCursor, type ResourceFailure, type ResourceProvider, resourceLinksSince } from "./resources.js"
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
  taskExecution,
  taskMethods,
  taskRpcError,
  tasksCapability,
  TASKS_EXTENSION,
  tasksExtensionRequired,
  tasksSince
} from "./tasks.js"
import { type ProgressUpdate, type Tool, ToolContext } from "./tool.js"
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
  readonly handleRequest: (session: Session, request: McpRequest, channel: Channel) => Effect.Effect<Option.Option<JsonRpcResponse>>
  /**
   * Runs a session's request detached from the connection that brought it, as one fiber in the
   * session's `inflight` map under its id: it outlives that connection, ends with the session, and
   * notifications/cancelled interrupts it. `answer` gets the response (None when cancelled or interrupted).
   */
  readonly runDetached: (
    session: Session,
    request: McpRequest,
    channel: Channel,
    answer: (response: Option.Option<JsonRpcResponse>) => Effect.Effect<void>
  ) => Effect.Effect<void>
  readonly handleNotification: (session: Session, message: JsonRpcNotification) => Effect.Effect<void>
  /** Answers one 2026-07-28 request from what it carries alone (its envelope already validated); None when interrupted. */
  readonly handleStateless: (request: McpRequest, envelope: Envelope, channel: Channel) => Effect.Effect<Option.Option<JsonRpcResponse>>
  readonly toolNames: ReadonlyArray<string>
  /**
   * A `tools/call` of a tool that may run for minutes (its TaskPolicy, on this backend): its answer
   * streams at once, so keep-alive comments hold the connection open through proxies' idle timeouts
   * even when the call sends nothing (no progressToken) until its result. Not so for a 2026-07-28
   * request (its `envelope`) that declares the Tasks extension: that call becomes a task, answered at once.
   */
  readonly runsLong: (request: McpRequest, envelope?: Envelope) => boolean
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
  readonly run: <A, E>(id: RequestId, call: Effect.Effect<A, E>) => Effect.Effect<Exit.Exit<A, E>>
  /** A 2026-07-28 request that declares the Tasks extension: whose its tasks are. */
  readonly taskOwner: Option.Option<TaskOwner>
}

/** Where a session's request runs: `"inflight"` when it already is the fiber `inflight` holds under its id (runDetached). */
type SessionFiber = "inflight" | "caller"

const sessionCaller = (session: Session, runsIn: SessionFiber): Effect.Effect<Caller> =>
  Effect.map(Ref.get(session.protocolVersion), (version) => ({
    version,
    logLevel: Effect.map(Ref.get(session.logLevel), Option.some),
    run: runsIn === "inflight"
      ? (_id, call) => Effect.exit(call)
      : <A, E>(id: RequestId, call: Effect.Effect<A, E>) =>
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

const decodeCancelled = Schema.decodeUnknownOption(CancelledParams)

/**
 * What a handler gives: the result (None when the call was cancelled: no response is sent), or
 * the JSON-RPC error it fails with; `answered` turns either into the response.
 */
type Handled = Effect.Effect<Option.Option<object>, RpcError>

/** Made in no effect step: every call has one. */
const makeToolContext = (caller: Caller, progressToken: Option.Option<ProgressToken>, { closeStream, send }: Channel) => {
  // Only a call that asked for progress keeps the last value sent.
  const progress = Option.match(progressToken, {
    onNone: () => (_: ProgressUpdate) => Effect.void,
    onSome: (progressToken) => {
      const last = Ref.unsafeMake(Number.NEGATIVE_INFINITY)
      return (update: ProgressUpdate) =>
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
    }
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
}

/** The tracer a fiber has when none was installed: its spans reach no exporter. */
const defaultTracer = Effect.runSync(Effect.tracer)

/**
 * A 2025 session request's span, when a tracer is installed (an embedder's OpenTelemetry layer,
 * say). Without one it is left out: a span, its attributes and its parent context cost ~35 run-loop
 * steps, about a tenth of a quick call, and such a request carries no trace context to pass on.
 * (A 2026-07-28 request always has its span: it may carry the client's `traceparent`, which its
 * tools then run under.)
 */
const requestSpan = (name: string, options: Tracer.SpanOptions) => <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.tracerWith((tracer) => tracer === defaultTracer ? effect : Effect.withSpan(effect, name, options))

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
    const toolOf = (request: McpRequest) => {
      const name = toolNameOf(request)
      return name === undefined ? undefined : byName.get(name)
    }
    const callRunsLong = (request: McpRequest) => {
      const tool = toolOf(request)
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

    const initialize = (session: Session, request: McpRequest) =>
      Effect.gen(function* () {
        const version = negotiateVersion((yield* paramsOf(request, "initialize")).protocolVersion)
        yield* Ref.set(session.protocolVersion, version)
        return {
          protocolVersion: version,
          capabilities: withTasks(version) ? { ...capabilities, tasks: tasksCapability } : capabilities,
          serverInfo,
          instructions
        }
      })

    /**
     * The call runs detached and the client gets the task at once: `{ task }` for a 2025-11-25
     * session, the task itself with `resultType: "task"` for the 2026-07-28 Tasks extension.
     */
    const startTask = (
      owner: TaskOwner,
      tool: Tool<R>,
      params: CallToolParams,
      options: { readonly ttlMs?: number | undefined; readonly extension: boolean; readonly session?: Session }
    ) =>
      Option.match(taskRunner, {
        onNone: () => Effect.fail(new MethodNotFound({ message: "This server runs no tasks." })),
        onSome: (runner) =>
          // A task outlives the request's span: the tool's span of its own, with no stack capture (always this line).
          runner.start(owner, tool.call(params.arguments).pipe(Effect.provide(context), Effect.withSpan(`tool.${tool.definition.name}`, { captureStackTrace: false })), {
            tool: tool.definition.name,
            ttlMs: options.ttlMs,
            // A 2025 session hears when its task ends (2026-07-28 would say it on subscriptions/listen, not served here).
            onEnded: Option.match(Option.fromNullable(options.session), {
              onNone: () => undefined,
              onSome: (session) => (task) => session.notify(notification("notifications/tasks/status", { ...task }))
            })
          }).pipe(
            Effect.mapError(taskRpcError),
            Effect.map((view) => Option.some(options.extension ? { resultType: "task", ...extensionTask(view) } : { task: view }))
          )
      })

    // Not a generator: see requireSession in streamableHttp.ts (a quick call's objects promoted; ~2.8 KB a call here, measured).
    const callTool = (caller: Caller, request: McpRequest, channel: Channel, session?: Session): Handled =>
      Effect.flatMap(paramsOf(request, "tools/call"), (params): Handled => {
        const tool = byName.get(params.name)
        if (tool === undefined) {
          return Effect.fail(new InvalidParams({ message: `Unknown tool: ${params.name}. Call tools/list for the available tools.` }))
        }
        // 2026-07-28 drops `task` from tools/call: its Tasks extension decides on the server side.
        if (Option.isSome(caller.taskOwner) && runsLong(tool)) {
          return startTask(caller.taskOwner.value, tool, params, { extension: true })
        }
        if (session !== undefined && withTasks(caller.version) && params.task !== undefined) {
          if (tool.task === undefined) {
            return Effect.fail(new MethodNotFound({ message: `${tool.definition.name} does not run as a task (its execution.taskSupport is forbidden): call it without params.task.` }))
          }
          return startTask(sessionOwner(session, tokenAuth), tool, params, { ttlMs: params.task.ttl ?? undefined, extension: false, session })
        }
        const toolContext = makeToolContext(caller, Option.fromNullable(params._meta?.progressToken), channel)
        const program = tool.call(params.arguments).pipe(Effect.provide(Context.merge(context, toolContext)))
        return Effect.flatMap(caller.run(request.id, program), (exit): Handled => {
          if (Exit.isSuccess(exit)) return Effect.succeed(Option.some(forVersion(exit.value, caller.version)))
          if (Cause.isInterruptedOnly(exit.cause)) return Effect.succeedNone
          // A defect: `answered` logs it and answers -32603 with a trace id.
          return Effect.failCause(exit.cause)
        })
      })

    const internalError = (request: McpRequest, cause: Cause.Cause<unknown>) => {
      const traceId = randomUUID()
      return Effect.logError("defect while handling a request", cause).pipe(
        Effect.annotateLogs({ traceId, method: request.method }),
        Effect.as(rpcErrorResponse(request.id, new InternalError({ message: `Internal error (trace id ${traceId})` })))
      )
    }

    const setLevel = (session: Session, request: McpRequest) =>
      Effect.flatMap(paramsOf(request, "logging/setLevel"), ({ level }) => Effect.as(Ref.set(session.logLevel, level), {}))

    const toolList = {
      tools: tools.map((tool) =>
        Option.isSome(taskRunner) && tool.task !== undefined ? { ...tool.definition, execution: taskExecution } : tool.definition)
    }
    /** The tools fit one page: no cursor was ever issued, so any cursor is not ours. */
    const listTools = (request: McpRequest) =>
      Either.flatMap(paramsOf(request, "tools/list"), ({ cursor }) => cursor === undefined ? Either.right(toolList) : Either.left(invalidCursor))

    /** resources/list, resources/read and resources/templates/list, when the server has resources. */
    const resourceRequest = (request: McpRequest, version: string): Effect.Effect<object, RpcError> => {
      if (resources === undefined) return Effect.fail(MethodNotFound.of(request.method))
      // 2026-07-28 retired -32002 (resource not found) for -32602, which names the URI it refused in data.uri.
      const failed = (uri: string | undefined) => (failure: ResourceFailure): RpcError => {
        if (version < statelessVersion || failure._tag === "InternalError") return failure
        return new InvalidParams({ message: failure.message, ...(uri === undefined ? {} : { data: { uri } }) })
      }
      const answer = <A>(effect: Effect.Effect<A, ResourceFailure, R>, uri?: string) =>
        effect.pipe(Effect.provide(context), Effect.mapError(failed(uri)))
      switch (request.method) {
        case "resources/templates/list":
          return Effect.succeed({ resourceTemplates: resources.templates })
        case "resources/list":
          return Effect.flatMap(paramsOf(request, "resources/list"), ({ cursor }) => answer(resources.list(cursor)))
        default:
          return Effect.flatMap(paramsOf(request, "resources/read"), ({ uri }) =>
            answer(Effect.map(resources.read(uri), (contents) => ({ contents })), uri))
      }
    }

    const some = <A, E>(effect: Effect.Effect<A, E>) => Effect.map(effect, Option.some)

    /** The methods every revision shares; None for one it does not know. */
    const dispatchShared = (caller: Caller, request: McpRequest, channel: Channel, session?: Session): Option.Option<Handled> => {
      switch (request.method) {
        case "tools/list":
          return Option.some(some(listTools(request)))
        case "tools/call":
          return Option.some(callTool(caller, request, channel, session))
        case "resources/list":
        case "resources/read":
        case "resources/templates/list":
          return Option.some(some(resourceRequest(request, caller.version)))
        default:
          return Option.none()
      }
    }

    const methodNotFound = (request: McpRequest): Handled => Effect.fail(MethodNotFound.of(request.method))

    const dispatch = (session: Session, request: McpRequest, channel: Channel, runsIn: SessionFiber): Handled => {
      switch (request.method) {
        case "initialize":
          return some(initialize(session, request))
        case "ping":
          return Effect.succeed(Option.some({}))
        case "logging/setLevel":
          return some(setLevel(session, request))
        default:
          return sessionCaller(session, runsIn).pipe(
            Effect.flatMap((caller): Handled =>
              taskMethods.has(request.method) && Option.isSome(taskRunner) && withTasks(caller.version)
                ? caller.run(request.id, handleTaskRequest(sessionOwner(session, tokenAuth), request, (result) => forVersion(result, caller.version)).pipe(
                  Effect.provideService(TaskRunner, taskRunner.value)
                )).pipe(Effect.flatMap((exit): Handled =>
                  Exit.isSuccess(exit) ? Effect.succeedSome(exit.value)
                  : Cause.isInterruptedOnly(exit.cause) ? Effect.succeedNone
                  : Effect.failCause(exit.cause)))
                : Option.getOrElse(dispatchShared(caller, request, channel, session), () => methodNotFound(request)))
          )
      }
    }

    /** Results and typed failures become the response; defects -32603 with a trace id; an interrupted request gets no answer. */
    const answered = (request: McpRequest) => (effect: Handled): Effect.Effect<Option.Option<JsonRpcResponse>> =>
      // One match for every outcome: it runs for every request.
      Effect.matchCauseEffect(effect, {
        onFailure: (cause) =>
          Option.match(Cause.failureOption(cause), {
            onSome: (error) => Effect.succeedSome(rpcErrorResponse(request.id, error)),
            onNone: () => Cause.isInterruptedOnly(cause) ? Effect.succeedNone : Effect.map(internalError(request, cause), Option.some)
          }),
        onSuccess: (result) => Effect.succeed(Option.map(result, (body) => resultResponse(request.id, body)))
      })

    /** A request's span names the tool it calls (the call has no span of its own: one span per request is enough). */
    const spanAttributes = (request: McpRequest): Record<string, string> => {
      const tool = toolNameOf(request)
      return tool === undefined ? { "mcp.method.name": request.method } : { "mcp.method.name": request.method, "gen_ai.tool.name": tool }
    }

    const respond = (session: Session, request: McpRequest, channel: Channel, runsIn: SessionFiber) =>
      // No stack trace on the span: it is made here for every request, so it would always say this line.
      dispatch(session, request, channel, runsIn).pipe(
        answered(request),
        requestSpan(`mcp.${request.method}`, { captureStackTrace: false, attributes: spanAttributes(request) })
      )

    const handleRequest = (session: Session, request: McpRequest, channel: Channel) => respond(session, request, channel, "caller")

    const runDetached = (
      session: Session,
      request: McpRequest,
      channel: Channel,
      answer: (response: Option.Option<JsonRpcResponse>) => Effect.Effect<void>
    ) =>
      Effect.flatMap(
        FiberMap.run(session.inflight, request.id, Effect.flatMap(respond(session, request, channel, "inflight"), answer)),
        (fiber) => Effect.sync(() => fiber.addObserver(answerInterrupted(answer)))
      )

    const statelessCapabilities = {
      ...capabilities,
      extensions: Option.isSome(taskRunner) ? { ...extensions, [TASKS_EXTENSION]: {} } : extensions
    }
    const discovery = { supportedVersions: allVersions, capabilities: statelessCapabilities, instructions, ...cacheHints.static }

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

    const handleStateless = (request: McpRequest, envelope: Envelope, channel: Channel) => {
      const tasksDeclared = Option.isSome(taskRunner) && declaresTasks(envelope[MetaKey.clientCapabilities])
      const dispatched = Effect.flatMap(tasksDeclared ? Effect.map(statelessOwner, Option.some) : Effect.succeedNone, (taskOwner): Handled => {
        const caller = statelessCaller(envelope, taskOwner)
        if (request.method === "server/discover") return Effect.succeed(Option.some(discovery))
        if (extensionTaskMethods.has(request.method) && Option.isSome(taskOwner) && Option.isSome(taskRunner)) {
          return some(handleExtensionTaskRequest(taskOwner.value, request).pipe(Effect.provideService(TaskRunner, taskRunner.value)))
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
          attributes: { "mcp.protocol.version": statelessVersion, ...spanAttributes(request) }
        })
      )
    }

    const handleNotification = (session: Session, message: JsonRpcNotification) => {
      switch (message.method) {
        case "notifications/initialized":
          return Ref.set(session.initialized, true)
        case "notifications/cancelled":
          // A malformed cancellation names no request of ours: nothing to do.
          return Option.match(decodeCancelled(message.params ?? {}), {
            onNone: () => Effect.void,
            onSome: ({ requestId }) => FiberMap.remove(session.inflight, requestId)
          })
        default:
          return Effect.void
      }
    }

    const mirrored = new Map(tools.map((tool) => [tool.definition.name, mirroredArgumentsOf(tool.definition.inputSchema)]))
    const mirroredArguments = (request: McpRequest) => {
      const name = toolNameOf(request)
      return (name === undefined ? undefined : mirrored.get(name)) ?? []
    }

    const requiredClientCapabilities = (request: McpRequest): ClientCapabilities =>
      extensionTaskMethods.has(request.method) ? tasksExtensionRequired : toolOf(request)?.requiredClientCapabilities ?? {}

    return {
      handleRequest,
      runDetached,
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

/**
 * A detached call interrupted before it answered (cancelled, or its session ended) answers None,
 * so that its HTTP answer is not left waiting. Seen from the fiber's end, not with `Effect.onInterrupt`
 * inside it: that masks interruption around the whole call, and a quick call's objects then
 * outlive it in V8's young generation long enough to be promoted (~3 KB a call, measured).
 */
const answerInterrupted = (answer: (response: Option.Option<JsonRpcResponse>) => Effect.Effect<void>) => (exit: Exit.Exit<unknown, unknown>) => {
  if (Exit.isFailure(exit) && Cause.isInterruptedOnly(exit.cause)) Effect.runFork(answer(Option.none()))
}

/** `resource_link` content is dropped for clients of revisions that do not know it. */
const forVersion = (result: CallToolResult, version: string): CallToolResult =>
  version >= resourceLinksSince ? result : { ...result, content: result.content.filter((c) => c.type !== "resource_link") }

export const layer = <R>(tools: ReadonlyArray<Tool<R>>, resources?: ResourceProvider<R>, extensions?: Extensions): Layer.Layer<McpServer, never, R> =>
  Layer.effect(McpServer, make(tools, resources, extensions))
