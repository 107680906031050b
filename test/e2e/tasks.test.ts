import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2 } from "@modelcontextprotocol/client"
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import { CallToolResultSchema, CreateTaskResultSchema, McpError, TaskStatusNotificationSchema } from "@modelcontextprotocol/sdk/types.js"
import { Duration, Option, Redacted } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import type { AppSettings } from "../../src/config.js"
import { type FakeEStatHandle, generatedTable, startFakeEStat } from "../fakes/estatServer.js"
import { onFakeEStat } from "../support/e2eStack.js"
import { readSse } from "../support/rawMcp.js"
import { type RunningServer, startTestServer } from "../support/testServer.js"

/**
 * MCP tasks (2025-11-25) with the SDK's experimental tasks client, against two servers sharing one
 * DATA_DIR as two tasks behind a load balancer share S3: a task outlives the client that started
 * it, any server answers for it, cancel stops it, and a stopped server's task says how to resume.
 */

const table = generatedTable({ id: "0009000031", categories: 5, areas: 4, months: 12, specialEvery: 7 })
const TOKEN = "tasks-e2e-token"
const fetchArgs = { dataset_id: table.info.id, chunk_size: 100, concurrency: 1, force: true }

let fake: FakeEStatHandle
let dataDir: string
const servers: Array<RunningServer> = []
const clients: Array<Client> = []

const startServer = async (overrides: Partial<AppSettings> = {}) => {
  const server = await startTestServer({
    ...onFakeEStat(fake, dataDir),
    authToken: Option.some(Redacted.make(TOKEN)),
    taskPollInterval: Duration.millis(50),
    ...overrides
  })
  servers.push(server)
  return server
}

const connect = async (server: RunningServer, token: string | null = TOKEN) => {
  const client = new Client({ name: "tasks-e2e", version: "1.0.0" })
  await client.connect(new StreamableHTTPClientTransport(server.mcpUrl, {
    requestInit: token === null ? {} : { headers: { authorization: `Bearer ${token}` } }
  }))
  clients.push(client)
  return client
}

const startTask = (client: Client, name: string, args: Record<string, unknown>) =>
  client.request({ method: "tools/call", params: { name, arguments: args, task: { ttl: 600_000 } } }, CreateTaskResultSchema)

/** Whether the run has asked e-Stat for its second page (the one a test holds). */
const heldPageAsked = () => fake.requests.some((r) => r.params.get("startPosition") === "101" && r.endedAt === null)

/** Polls as a client does, at the interval the task names, until `done` holds. */
const pollUntil = async (client: Client, taskId: string, done: (status: string, message: string) => boolean) => {
  for (;;) {
    const task = await client.experimental.tasks.getTask(taskId)
    if (done(task.status, task.statusMessage ?? "")) return task
    await new Promise((resolve) => setTimeout(resolve, task.pollInterval ?? 50))
  }
}

beforeAll(async () => {
  fake = await startFakeEStat({ tables: [table] })
  dataDir = mkdtempSync(join(tmpdir(), "estat-tasks-"))
})

afterAll(async () => {
  for (const client of clients) await client.close().catch(() => undefined)
  for (const server of servers) await server.close()
  await fake.close()
  rmSync(dataDir, { recursive: true, force: true })
})

