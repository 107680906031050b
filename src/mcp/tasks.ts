import { Effect, Option } from "effect"
import type { StorageError } from "../services/storage/ObjectStore.js"
import { type InvalidTaskCursor, type TaskAlreadyEnded, type TaskNotFound, TaskRunner, type TooManyTasks } from "../tasks/TaskRunner.js"
import type { TaskOwner } from "../tasks/TaskStore.js"
import { ErrorCode, errorResponse, type JsonRpcRequest, type JsonRpcResponse, resultResponse } from "./jsonrpc.js"
import type { Session } from "./session.js"
import type { CallToolResult } from "./tool.js"

/**
 * MCP tasks as 2025-11-25 defines them (experimental there): a client augments `tools/call` with
 * `task: { ttl }` and gets a task at once; `tasks/get`, `tasks/result`, `tasks/list` and
 * `tasks/cancel` follow it. The work itself is TaskRunner's.
 */

export const tasksSince = "2025-11-25"

/** The calls that may take minutes: these become tasks when the client asks. */
export const taskTools: ReadonlySet<string> = new Set([
  "fetch_dataset_auto",
  "fetch_large_dataset_complete",
  "fetch_dataset_filtered",
  "save_dataset_as_csv",
  "load_to_iceberg",
  "analyze_with_athena"
])

export const tasksCapability = { list: {}, cancel: {}, requests: { tools: { call: {} } } }

export const taskExecution = { taskSupport: "optional" } as const

export const RELATED_TASK = "io.modelcontextprotocol/related-task"

export const taskMethods: ReadonlySet<string> = new Set(["tasks/get", "tasks/result", "tasks/list", "tasks/cancel"])

/**
 * Whom a session's tasks belong to: the OAuth subject; else the shared MCP_AUTH_TOKEN (every holder
 * is the same credential); else the session alone.
 */
export const ownerOf = (session: Session, tokenAuth: boolean): TaskOwner =>
  Option.match(session.subject, {
    onSome: (subject): TaskOwner => ({ _tag: "Subject", subject }),
    onNone: (): TaskOwner => tokenAuth ? { _tag: "Subject", subject: "(MCP_AUTH_TOKEN)" } : { _tag: "Session", sessionId: session.id }
  })

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
