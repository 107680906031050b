import { Clock, Context, Deferred, Duration, Effect, Exit, Fiber, FiberMap, Layer, Option, Ref, Schema } from "effect"
import { AppConfig, type AppSettings } from "../config.js"
import { pageOf } from "../mcp/resources.js"
import { type CallToolResult, errorResult, type ProgressUpdate, ToolContext } from "../mcp/tool.js"
import { ObjectStore, type StorageError } from "../services/storage/ObjectStore.js"
import {
  allTaskFolders,
  cancelledAt,
  isTaskId,
  isTerminal,
  newTaskId,
  ownerTaskIds,
  readResult,
  readState,
  readStateAt,
  removeTask,
  requestCancel,
  type TaskOwner,
  TaskState,
  type TaskStatus,
  writeResult,
  writeState
} from "./TaskStore.js"

/**
 * Tool calls run as tasks (MCP tasks, 2025-11-25 and the 2026-07-28 Tasks extension alike): the
 * call runs in this process, detached from the request that started it, and its state lives in
 * the ObjectStore (TaskStore.ts), so any process answers for any task. A task whose process died
 * (deploy, crash) stops sending heartbeats: it is reported failed, with the dataset run it was
 * writing to resume from. Time comes from Clock.
 */

export class TaskNotFound extends Schema.TaggedError<TaskNotFound>()("TaskNotFound", { taskId: Schema.String }) {
  override get message() {
    return `No task ${this.taskId} is visible to this client: it expired, was never created, or belongs to another credential or session.`
  }
}

export class TaskAlreadyEnded extends Schema.TaggedError<TaskAlreadyEnded>()("TaskAlreadyEnded", {
  taskId: Schema.String,
  status: Schema.String
}) {
  override get message() {
    return `Task ${this.taskId} cannot be cancelled: it has already ended (${this.status}).`
  }
}

export class TooManyTasks extends Schema.TaggedError<TooManyTasks>()("TooManyTasks", { limit: Schema.Number }) {
  override get message() {
    return `This server already runs ${this.limit} tasks (MCP_TASKS_MAX_RUNNING): wait for one to finish, or call the tool without a task.`
  }
}

export class InvalidTaskCursor extends Schema.TaggedError<InvalidTaskCursor>()("InvalidTaskCursor", {}) {
  override get message() {
    return "Invalid cursor: pass the nextCursor of the previous tasks/list page, or no cursor for the first page."
  }
}

export interface TaskSettings {
  /** How long a task and its result are kept from its creation, when the client asks for nothing else. */
  readonly defaultTtl: Duration.Duration
  /** The longest ttl a client may ask for. */
  readonly maxTtl: Duration.Duration
  /** How often clients are told to poll. */
  readonly pollInterval: Duration.Duration
  /** How often a running task's state is written (progress and heartbeat). */
  readonly heartbeat: Duration.Duration
  /** A working task with no heartbeat for this long has lost its process. */
  readonly staleAfter: Duration.Duration
  /** Tasks this process runs at once. */
  readonly maxRunning: number
  /** How often expired tasks are deleted. */
  readonly sweepInterval: Duration.Duration
}

export const defaultTaskSettings: TaskSettings = {
  defaultTtl: Duration.hours(1),
  maxTtl: Duration.hours(24),
  pollInterval: Duration.seconds(5),
  heartbeat: Duration.seconds(5),
  staleAfter: Duration.seconds(30),
  maxRunning: 4,
  sweepInterval: Duration.minutes(10)
}

/** A task as MCP shows it (`Task`: times as ISO 8601, ttl and pollInterval in milliseconds). */
export interface TaskView {
  readonly taskId: string
  readonly status: TaskStatus
  readonly statusMessage: string
  readonly createdAt: string
  readonly lastUpdatedAt: string
  readonly ttl: number
  readonly pollInterval: number
}

export class TaskRunner extends Context.Tag("estat-mcp/TaskRunner")<TaskRunner, {
  /** Starts `call` detached from the caller; answers at once with the working task. */
  readonly start: (
    owner: TaskOwner,
    call: Effect.Effect<CallToolResult, never, ToolContext>,
    options: {
      readonly tool: string
      readonly ttlMs?: number | undefined
      /** Told once the task has ended (2025-11-25 sessions: `notifications/tasks/status`); must not fail. */
      readonly onEnded?: ((task: TaskView) => Effect.Effect<void>) | undefined
    }
  ) => Effect.Effect<TaskView, TooManyTasks | StorageError>
  readonly get: (owner: TaskOwner, taskId: string) => Effect.Effect<TaskView, TaskNotFound | StorageError>
  /** Waits until the task ends, then gives the CallToolResult the plain call would have given. */
  readonly result: (owner: TaskOwner, taskId: string) => Effect.Effect<{ readonly task: TaskView; readonly result: CallToolResult }, TaskNotFound | StorageError>
  /** The task now, and once it has ended the CallToolResult it ended with (None while it works). */
  readonly inspect: (owner: TaskOwner, taskId: string) => Effect.Effect<
    { readonly task: TaskView; readonly result: Option.Option<CallToolResult> },
    TaskNotFound | StorageError
  >
  /** The task is cancelled when this answers (MCP); the work stops as soon as its process sees it. */
  readonly cancel: (owner: TaskOwner, taskId: string) => Effect.Effect<TaskView, TaskNotFound | TaskAlreadyEnded | StorageError>
  /** The owner's tasks, newest first, a page at a time. */
  readonly list: (owner: TaskOwner, cursor: string | undefined) => Effect.Effect<
    { readonly tasks: ReadonlyArray<TaskView>; readonly nextCursor?: string },
    InvalidTaskCursor | StorageError
  >
}>() {}