describe("MCP tasks (2025-11-25)", () => {
  it("declares tasks and marks the six long tools as optional tasks", async () => {
    const client = await connect(await startServer())
    expect(client.getServerCapabilities()?.tasks).toEqual({ list: {}, cancel: {}, requests: { tools: { call: {} } } })
    const { tools } = await client.listTools()
    expect(tools.filter((t) => t.execution?.taskSupport === "optional").map((t) => t.name).sort()).toEqual([
      "analyze_with_athena", "fetch_dataset_auto", "fetch_dataset_filtered", "fetch_large_dataset_complete", "load_to_iceberg", "save_dataset_as_csv"
    ])
    const refused = await startTask(client, "apply_keyword_suggestions", { original_query: "x", accepted_keywords: {} }).catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(McpError)
    expect((refused as McpError).code).toBe(-32601)
  })

  it("a task outlives its client; another client on another server polls it and gets every row", async () => {
    const [a, b] = [await startServer(), await startServer()]
    fake.setFaults({ latencyMs: 150 })
    const starter = await connect(a)
    const { task } = await startTask(starter, "fetch_large_dataset_complete", fetchArgs)
    expect(task).toMatchObject({ status: "working", ttl: 600_000, pollInterval: 50 })
    await starter.close()
    const other = await connect(b)
    const ended = await pollUntil(other, task.taskId, (s) => s !== "working")
    fake.setFaults({})
    expect(ended.status).toBe("completed")
    const result = await other.experimental.tasks.getTaskResult(task.taskId, CallToolResultSchema)
    expect(result.isError).toBe(false)
    expect(result.structuredContent).toMatchObject({ records_fetched: 240, expected_records: 240, complete: true, pages: 3 })
    expect(result._meta).toMatchObject({ "io.modelcontextprotocol/related-task": { taskId: task.taskId } })
    const listed = await other.experimental.tasks.listTasks()
    expect(listed.tasks.map((t) => t.taskId)).toContain(task.taskId)
  })

  it("tasks/cancel stops the run mid-way; the partial run resumes to the end", async () => {
    const server = await startServer()
    const client = await connect(server)
    fake.setFaults({ holdPage: { startPosition: 101 } })
    const { task } = await startTask(client, "fetch_large_dataset_complete", fetchArgs)
    // Page 1 stored (its progress names the run, which the cancelled result then names), page 2 held.
    await pollUntil(client, task.taskId, (s, message) => s === "working" && heldPageAsked() && message.startsWith("page 1/3"))
    const cancelled = await client.experimental.tasks.cancelTask(task.taskId)
    expect(cancelled.status).toBe("cancelled")
    fake.setFaults({})
    const result = await client.experimental.tasks.getTaskResult(task.taskId, CallToolResultSchema)
    expect(result.isError).toBe(true)
    const text = (result.content[0] as { text: string }).text
    const runId = /resume_run_id "([^"]+)"/.exec(text)![1]!
    const again = await client.experimental.tasks.cancelTask(task.taskId).catch((e: unknown) => e)
    expect((again as McpError).code).toBe(-32602)
    const resumed = await client.callTool({ name: "fetch_large_dataset_complete", arguments: { ...fetchArgs, force: false, resume_run_id: runId } })
    expect(resumed.structuredContent).toMatchObject({ run_id: runId, records_fetched: 240, complete: true })
  })

  it("a server stopped mid-task: the other server reports it failed, with the run to resume", async () => {
    const [a, b] = [await startServer(), await startServer()]
    const client = await connect(a)
    fake.setFaults({ holdPage: { startPosition: 101 } })
    const { task } = await startTask(client, "fetch_large_dataset_complete", fetchArgs)
    // Page 1 stored (its progress names the run), page 2 held.
    await pollUntil(client, task.taskId, (s, message) => s === "working" && heldPageAsked() && message.startsWith("page 1/3"))
    await client.close()
    await a.close()
    servers.splice(servers.indexOf(a), 1)
    fake.setFaults({})
    const other = await connect(b)
    const seen = await other.experimental.tasks.getTask(task.taskId)
    expect(seen.status).toBe("failed")
    expect(seen.statusMessage).toMatch(/The server stopped while this task ran\. Run \S+ is kept as partial: call the tool again with resume_run_id/)
  })

  it("the session that started a task hears when it ends (notifications/tasks/status on its GET stream)", async () => {
    const client = await connect(await startServer())
    const heard: Array<{ taskId: string; status: string }> = []
    client.setNotificationHandler(TaskStatusNotificationSchema, (n) => void heard.push(n.params))
    const { task } = await startTask(client, "fetch_dataset_auto", { dataset_id: table.info.id, force: true })
    await pollUntil(client, task.taskId, (s) => s !== "working")
    await expect.poll(() => heard.find((n) => n.taskId === task.taskId)?.status).toBe("completed")
  })

  it("without auth a task belongs to its session: another session does not find it", async () => {
    const server = await startServer({ authToken: Option.none() })
    const owner = await connect(server, null)
    const stranger = await connect(server, null)
    const { task } = await startTask(owner, "fetch_dataset_auto", { dataset_id: table.info.id })
    const refused = await stranger.experimental.tasks.getTask(task.taskId).catch((e: unknown) => e)
    expect((refused as McpError).code).toBe(-32602)
    expect((await stranger.experimental.tasks.listTasks()).tasks).toEqual([])
    const done = await pollUntil(owner, task.taskId, (s) => s !== "working")
    expect(done.status).toBe("completed")
  })
})

