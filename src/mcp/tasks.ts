import { Effect, Option } from "effect"
import type { TaskView } from "../tasks/TaskRunner.js"
import type { StorageError } from "../services/storage/ObjectStore.js"
import { type InvalidTaskCursor, type TaskAlreadyEnded, type TaskNotFound, TaskRunner, type TooManyTasks } from "../tasks/TaskRunner.js"
import type { TaskOwner } from "../tasks/TaskStore.js"
import { ErrorCode, errorResponse, type JsonRpcRequest, type JsonRpcResponse, resultResponse } from "./jsonrpc.js"
import type { Session } from "./session.js"
import type { CallToolResult } from "./tool.js"

/**
 * MCP tasks on the wire, in both revisions that define them; the work itself is TaskRunner's.
 * - 2025-11-25 (experimental there): a client augments `tools/call` with `task: { ttl }` and gets
 *   `{ task }` at once; `tasks/get`, `tasks/result`, `tasks/list` and `tasks/cancel` follow it.
 * - 2026-07-28, the Tasks extension (`io.modelcontextprotocol/tasks`, SEP-2663): for a request that
 *   declares the extension the server decides that a call becomes a task and answers with the task
 *   itself (`resultType: "task"`); `tasks/get` inlines the result once it has ended, `tasks/cancel`
 *   acknowledges, `tasks/update` is for input the server's tools never ask for.
 */

export const tasksSince = "2025-11-25"

export const tasksCapability = { list: {}, cancel: {}, requests: { tools: { call: {} } } }

export const taskExecution = { taskSupport: "optional" } as const

export const RELATED_TASK = "io.modelcontextprotocol/related-task"

export const taskMethods: ReadonlySet<string> = new Set(["tasks/get", "tasks/result", "tasks/list", "tasks/cancel"])

/**
 * Whom tasks belong to: the OAuth subject; else the shared MCP_AUTH_TOKEN (every holder is the same
 * credential); else, with no auth, `unauthenticated` (a 2025 session; whoever holds the id on 2026).
 */
export const ownerOf = (subject: Option.Option<string>, tokenAuth: boolean, unauthenticated: TaskOwner): TaskOwner =>
  Option.match(subject, {
    onSome: (subject): TaskOwner => ({ _tag: "Subject", subject }),
    onNone: (): TaskOwner => tokenAuth ? { _tag: "SharedToken" } : unauthenticated
  })

/** A 2025 session's tasks: its subject's, the token's, or the session's own. */
export const sessionOwner = (session: Session, tokenAuth: boolean): TaskOwner =>
  ownerOf(session.subject, tokenAuth, { _tag: "Session", sessionId: session.id })

/** A `tools/call`'s task request: None without one; its ttl in ms when given; a message when malformed. */
export const taskRequestOf = (request: JsonRpcRequest): Option.Option<{ readonly ttlMs?: number } | string> => {
  const task = request.params?.["task"]
  if (task === undefined) return Option.none()
  if (typeof task !== "object" || task === null || Array.isArray(task)) return Option.some("params.task must be an object ({ ttl?: milliseconds })")
  const ttl = (task as { readonly ttl?: unknown }).ttl
  if (ttl === undefined || ttl === null) return Option.some({})
  return typeof ttl === "number" && Number.isInteger(ttl) && ttl > 0
    ? Option.some({ ttlMs: ttl })
    : Option.some("params.task.ttl must be a positive whole number of milliseconds")
}

type TaskFailure = TaskNotFound | TaskAlreadyEnded | InvalidTaskCursor | TooManyTasks | StorageError

/** Task errors the client caused are -32602 (MCP); the server's own trouble (capacity, storage) is -32603, said plainly. */
export const taskErrorResponse = (request: JsonRpcRequest, failure: TaskFailure): JsonRpcResponse => {
  switch (failure._tag) {
    case "TaskNotFound":
    case "TaskAlreadyEnded":
    case "InvalidTaskCursor":
      return errorResponse(request.id, ErrorCode.InvalidParams, failure.message)
    default:
      return errorResponse(request.id, ErrorCode.InternalError, failure.message)
  }
}