const LIST_PAGE = 50

const view = (state: TaskState): TaskView => ({
  taskId: state.taskId,
  status: state.status,
  statusMessage: state.statusMessage,
  createdAt: new Date(state.createdAt).toISOString(),
  lastUpdatedAt: new Date(state.lastUpdatedAt).toISOString(),
  ttl: state.ttlMs,
  pollInterval: state.pollIntervalMs
})

const progressMessage = (update: ProgressUpdate) =>
  update.message ?? (update.total === undefined ? `${update.progress} done` : `${update.progress} of ${update.total} done`)

const resumeHint = (runId: string | undefined) =>
  runId === undefined ? "" : ` Run ${runId} is kept as partial: call the tool again with resume_run_id "${runId}" to continue it.`

const cancelledMessage = (runId: string | undefined) => `Cancelled.${resumeHint(runId)}`

/**
 * What a stored state means now. A cancel asked for makes it cancelled, unless it had ended before;
 * a working task whose process went silent (not one running here) has failed.
 */
export const effectiveState = (state: TaskState, cancelAskedAt: Option.Option<number>, now: number, staleAfterMs: number, runningHere: boolean) => {
  if (Option.isSome(cancelAskedAt) && !(isTerminal(state.status) && state.lastUpdatedAt <= cancelAskedAt.value)) {
    return new TaskState({ ...state, status: "cancelled", statusMessage: cancelledMessage(state.runId), lastUpdatedAt: Math.max(state.lastUpdatedAt, cancelAskedAt.value) })
  }
  if (state.status === "working" && now - state.heartbeatAt > staleAfterMs && !runningHere) {
    return new TaskState({
      ...state,
      status: "failed",
      statusMessage: `The server running this task stopped (restart or deploy) at ${new Date(state.heartbeatAt).toISOString()}.${resumeHint(state.runId)}`,
      lastUpdatedAt: state.heartbeatAt
    })
  }
  return state
}

