import { Deferred, Duration, Effect, Exit, Fiber, Option, Scope, TestClock } from "effect"
import { describe, expect, it } from "@effect/vitest"
import { type CallToolResult, ToolContext } from "../../src/mcp/tool.js"
import { ObjectStore } from "../../src/services/storage/ObjectStore.js"
import { defaultTaskSettings, make, type TaskSettings } from "../../src/tasks/TaskRunner.js"
import { ownerFolder, readResult, readState, type TaskOwner, TaskState, writeState } from "../../src/tasks/TaskStore.js"
import { ObjectStoreMemory } from "../../src/testing/index.js"

/**
 * Tasks over one in-memory ObjectStore shared by several runners, as server processes behind a
 * load balancer share S3. Time is the TestClock at the production settings.
 */

const settings: TaskSettings = defaultTaskSettings
const alice: TaskOwner = { _tag: "Subject", subject: "alice" }
const bob: TaskOwner = { _tag: "Subject", subject: "bob" }

const done: CallToolResult = { content: [{ type: "text", text: "42 rows" }], structuredContent: { rows: 42 }, isError: false }

/** A tool call that reports progress for run R1, then waits for the test to let it finish (and says when it was stopped). */
const controlledCall = Effect.gen(function* () {
  const finish = yield* Deferred.make<CallToolResult>()
  const stopped = yield* Deferred.make<void>()
  const call = Effect.gen(function* () {
    const context = yield* ToolContext
    yield* context.progress({ progress: 2, total: 5, message: "page 2/5: 200 of 500 rows", runId: "R1" })
    return yield* Deferred.await(finish)
  }).pipe(Effect.onInterrupt(() => Deferred.succeed(stopped, undefined)))
  return { call, finish, stopped }
})

/** A store, and a way to start "server processes" (runners) on it, each in a scope of its own. */
const world = Effect.gen(function* () {
  const store = yield* ObjectStoreMemory.make()
  const process = Effect.gen(function* () {
    const scope = yield* Scope.make()
    const runner = yield* make(settings).pipe(Effect.provideService(ObjectStore, store), Scope.extend(scope))
    return { runner, stop: Scope.close(scope, Exit.void) }
  })
  return { store, process, inStore: Effect.provideService(ObjectStore, store) }
})

/** Two processes on one store, the first running a controlled call as alice's task. */
const runningOnA = (tool: string) =>
  Effect.gen(function* () {
    const { process } = yield* world
    const a = yield* process
    const b = yield* process
    const controlled = yield* controlledCall
    const task = yield* a.runner.start(alice, controlled.call, { tool })
    return { a, b, task, ...controlled }
  })