/** A raw 2026-07-28 request, as a client of the Tasks extension sends it (SDK v2 2.4.0's client refuses `resultType: "task"`). */
const post2026 = async (server: RunningServer, method: string, params: Record<string, unknown>, declares = true) => {
  const capabilities = declares ? { extensions: { "io.modelcontextprotocol/tasks": {} } } : {}
  const name = method === "tools/call" ? params["name"] : params["taskId"]
  const response = await fetch(server.mcpUrl, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      "mcp-protocol-version": "2026-07-28",
      "mcp-method": method,
      ...(typeof name === "string" ? { "mcp-name": name } : {})
    },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method,
      params: {
        ...params,
        _meta: {
          "io.modelcontextprotocol/protocolVersion": "2026-07-28",
          "io.modelcontextprotocol/clientInfo": { name: "tasks-2026", version: "1.0.0" },
          "io.modelcontextprotocol/clientCapabilities": capabilities
        }
      }
    })
  })
  // A long call without the extension streams (keep-alives), its answer the last event.
  const body = response.headers.get("content-type")?.includes("text/event-stream") === true
    ? JSON.parse((await readSse(response)).at(-1)!.data) as unknown
    : await response.json()
  return body as { result?: Record<string, unknown>; error?: { code: number; message: string } }
}

const pollUntil2026 = async (server: RunningServer, taskId: string, done: (status: unknown) => boolean) => {
  for (;;) {
    const { result } = await post2026(server, "tasks/get", { taskId })
    if (done(result?.["status"])) return result!
    await new Promise((resolve) => setTimeout(resolve, Number(result?.["pollIntervalMs"] ?? 50)))
  }
}

describe("the Tasks extension (2026-07-28)", () => {
  it("a fetch from a client of the extension becomes a task any server answers for, its result inlined once done", async () => {
    const [a, b] = [await startServer({ authToken: Option.none() }), await startServer({ authToken: Option.none() })]
    const created = await post2026(a, "tools/call", { name: "fetch_large_dataset_complete", arguments: fetchArgs })
    expect(created.result).toMatchObject({ resultType: "task", status: "working", ttlMs: 3_600_000, pollIntervalMs: 50 })
    expect(created.result).not.toHaveProperty("task")
    const taskId = String(created.result!["taskId"])
    const ended = await pollUntil2026(b, taskId, (s) => s !== "working")
    expect(ended).toMatchObject({ status: "completed", resultType: "complete", result: { isError: false } })
    expect((ended["result"] as { structuredContent: unknown }).structuredContent).toMatchObject({ records_fetched: 240, complete: true })
    // 2026-07-28 removed tasks/result and tasks/list.
    expect((await post2026(b, "tasks/result", { taskId })).error?.code).toBe(-32601)
  })

  it("SDK v2's client, which knows no Tasks extension, gets the plain call as before", async () => {
    const server = await startServer({ authToken: Option.none() })
    const client = new ClientV2({ name: "sdk-v2", version: "1.0.0" }, { versionNegotiation: { mode: { pin: "2026-07-28" } } })
    await client.connect(new TransportV2(server.mcpUrl))
    try {
      const result = await client.callTool({ name: "fetch_large_dataset_complete", arguments: fetchArgs })
      expect(result.isError).toBe(false)
      expect(result.structuredContent).toMatchObject({ records_fetched: 240, complete: true })
    } finally {
      await client.close()
    }
  })

  it("cancel is acknowledged and the task is cancelled; without the extension no task is made and tasks/* are refused", async () => {
    const server = await startServer({ authToken: Option.none() })
    fake.setFaults({ holdPage: { startPosition: 101 } })
    const created = await post2026(server, "tools/call", { name: "fetch_large_dataset_complete", arguments: fetchArgs })
    const taskId = String(created.result!["taskId"])
    await pollUntil2026(server, taskId, () => heldPageAsked())
    expect((await post2026(server, "tasks/cancel", { taskId })).result).toMatchObject({ resultType: "complete" })
    fake.setFaults({})
    expect(await pollUntil2026(server, taskId, (s) => s !== "working")).toMatchObject({ status: "cancelled" })
    // Idempotent on an ended task.
    expect((await post2026(server, "tasks/cancel", { taskId })).result).toMatchObject({ resultType: "complete" })
    expect((await post2026(server, "tasks/get", { taskId }, false)).error?.code).toBe(-32021)
    const plain = await post2026(server, "tools/call", { name: "fetch_dataset_auto", arguments: { dataset_id: table.info.id } }, false)
    expect(plain.result).toMatchObject({ resultType: "complete", isError: false })
    // Locally a query answers at once: analyze_with_athena stays a plain call even for a client of the extension.
    const unknownTable = await post2026(server, "tools/call", { name: "analyze_with_athena", arguments: { table_name: "none_here" } })
    expect(unknownTable.result).toMatchObject({ resultType: "complete", isError: true })
  })
})
