import { randomUUID } from "node:crypto"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { type DuckDBConnection, DuckDBInstance } from "@duckdb/node-api"

/**
 * A fake Amazon Athena on 127.0.0.1 speaking the AWS JSON 1.1 protocol (X-Amz-Target
 * AmazonAthena.*), backed by DuckDB: queries run for real, results come back in pages of at most
 * 1,000 rows with Athena's header row first, in Athena's type names. It records what it was sent.
 */

interface Execution {
  readonly id: string
  readonly sql: string
  readonly workgroup: string | undefined
  readonly database: string | undefined
  /** Whose credentials signed the request (the access key id of its SigV4 Authorization). */
  readonly accessKeyId: string | undefined
  state: "QUEUED" | "RUNNING" | "SUCCEEDED" | "FAILED" | "CANCELLED"
  reason?: string
  columns: Array<{ Name: string; Type: string }>
  rows: Array<Array<string | null>>
  elapsedMs: number
}

export interface FakeAthenaHandle {
  readonly endpoint: string
  /** Runs SQL on the fake's DuckDB (test set-up: tables the queries read). */
  readonly setup: (sql: string) => Promise<void>
  readonly executions: ReadonlyArray<Execution>
  readonly stopped: ReadonlyArray<string>
  readonly close: () => Promise<void>
}

const athenaType = (duckType: string) => {
  const t = duckType.toUpperCase()
  if (t === "INTEGER") return "integer"
  if (t === "BIGINT" || t === "HUGEINT") return "bigint"
  if (t === "DOUBLE") return "double"
  if (t === "FLOAT") return "float"
  if (t === "BOOLEAN") return "boolean"
  if (t.startsWith("DECIMAL")) return "decimal"
  if (t === "DATE") return "date"
  return "varchar"
}

export const startFakeAthena = async (options: { readonly runMillis?: number } = {}): Promise<FakeAthenaHandle> => {
  const db = await DuckDBInstance.create(":memory:")
  const connection: DuckDBConnection = await db.connect()
  const executions = new Map<string, Execution>()
  const stopped: Array<string> = []

  const run = async (execution: Execution) => {
    const started = Date.now()
    if ((options.runMillis ?? 0) > 0) await new Promise((resolve) => setTimeout(resolve, options.runMillis))
    if (execution.state === "CANCELLED") return
    try {
      const reader = await connection.runAndReadAll(execution.sql)
      const names = reader.columnNames()
      const types = reader.columnTypes().map((t) => athenaType(t.toString()))
      execution.columns = names.map((Name, i) => ({ Name, Type: types[i] ?? "varchar" }))
      execution.rows = reader.getRowsJS().map((row) => row.map((v) => (v === null || v === undefined ? null : String(v))))
      if (execution.state === "RUNNING") execution.state = "SUCCEEDED"
    } catch (error) {
      execution.state = "FAILED"
      execution.reason = `SYNTAX_ERROR: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`
    }
    execution.elapsedMs = Date.now() - started
  }

  const actions: Record<string, (body: Record<string, unknown>, signer: string | undefined) => unknown> = {
    StartQueryExecution: (body, signer) => {
      const id = randomUUID()
      const context = body["QueryExecutionContext"] as { Database?: string } | undefined
      const execution: Execution = {
        id, sql: String(body["QueryString"]), workgroup: body["WorkGroup"] as string | undefined, database: context?.Database, accessKeyId: signer,
        state: "RUNNING", columns: [], rows: [], elapsedMs: 0
      }
      executions.set(id, execution)
      void run(execution)
      return { QueryExecutionId: id }
    },
    GetQueryExecution: (body) => {
      const execution = executions.get(String(body["QueryExecutionId"]))
      if (execution === undefined) throw Object.assign(new Error("Query not found"), { type: "InvalidRequestException" })
      return {
        QueryExecution: {
          QueryExecutionId: execution.id,
          Query: execution.sql,
          WorkGroup: execution.workgroup,
          Status: { State: execution.state, ...(execution.reason === undefined ? {} : { StateChangeReason: execution.reason }) },
          Statistics: { DataScannedInBytes: execution.rows.length * 64, EngineExecutionTimeInMillis: execution.elapsedMs }
        }
      }
    },
    GetQueryResults: (body) => {
      const execution = executions.get(String(body["QueryExecutionId"]))
      if (execution === undefined || execution.state !== "SUCCEEDED") {
        throw Object.assign(new Error(`Query has not yet finished. Current state: ${execution?.state ?? "UNKNOWN"}`), { type: "InvalidRequestException" })
      }
      const pageSize = Math.min(Number(body["MaxResults"] ?? 1000), 1000)
      const offset = body["NextToken"] === undefined ? 0 : Number(body["NextToken"])
      // Row 0 of the result set is the header row, as Athena sends it.
      const all = [execution.columns.map((c) => c.Name), ...execution.rows]
      const page = all.slice(offset, offset + pageSize)
      return {
        ResultSet: {
          Rows: page.map((row) => ({ Data: row.map((v) => (v === null ? {} : { VarCharValue: v })) })),
          ResultSetMetadata: { ColumnInfo: execution.columns.map((c) => ({ ...c, CatalogName: "hive", Nullable: "UNKNOWN" })) }
        },
        ...(offset + pageSize < all.length ? { NextToken: String(offset + pageSize) } : {})
      }
    },
    StopQueryExecution: (body) => {
      const id = String(body["QueryExecutionId"])
      stopped.push(id)
      const execution = executions.get(id)
      if (execution !== undefined && (execution.state === "RUNNING" || execution.state === "QUEUED")) execution.state = "CANCELLED"
      return {}
    }
  }

  const handle = (req: IncomingMessage, res: ServerResponse, raw: string) => {
    const target = String(req.headers["x-amz-target"] ?? "")
    const action = actions[target.replace("AmazonAthena.", "")]
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/x-amz-json-1.1" })
      res.end(JSON.stringify(body))
    }
    if (action === undefined) return reply(400, { __type: "UnknownOperationException", message: target })
    try {
      const signer = /Credential=([^/]+)\//.exec(String(req.headers["authorization"] ?? ""))?.[1]
      reply(200, action(JSON.parse(raw || "{}") as Record<string, unknown>, signer))
    } catch (error) {
      const type = (error as { type?: string }).type ?? "InternalServerException"
      reply(400, { __type: type, Message: error instanceof Error ? error.message : String(error) })
    }
  }

  const server = createServer((req, res) => {
    let raw = ""
    req.on("data", (chunk: Buffer) => (raw += chunk.toString()))
    req.on("end", () => handle(req, res, raw))
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    setup: async (sql) => void (await connection.run(sql)),
    get executions() {
      return [...executions.values()]
    },
    stopped,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => {
          connection.closeSync()
          db.closeSync()
          resolve()
        })
      })
  }
}
