import { createHash, randomBytes } from "node:crypto"
import { Effect, Option, Schema } from "effect"
import { CallToolResult } from "../mcp/messages.js"
import { ObjectStore, type StorageError, StorageFailure, TASKS_FOLDER } from "../services/storage/ObjectStore.js"

/**
 * Tasks as objects in the ObjectStore, so every server process behind the load balancer sees
 * every task. A task's folder is `tasks/<owner>/<taskId>/`, the owner folder derived from the
 * credential, session or nothing (see TaskOwner): a caller can only ever name its own tasks,
 * since the folder comes from who asks, not from the request. Each object has one writer:
 *   state.json      the process running the task (status, message, heartbeat)
 *   result.json     the same process, once, before the terminal state
 *   cancel          whoever the task is visible to, when asked: the task is cancelled from then on,
 *                   and the running process stops the work when it sees it
 */

export const TaskStatus = Schema.Literal("working", "input_required", "completed", "failed", "cancelled")
export type TaskStatus = typeof TaskStatus.Type

export const isTerminal = (status: TaskStatus) => status === "completed" || status === "failed" || status === "cancelled"

export class TaskState extends Schema.Class<TaskState>("TaskState")({
  taskId: Schema.String,
  tool: Schema.String,
  status: TaskStatus,
  statusMessage: Schema.String,
  createdAt: Schema.Number,
  lastUpdatedAt: Schema.Number,
  ttlMs: Schema.Number,
  pollIntervalMs: Schema.Number,
  /** When the process running it last said it is alive: a working task silent for long has lost its process. */
  heartbeatAt: Schema.Number,
  /** The dataset run the call writes, once known: what a caller resumes when the task ends early. */
  runId: Schema.optional(Schema.String)
}) {}

/** The stored result: exactly the CallToolResult the plain call would have answered. */
export const StoredResult = CallToolResult

/**
 * Who may see a task (MCP: bound to the authorization context when there is one): the token's
 * subject, else the 2025 session that made it, else whoever holds its id (2026-07-28 without auth).
 */
export type TaskOwner =
  | { readonly _tag: "Subject"; readonly subject: string }
  | { readonly _tag: "SharedToken" }
  | { readonly _tag: "Session"; readonly sessionId: string }
  | { readonly _tag: "IdHolder" }

/** The owner's folder: a hash, so neither subjects nor session ids appear in keys or listings. */
export const ownerFolder = (owner: TaskOwner): string => {
  const name = owner._tag === "Subject" ? `subject:${owner.subject}`
    : owner._tag === "Session" ? `session:${owner.sessionId}`
    : owner._tag === "SharedToken" ? "shared-token"
    : "id-holder"
  return createHash("sha256").update(name).digest("base64url").slice(0, 32)
}

/** 128 random bits, base64url: unguessable, and safe as a key segment. */
export const newTaskId = () => randomBytes(16).toString("base64url")

/** Anything else a client sends as a task id names no task (and never reaches a key). */
export const isTaskId = (value: string) => /^[A-Za-z0-9_-]{22}$/.test(value)

export const TASKS_PREFIX = `${TASKS_FOLDER}/`

const folderOf = (owner: TaskOwner, taskId: string) => `${TASKS_PREFIX}${ownerFolder(owner)}/${taskId}/`

const stateJson = Schema.parseJson(TaskState)
const resultJson = Schema.parseJson(StoredResult)
const encoder = new TextEncoder()
const decoder = new TextDecoder()

const readJson = <A>(schema: Schema.Schema<A, string>, key: string) =>
  Effect.gen(function* () {
    const store = yield* ObjectStore
    // One request: a record that is not there is None, not a HEAD first.
    const bytes = yield* store.getBytes(key).pipe(Effect.map(Option.some), Effect.catchTag("StorageNotFound", () => Effect.succeedNone))
    if (Option.isNone(bytes)) return Option.none<A>()
    return Option.some(yield* Schema.decode(schema)(decoder.decode(bytes.value)).pipe(
      Effect.mapError((error) => new StorageFailure({ operation: "read", location: store.uri(key), reason: `not a task record: ${error.message}` }))
    ))
  })

const writeJson = <A>(schema: Schema.Schema<A, string>, key: string, value: A) =>
  Effect.gen(function* () {
    const store = yield* ObjectStore
    const text = yield* Schema.encode(schema)(value).pipe(Effect.orDie)
    yield* store.putBytes(key, encoder.encode(text), "application/json")
  })

export const writeState = (owner: TaskOwner, state: TaskState) => writeJson(stateJson, `${folderOf(owner, state.taskId)}state.json`, state)

export const readState = (owner: TaskOwner, taskId: string): Effect.Effect<Option.Option<TaskState>, StorageError, ObjectStore> =>
  readJson(stateJson, `${folderOf(owner, taskId)}state.json`)

export const writeResult = (owner: TaskOwner, taskId: string, result: CallToolResult) =>
  writeJson(resultJson, `${folderOf(owner, taskId)}result.json`, result)

export const readResult = (owner: TaskOwner, taskId: string): Effect.Effect<Option.Option<CallToolResult>, StorageError, ObjectStore> =>
  readJson(resultJson, `${folderOf(owner, taskId)}result.json`)

/** The cancel marker holds when it was asked for: from then on the task is cancelled, whoever runs it. */
export const requestCancel = (owner: TaskOwner, taskId: string, at: number) =>
  Effect.flatMap(ObjectStore, (store) => store.putBytes(`${folderOf(owner, taskId)}cancel`, encoder.encode(String(at)), "application/json"))

export const cancelledAt = (owner: TaskOwner, taskId: string) =>
  readJson(Schema.parseJson(Schema.Number), `${folderOf(owner, taskId)}cancel`)

/** Every object of one task. */
export const removeTask = (folder: string) =>
  Effect.gen(function* () {
    const store = yield* ObjectStore
    for (const object of yield* store.list(folder)) yield* store.remove(object.key)
  })

/** The task ids of one owner, from the keys alone. */
export const ownerTaskIds = (owner: TaskOwner) =>
  Effect.gen(function* () {
    const store = yield* ObjectStore
    const prefix = `${TASKS_PREFIX}${ownerFolder(owner)}/`
    const ids = new Set<string>()
    for (const object of yield* store.list(prefix)) {
      const id = object.key.slice(prefix.length).split("/")[0]
      if (id !== undefined && isTaskId(id)) ids.add(id)
    }
    return [...ids]
  })

/** Every task folder (`tasks/<owner>/<id>/`) of every owner, for the expiry sweep. */
export const allTaskFolders = Effect.gen(function* () {
  const store = yield* ObjectStore
  const folders = new Set<string>()
  for (const object of yield* store.list(TASKS_PREFIX)) {
    const [owner, id] = object.key.slice(TASKS_PREFIX.length).split("/")
    if (owner !== undefined && id !== undefined && isTaskId(id)) folders.add(`${TASKS_PREFIX}${owner}/${id}/`)
  }
  return [...folders]
})

export const readStateAt = (folder: string) => readJson(stateJson, `${folder}state.json`)