describe("TaskRunner", () => {
  it.scoped("a task answers at once, reports progress through the store, and gives the plain call's result", () =>
    Effect.gen(function* () {
      const { process, store, inStore } = yield* world
      const a = yield* process
      const b = yield* process
      const { call, finish } = yield* controlledCall
      const task = yield* a.runner.start(alice, call, { tool: "fetch_dataset_auto" })
      expect(task).toMatchObject({ status: "working", ttl: 3_600_000, pollInterval: 5_000 })
      expect(task.taskId).toMatch(/^[A-Za-z0-9_-]{22}$/)
      // The other process sees the progress once the heartbeat has written it.
      yield* TestClock.adjust(settings.heartbeat)
      expect(yield* b.runner.get(alice, task.taskId)).toMatchObject({ status: "working", statusMessage: "page 2/5: 200 of 500 rows" })
      const waiting = yield* Effect.fork(b.runner.result(alice, task.taskId))
      yield* Deferred.succeed(finish, done)
      yield* TestClock.adjust(settings.pollInterval)
      const answered = yield* Fiber.join(waiting)
      expect(answered.result).toEqual(done)
      expect(answered.task.status).toBe("completed")
      expect(yield* a.runner.get(alice, task.taskId)).toMatchObject({ status: "completed" })
      // Nothing about the owner is in the keys.
      const keys = (yield* store.list("tasks/")).map((o) => o.key)
      expect(keys.some((k) => k.includes("alice"))).toBe(false)
      expect(Option.isSome(yield* readResult(alice, task.taskId).pipe(inStore))).toBe(true)
    }))

  it.scoped("a call that reports an error completes, with that error as its result; a defect fails the task", () =>
    Effect.gen(function* () {
      const { process } = yield* world
      const a = yield* process
      const refused: CallToolResult = { content: [{ type: "text", text: "Dataset 0000000000 does not exist." }], isError: true }
      const ran = yield* a.runner.start(alice, Effect.succeed(refused), { tool: "fetch_dataset_auto" })
      expect(yield* a.runner.result(alice, ran.taskId)).toEqual({ task: expect.objectContaining({ status: "completed" }), result: refused })
      const broke = yield* a.runner.start(alice, Effect.die("bug"), { tool: "fetch_dataset_auto" })
      const answered = yield* a.runner.result(alice, broke.taskId)
      expect(answered.task.status).toBe("failed")
      expect(answered.result.isError).toBe(true)
    }))

  it.scoped("a task is visible only to its owner, and ids that are not task ids name nothing", () =>
    Effect.gen(function* () {
      const { process } = yield* world
      const a = yield* process
      const { call } = yield* controlledCall
      const task = yield* a.runner.start(alice, call, { tool: "fetch_dataset_auto" })
      // Every kind of owner has its own folders: a subject is never the shared token, whatever it is called.
      expect(ownerFolder({ _tag: "SharedToken" })).not.toBe(ownerFolder({ _tag: "Subject", subject: "shared-token" }))
      for (const owner of [bob, { _tag: "Session", sessionId: "alice" }, { _tag: "IdHolder" }, { _tag: "SharedToken" }] as const) {
        expect((yield* Effect.flip(a.runner.get(owner, task.taskId)))._tag).toBe("TaskNotFound")
        expect((yield* Effect.flip(a.runner.cancel(owner, task.taskId)))._tag).toBe("TaskNotFound")
        expect((yield* a.runner.list(owner, undefined)).tasks).toEqual([])
      }
      for (const hostile of ["../state.json", "", "x".repeat(23), `${task.taskId}/../x`, "%2e%2e"]) {
        expect((yield* Effect.flip(a.runner.get(alice, hostile)))._tag).toBe("TaskNotFound")
      }
      expect((yield* a.runner.list(alice, undefined)).tasks.map((t) => t.taskId)).toEqual([task.taskId])
    }))

  it.scoped("a cancel through another process cancels at once and stops the work at the next heartbeat", () =>
    Effect.gen(function* () {
      const { a, b, stopped, task } = yield* runningOnA("fetch_large_dataset_complete")
      yield* TestClock.adjust(settings.heartbeat)
      const cancelled = yield* b.runner.cancel(alice, task.taskId)
      expect(cancelled.status).toBe("cancelled")
      expect(cancelled.statusMessage).toContain('resume_run_id "R1"')
      expect(yield* a.runner.get(alice, task.taskId)).toMatchObject({ status: "cancelled" })
      expect(yield* Deferred.isDone(stopped)).toBe(false)
      yield* TestClock.adjust(settings.heartbeat)
      yield* Deferred.await(stopped)
      const answered = yield* b.runner.result(alice, task.taskId)
      expect(answered.result.isError).toBe(true)
      expect(answered.task.status).toBe("cancelled")
      expect((yield* Effect.flip(b.runner.cancel(alice, task.taskId)))._tag).toBe("TaskAlreadyEnded")
    }))

  it.scoped("a cancel in the running process stops the work at once; an ended task cannot be cancelled", () =>
    Effect.gen(function* () {
      const { process } = yield* world
      const a = yield* process
      const first = yield* controlledCall
      const running = yield* a.runner.start(alice, first.call, { tool: "fetch_dataset_auto" })
      yield* a.runner.cancel(alice, running.taskId)
      yield* Deferred.await(first.stopped)
      const second = yield* controlledCall
      const finished = yield* a.runner.start(alice, second.call, { tool: "fetch_dataset_auto" })
      yield* Deferred.succeed(second.finish, done)
      yield* a.runner.result(alice, finished.taskId)
      const refused = yield* Effect.flip(a.runner.cancel(alice, finished.taskId))
      expect(refused).toMatchObject({ _tag: "TaskAlreadyEnded", status: "completed" })
    }))

  it.scoped("a process that stops while its task runs records it failed, with the run to resume", () =>
    Effect.gen(function* () {
      const { a, b, stopped, task } = yield* runningOnA("fetch_large_dataset_complete")
      yield* a.stop
      expect(yield* Deferred.isDone(stopped)).toBe(true)
      const seen = yield* b.runner.get(alice, task.taskId)
      expect(seen.status).toBe("failed")
      expect(seen.statusMessage).toContain('resume_run_id "R1"')
      expect((yield* b.runner.result(alice, task.taskId)).result).toMatchObject({ isError: true })
    }))

  it.scoped("a task whose process died without a word is failed once its heartbeat is stale, not before", () =>
    Effect.gen(function* () {
      const { process, inStore } = yield* world
      const b = yield* process
      // What a killed process leaves: a working state, nothing more.
      const taskId = "AAAAAAAAAAAAAAAAAAAAAA"
      yield* writeState(alice, new TaskState({
        taskId, tool: "fetch_dataset_auto", status: "working", statusMessage: "page 3/9", createdAt: 0, lastUpdatedAt: 0,
        ttlMs: 3_600_000, pollIntervalMs: 5_000, heartbeatAt: 0, runId: "R7"
      })).pipe(inStore)
      expect(yield* b.runner.get(alice, taskId)).toMatchObject({ status: "working" })
      const waiting = yield* Effect.fork(b.runner.result(alice, taskId))
      yield* TestClock.adjust(Duration.sum(settings.staleAfter, settings.pollInterval))
      const answered = yield* Fiber.join(waiting)
      expect(answered.task.status).toBe("failed")
      expect(answered.result.content[0]).toMatchObject({ text: expect.stringContaining('resume_run_id "R7"') })
    }))

  it.scoped("an ended task is kept for its ttl, then gone, and the sweep deletes its objects", () =>
    Effect.gen(function* () {
      const { process, store, inStore } = yield* world
      const a = yield* process
      const { call, finish } = yield* controlledCall
      const task = yield* a.runner.start(alice, call, { tool: "fetch_dataset_auto", ttlMs: 60_000 })
      yield* Deferred.succeed(finish, done)
      yield* a.runner.result(alice, task.taskId)
      yield* TestClock.adjust(Duration.seconds(59))
      expect((yield* a.runner.get(alice, task.taskId)).status).toBe("completed")
      yield* TestClock.adjust(Duration.seconds(2))
      expect((yield* Effect.flip(a.runner.get(alice, task.taskId)))._tag).toBe("TaskNotFound")
      expect((yield* store.list("tasks/")).length).toBeGreaterThan(0)
      yield* TestClock.adjust(settings.sweepInterval)
      expect(yield* store.list("tasks/")).toEqual([])
      expect(Option.isNone(yield* readState(alice, task.taskId).pipe(inStore))).toBe(true)
    }))

  it.scoped("a running task outlives its ttl; the longest ttl is capped", () =>
    Effect.gen(function* () {
      const { process } = yield* world
      const a = yield* process
      const { call } = yield* controlledCall
      const task = yield* a.runner.start(alice, call, { tool: "fetch_dataset_auto", ttlMs: 1_000 })
      yield* TestClock.adjust(Duration.minutes(15))
      expect((yield* a.runner.get(alice, task.taskId)).status).toBe("working")
      const long = yield* a.runner.start(bob, (yield* controlledCall).call, { tool: "fetch_dataset_auto", ttlMs: 10 * 86_400_000 })
      expect(long.ttl).toBe(Duration.toMillis(settings.maxTtl))
    }))

  it.scoped("tasks/list pages newest first; a cursor it did not issue is refused; a process runs at most maxRunning", () =>
    Effect.gen(function* () {
      const { process } = yield* world
      const a = yield* process
      const ids: Array<string> = []
      for (let i = 0; i < settings.maxRunning; i++) {
        ids.push((yield* a.runner.start(alice, (yield* controlledCall).call, { tool: "fetch_dataset_auto" })).taskId)
        yield* TestClock.adjust(Duration.seconds(1))
      }
      expect((yield* Effect.flip(a.runner.start(alice, (yield* controlledCall).call, { tool: "fetch_dataset_auto" })))._tag).toBe("TooManyTasks")
      const listed = yield* a.runner.list(alice, undefined)
      expect(listed.tasks.map((t) => t.taskId)).toEqual([...ids].reverse())
      expect(listed.nextCursor).toBeUndefined()
      expect((yield* Effect.flip(a.runner.list(alice, "50")))._tag).toBe("InvalidTaskCursor")
    }))
})
