import { Effect, Option } from "effect"
import type { TaskView } from "../tasks/TaskRunner.js"
import type { StorageError } from "../services/storage/ObjectStore.js"
import { type InvalidTaskCursor, type TaskAlreadyEnded, type TaskNotFound, TaskRunner, type TooManyTasks } from "../tasks/TaskRunner.js"
import type { TaskOwner } from "../tasks/TaskStore.js"
import type { McpRequest } from "./incoming.js"
import type { CallToolResult } from "./messages.js"
import { InternalError, InvalidParams, MethodNotFound } from "./rpcErrors.js"
import type { Session } from "./session.js"

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

type TaskFailure = TaskNotFound | TaskAlreadyEnded | InvalidTaskCursor | TooManyTasks | StorageError

/** Task errors the client caused are -32602 (MCP); the server's own trouble (capacity, storage) is -32603, said plainly. */
export const taskRpcError = (failure: TaskFailure): InvalidParams | InternalError => {
  switch (failure._tag) {
    case "TaskNotFound":
    case "TaskAlreadyEnded":
    case "InvalidTaskCursor":
      return new InvalidParams({ message: failure.message })
    default:
      return new InternalError({ message: failure.message })
  }
}

/** The decoded params of a tasks/* request (messages.ts): a task's id, or a page's cursor. */
const taskCallOf = (request: McpRequest) =>
  Effect.gen(function* () {
    const call = request.call
    if (call._tag === "Invalid") return yield* call.error
    if (call._tag === "Unread") return yield* MethodNotFound.of(request.method)
    switch (call.method) {
      case "tasks/get":
      case "tasks/result":
      case "tasks/cancel":
      case "tasks/update":
        return { method: call.method, taskId: call.params.taskId } as const
      case "tasks/list":
        return { method: call.method, cursor: call.params.cursor } as const
      default:
        return yield* MethodNotFound.of(request.method)
    }
  })

/** `tasks/get`, `tasks/result`, `tasks/list` and `tasks/cancel` for `owner`; `adapt` fits a result to the session's revision. */
export const handleTaskRequest = (
  owner: TaskOwner,
  request: McpRequest,
  adapt: (result: CallToolResult) => CallToolResult
): Effect.Effect<object, InvalidParams | InternalError | MethodNotFound, TaskRunner> =>
  Effect.gen(function* () {
    const runner = yield* TaskRunner
    const call = yield* taskCallOf(request)
    switch (call.method) {
      case "tasks/list":
        return yield* Effect.mapError(runner.list(owner, call.cursor), taskRpcError)
      case "tasks/get":
        return yield* Effect.mapError(runner.get(owner, call.taskId), taskRpcError)
      case "tasks/cancel":
        return yield* Effect.mapError(runner.cancel(owner, call.taskId), taskRpcError)
      case "tasks/result":
        return yield* runner.result(owner, call.taskId).pipe(
          Effect.mapError(taskRpcError),
          Effect.map(({ result }) => ({ ...adapt(result), _meta: { [RELATED_TASK]: { taskId: call.taskId } } }))
        )
      default:
        return yield* MethodNotFound.of(request.method)
    }
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
export const handleExtensionTaskRequest = (
  owner: TaskOwner,
  request: McpRequest
): Effect.Effect<object, InvalidParams | InternalError | MethodNotFound, TaskRunner> =>
  Effect.gen(function* () {
    const runner = yield* TaskRunner
    const call = yield* taskCallOf(request)
    switch (call.method) {
      case "tasks/cancel":
        // An acknowledgement, also for a task that has already ended (idempotent); tasks/get shows the status.
        return yield* runner.cancel(owner, call.taskId).pipe(
          Effect.catchTag("TaskAlreadyEnded", () => Effect.void),
          Effect.mapError(taskRpcError),
          Effect.as({})
        )
      case "tasks/update": {
        const task = yield* Effect.mapError(runner.get(owner, call.taskId), taskRpcError)
        return yield* new InvalidParams({ message: `Task ${call.taskId} is ${task.status}, not waiting for input: this server's tools never ask for any.` })
      }
      case "tasks/get": {
        // Once ended: the tool's result (a tool error too: completed with isError), or the server's own failure as an error.
        const { result, task } = yield* Effect.mapError(runner.inspect(owner, call.taskId), taskRpcError)
        return {
          ...extensionTask(task),
          ...Option.match(result, {
            onNone: () => ({}),
            onSome: (ended) =>
              task.status === "completed" ? { result: ended }
              : task.status === "failed" ? { error: { code: InternalError.code, message: task.statusMessage } }
              : {}
          })
        }
      }
      default:
        return yield* MethodNotFound.of(request.method)
    }
  })