/** What one tasks/* method answers for `owner`; `adapt` fits a result to the session's revision. */
const taskAnswer = (
  runner: TaskRunner["Type"],
  owner: TaskOwner,
  request: JsonRpcRequest,
  taskId: string,
  adapt: (result: CallToolResult) => CallToolResult
): Effect.Effect<object, TaskFailure> => {
  switch (request.method) {
    case "tasks/get":
      return runner.get(owner, taskId)
    case "tasks/cancel":
      return runner.cancel(owner, taskId)
    case "tasks/result":
      return Effect.map(runner.result(owner, taskId), ({ result }) => ({ ...adapt(result), _meta: { [RELATED_TASK]: { taskId } } }))
    default: {
      const cursor = request.params?.["cursor"]
      return cursor === undefined || typeof cursor === "string" ? runner.list(owner, cursor) : runner.list(owner, "")
    }
  }
}

/** `tasks/get`, `tasks/result`, `tasks/list` and `tasks/cancel` for `owner`. */
export const handleTaskRequest = (
  owner: TaskOwner,
  request: JsonRpcRequest,
  adapt: (result: CallToolResult) => CallToolResult
): Effect.Effect<JsonRpcResponse, never, TaskRunner> =>
  Effect.gen(function* () {
    const taskId = request.params?.["taskId"]
    if (request.method !== "tasks/list" && typeof taskId !== "string") {
      return errorResponse(request.id, ErrorCode.InvalidParams, `${request.method} needs params.taskId`)
    }
    return yield* taskAnswer(yield* TaskRunner, owner, request, typeof taskId === "string" ? taskId : "", adapt).pipe(
      Effect.match({
        onFailure: (failure) => taskErrorResponse(request, failure),
        onSuccess: (result) => resultResponse(request.id, result)
      })
    )
  })

export const TASKS_EXTENSION = "io.modelcontextprotocol/tasks"

/** The methods of the extension; requests for them must declare it (else -32021, before anything runs). */
export const extensionTaskMethods: ReadonlySet<string> = new Set(["tasks/get", "tasks/update", "tasks/cancel"])

export const tasksExtensionRequired = { extensions: { [TASKS_EXTENSION]: {} } }

const isObject = (value: unknown): value is Readonly<Record<string, unknown>> => typeof value === "object" && value !== null && !Array.isArray(value)

/** Whether a 2026-07-28 request's client capabilities declare the Tasks extension. */
export const declaresTasks = (clientCapabilities: unknown): boolean =>
  isObject(clientCapabilities) && isObject(clientCapabilities["extensions"]) && isObject(clientCapabilities["extensions"][TASKS_EXTENSION])

/** A task as the extension writes it: durations with their unit in the name. */
export const extensionTask = (task: TaskView) => ({
  taskId: task.taskId,
  status: task.status,
  statusMessage: task.statusMessage,
  createdAt: task.createdAt,
  lastUpdatedAt: task.lastUpdatedAt,
  ttlMs: task.ttl,
  pollIntervalMs: task.pollInterval
})

/** `tasks/get`, `tasks/cancel`, `tasks/update` of the Tasks extension for `owner`. */
export const handleExtensionTaskRequest = (owner: TaskOwner, request: JsonRpcRequest): Effect.Effect<JsonRpcResponse, never, TaskRunner> =>
  Effect.gen(function* () {
    const runner = yield* TaskRunner
    const taskId = request.params?.["taskId"]
    if (typeof taskId !== "string") return errorResponse(request.id, ErrorCode.InvalidParams, `${request.method} needs params.taskId`)
    const answer: Effect.Effect<JsonRpcResponse, TaskFailure> = (() => {
      switch (request.method) {
        case "tasks/cancel":
          // An acknowledgement, also for a task that has already ended (idempotent); tasks/get shows the status.
          return runner.cancel(owner, taskId).pipe(
            Effect.catchTag("TaskAlreadyEnded", () => Effect.void),
            Effect.as(resultResponse(request.id, {}))
          )
        case "tasks/update":
          return Effect.map(runner.get(owner, taskId), (task) =>
            errorResponse(request.id, ErrorCode.InvalidParams, `Task ${taskId} is ${task.status}, not waiting for input: this server's tools never ask for any.`))
        default:
          // Once ended: the tool's result (a tool error too: completed with isError), or the server's own failure as an error.
          return Effect.map(runner.inspect(owner, taskId), ({ result, task }) =>
            resultResponse(request.id, {
              ...extensionTask(task),
              ...Option.match(result, {
                onNone: () => ({}),
                onSome: (ended) =>
                  task.status === "completed" ? { result: ended }
                  : task.status === "failed" ? { error: { code: ErrorCode.InternalError, message: task.statusMessage } }
                  : {}
              })
            }))
      }
    })()
    return yield* answer.pipe(Effect.catchAll((failure) => Effect.succeed(taskErrorResponse(request, failure))))
  })