export const make = (settings: TaskSettings) =>
  Effect.gen(function* () {
    const store = yield* ObjectStore
    const provideStore = Effect.provideService(ObjectStore, store)
    const running = yield* FiberMap.make<string>()
    /** Cancel signals of the tasks this process runs: a cancel that lands here stops the work at once. */
    const cancels = new Map<string, Deferred.Deferred<void>>()
    const staleMs = Duration.toMillis(settings.staleAfter)

    const expired = (state: TaskState, now: number) => isTerminal(state.status) && now > state.createdAt + state.ttlMs

    /** The task as it stands now, or TaskNotFound (never created, another owner's, or expired). */
    const load = (owner: TaskOwner, taskId: string) =>
      Effect.gen(function* () {
        const stored = isTaskId(taskId) ? yield* readState(owner, taskId) : Option.none()
        if (Option.isNone(stored)) return yield* new TaskNotFound({ taskId })
        const now = yield* Clock.currentTimeMillis
        const state = effectiveState(stored.value, yield* cancelledAt(owner, taskId), now, staleMs, cancels.has(taskId))
        if (expired(state, now)) return yield* new TaskNotFound({ taskId })
        return state
      }).pipe(provideStore)

    /** Writes the latest state with a fresh heartbeat. */
    const save = (owner: TaskOwner, latest: Ref.Ref<TaskState>, change: (state: TaskState) => TaskState) =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        const stamped = new TaskState({ ...change(yield* Ref.get(latest)), heartbeatAt: now })
        yield* Ref.set(latest, stamped)
        yield* writeState(owner, stamped)
      })

    const contextFor = (latest: Ref.Ref<TaskState>) =>
      ToolContext.of({
        progress: (update) =>
          Effect.flatMap(Clock.currentTimeMillis, (now) =>
            Ref.update(latest, (state) => new TaskState({
              ...state,
              statusMessage: progressMessage(update),
              lastUpdatedAt: now,
              ...(update.runId === undefined ? {} : { runId: update.runId })
            }))),
        log: () => Effect.void,
        closeStream: Effect.void
      })

    /** Progress and a sign of life to the store, and a look for a cancel asked through another process. */
    const heartbeat = (owner: TaskOwner, latest: Ref.Ref<TaskState>, cancel: Deferred.Deferred<void>) =>
      Effect.gen(function* () {
        yield* save(owner, latest, (state) => state)
        const { taskId } = yield* Ref.get(latest)
        if (Option.isSome(yield* cancelledAt(owner, taskId))) yield* Deferred.succeed(cancel, undefined)
      }).pipe(
        Effect.catchAll((error) => Effect.logWarning("task heartbeat failed", error.message)),
        Effect.delay(settings.heartbeat),
        Effect.forever
      )

    const outcomeOf = (outcome: Option.Option<Exit.Exit<CallToolResult>>, runId: string | undefined): [TaskStatus, string, CallToolResult] =>
      Option.match(outcome, {
        onNone: () => ["cancelled", cancelledMessage(runId), errorResult(`The task was cancelled.${resumeHint(runId)}`)],
        onSome: Exit.match({
          onFailure: () => ["failed", "The call failed inside the server; see its logs.", errorResult("The call failed inside the server; see its logs.")],
          // A tool that ran and reported an error completed (its result says why); failed is the server's own trouble.
          onSuccess: (result): [TaskStatus, string, CallToolResult] =>
            ["completed", result.isError ? "Done: the call reported an error, which its result gives." : "Done.", result]
        })
      })

    const run = (
      owner: TaskOwner,
      latest: Ref.Ref<TaskState>,
      call: Effect.Effect<CallToolResult, never, ToolContext>,
      cancel: Deferred.Deferred<void>,
      onEnded: (task: TaskView) => Effect.Effect<void>
    ) =>
      Effect.gen(function* () {
        const beating = yield* Effect.fork(heartbeat(owner, latest, cancel))
        // A cancel interrupts the work and waits for it to stop (a fetch writes its partial manifest).
        const outcome = yield* Effect.raceFirst(
          Effect.exit(call.pipe(Effect.provideService(ToolContext, contextFor(latest)))).pipe(Effect.map(Option.some)),
          Deferred.await(cancel).pipe(Effect.as(Option.none<Exit.Exit<CallToolResult>>()))
        )
        yield* Fiber.interrupt(beating)
        if (Option.isSome(outcome) && Exit.isFailure(outcome.value)) yield* Effect.logError("a task's call failed", outcome.value.cause)
        const { taskId, runId } = yield* Ref.get(latest)
        const [status, message, result] = outcomeOf(outcome, runId)
        // The result first: whoever sees a terminal state finds it.
        yield* writeResult(owner, taskId, result)
        yield* save(owner, latest, (state) => new TaskState({ ...state, status, statusMessage: message }))
        yield* onEnded(view(yield* Ref.get(latest)))
      }).pipe(
        Effect.catchAll((error) => Effect.logError("task state not written", error.message)),
        // This process stops (deploy, shutdown) while the task runs: say so now, not after the stale timeout.
        Effect.onInterrupt(() =>
          Effect.gen(function* () {
            const { taskId, runId } = yield* Ref.get(latest)
            const message = `The server stopped while this task ran.${resumeHint(runId)}`
            yield* writeResult(owner, taskId, errorResult(message))
            yield* save(owner, latest, (state) => new TaskState({ ...state, status: "failed", statusMessage: message }))
          }).pipe(Effect.catchAll((error) => Effect.logError("task state not written at shutdown", error.message)))
        ),
        provideStore
      )

    const start: TaskRunner["Type"]["start"] = (owner, call, options) =>
      Effect.gen(function* () {
        if ((yield* FiberMap.size(running)) >= settings.maxRunning) return yield* new TooManyTasks({ limit: settings.maxRunning })
        const now = yield* Clock.currentTimeMillis
        const initial = new TaskState({
          taskId: newTaskId(),
          tool: options.tool,
          status: "working",
          statusMessage: "Started.",
          createdAt: now,
          lastUpdatedAt: now,
          ttlMs: Math.min(options.ttlMs ?? Duration.toMillis(settings.defaultTtl), Duration.toMillis(settings.maxTtl)),
          pollIntervalMs: Duration.toMillis(settings.pollInterval),
          heartbeatAt: now
        })
        yield* writeState(owner, initial).pipe(provideStore)
        const latest = yield* Ref.make(initial)
        const cancel = yield* Deferred.make<void>()
        cancels.set(initial.taskId, cancel)
        yield* FiberMap.run(running, initial.taskId, run(owner, latest, call, cancel, options.onEnded ?? (() => Effect.void)).pipe(
          Effect.ensuring(Effect.sync(() => cancels.delete(initial.taskId)))
        ))
        return view(initial)
      }).pipe(Effect.withSpan("TaskRunner.start"))

    const get: TaskRunner["Type"]["get"] = (owner, taskId) => Effect.map(load(owner, taskId), view)

    /** Polls the store (the task may run in another process) until the task has ended. */
    const ended = (owner: TaskOwner, taskId: string): Effect.Effect<TaskState, TaskNotFound | StorageError> =>
      Effect.flatMap(load(owner, taskId), (state) =>
        isTerminal(state.status) ? Effect.succeed(state) : Effect.zipRight(Effect.sleep(settings.pollInterval), Effect.suspend(() => ended(owner, taskId))))

    /** What an ended task answers: its stored result; a cancelled task, or one whose process died before writing one, what its state says. */
    const outcome = (owner: TaskOwner, state: TaskState) =>
      Effect.map(
        state.status === "cancelled" ? Effect.succeedNone : readResult(owner, state.taskId).pipe(provideStore),
        Option.getOrElse(() => errorResult(state.statusMessage))
      )

    const result: TaskRunner["Type"]["result"] = (owner, taskId) =>
      Effect.gen(function* () {
        const local = yield* FiberMap.get(running, taskId).pipe(Effect.option)
        if (Option.isSome(local)) yield* Fiber.await(local.value)
        const state = yield* ended(owner, taskId)
        return { task: view(state), result: yield* outcome(owner, state) }
      }).pipe(Effect.withSpan("TaskRunner.result"))

    const inspect: TaskRunner["Type"]["inspect"] = (owner, taskId) =>
      Effect.gen(function* () {
        const state = yield* load(owner, taskId)
        return { task: view(state), result: isTerminal(state.status) ? Option.some(yield* outcome(owner, state)) : Option.none() }
      }).pipe(Effect.withSpan("TaskRunner.inspect"))

    const cancel: TaskRunner["Type"]["cancel"] = (owner, taskId) =>
      Effect.gen(function* () {
        const state = yield* load(owner, taskId)
        if (isTerminal(state.status)) return yield* new TaskAlreadyEnded({ taskId, status: state.status })
        const now = yield* Clock.currentTimeMillis
        yield* requestCancel(owner, taskId, now).pipe(provideStore)
        const local = cancels.get(taskId)
        if (local !== undefined) yield* Deferred.succeed(local, undefined)
        return view(effectiveState(state, Option.some(now), now, staleMs, true))
      }).pipe(Effect.withSpan("TaskRunner.cancel"))

    const list: TaskRunner["Type"]["list"] = (owner, cursor) =>
      Effect.gen(function* () {
        const states: Array<TaskState> = []
        for (const taskId of yield* ownerTaskIds(owner)) {
          const state = yield* load(owner, taskId).pipe(Effect.option)
          if (Option.isSome(state)) states.push(state.value)
        }
        states.sort((a, b) => b.createdAt - a.createdAt || (a.taskId < b.taskId ? -1 : 1))
        const page = pageOf(states, cursor, LIST_PAGE)
        if (page._tag === "Left") return yield* new InvalidTaskCursor()
        return { tasks: page.right.items.map(view), ...(page.right.nextCursor === undefined ? {} : { nextCursor: page.right.nextCursor }) }
      }).pipe(provideStore, Effect.withSpan("TaskRunner.list"))

    /** Deletes what outlived its ttl; a task still running is never deleted. */
    const sweep = Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      for (const folder of yield* allTaskFolders) {
        const stored = yield* readStateAt(folder)
        const taskId = folder.split("/")[2] ?? ""
        if (Option.isNone(stored) || expired(effectiveState(stored.value, Option.none(), now, staleMs, cancels.has(taskId)), now)) {
          yield* removeTask(folder)
        }
      }
    }).pipe(provideStore, Effect.catchAll((error) => Effect.logWarning("expired tasks not swept", error.message)))
    yield* sweep.pipe(Effect.delay(settings.sweepInterval), Effect.forever, Effect.forkScoped)

    return TaskRunner.of({ start, get, result, inspect, cancel, list })
  })

/** Settings from the app's: a running task writes its state as often as clients are told to poll. */
export const settingsOf = (config: AppSettings): TaskSettings => ({
  ...defaultTaskSettings,
  defaultTtl: config.taskTtl,
  pollInterval: config.taskPollInterval,
  heartbeat: config.taskPollInterval,
  // Six missed heartbeats, and never under 30 s: a busy event loop is not a dead process.
  staleAfter: Duration.max(Duration.times(config.taskPollInterval, 6), Duration.seconds(30)),
  maxRunning: config.tasksMaxRunning
})

export const layer = Layer.scoped(TaskRunner, Effect.flatMap(AppConfig, (config) => make(settingsOf(config))))
