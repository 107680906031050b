import { randomUUID } from "node:crypto"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { type DuckDBConnection, DuckDBInstance } from "@duckdb/node-api"
import { hiveTypes, parse, type Statement } from "./dialect.js"
import { AwsFault, glueActions, type GlueTable } from "./glue.js"

/**
 * A fake Amazon Athena and AWS Glue on 127.0.0.1 speaking the AWS JSON 1.1 protocol (X-Amz-Target
 * AmazonAthena.* and AWSGlue.*), backed by DuckDB, that holds the code to Athena's behaviour:
 * - workgroups: an enforced output location wins; with none in the workgroup or the request,
 *   StartQueryExecution is refused as Athena refuses it; a bytes-scanned cutoff cancels the query;
 * - a query is QUEUED (at least until the first GetQueryExecution) before it is RUNNING;
 * - a failure carries Athena's shape: StateChangeReason and AthenaError (category, type, retryable);
 * - every value comes back as text in VarCharValue (bigint included), in pages of at most 1,000
 *   rows with the header row first, in Athena's type names;
 * - Hive DDL and Trino DML are told apart as Athena does (dialect.ts): backticks in DML, double
 *   quotes in DDL and unknown table properties are refused;
 * - Iceberg tables made by CREATE TABLE … TBLPROPERTIES ('table_type'='ICEBERG') get a snapshot per
 *   committed write, readable as "<table>$snapshots" with ids past 2^53; external tables over a
 *   symlink manifest read the Parquet files it lists (through `readObject`);
 * - Glue sees the databases and tables the DDL made.
 * It records what it was sent and which actions were called, by whom.
 */

interface Execution {
  readonly id: string
  readonly sql: string
  readonly workgroup: string
  readonly database: string | undefined
  readonly outputLocation: string
  /** Whose credentials signed the request (the access key id of its SigV4 Authorization). */
  readonly accessKeyId: string | undefined
  state: "QUEUED" | "RUNNING" | "SUCCEEDED" | "FAILED" | "CANCELLED"
  reason?: string
  error?: { ErrorCategory: number; ErrorType: number; Retryable: boolean; ErrorMessage: string }
  columns: Array<{ Name: string; Type: string }>
  rows: Array<Array<string | null>>
  elapsedMs: number
  polled: () => void
}

export interface Workgroup {
  readonly outputLocation?: string
  readonly enforce?: boolean
  readonly bytesScannedCutoff?: number
}

export interface FakeAthenaOptions {
  readonly runMillis?: number
  /** The workgroups there are; default: any name, none with a result configuration. */
  readonly workgroups?: Readonly<Record<string, Workgroup>>
  /** Reads an object (`s3://…`): the symlink manifests and the Parquet files they list. */
  readonly readObject?: (uri: string) => Promise<Uint8Array>
  /** This many writes to Iceberg tables fail with ICEBERG_COMMIT_ERROR first (concurrent commits). */
  readonly failCommits?: number
  /** A write to an Iceberg table fails with this reason, when it gives one (bad data and the like). */
  readonly failWrite?: (sql: string) => string | undefined
}

/** A call the fake answered: the service, the action, what it named, and whose credentials signed it. */
export interface FakeAwsCall {
  readonly service: "athena" | "glue"
  readonly action: string
  /** The workgroup (StartQueryExecution) or Glue database the call named, if any. */
  readonly resource: string | undefined
  readonly accessKeyId: string | undefined
}

/** The workgroup or database a request names (the resource IAM checks it on). */
const resourceOf = (body: Record<string, unknown>): string | undefined => {
  const named = body["WorkGroup"] ?? body["DatabaseName"] ?? (body["DatabaseInput"] as { Name?: unknown } | undefined)?.Name ?? body["Name"]
  return named === undefined ? undefined : String(named)
}

export interface FakeAthenaHandle {
  readonly endpoint: string
  /** Runs SQL on the fake's DuckDB (test set-up: tables the queries read). */
  readonly setup: (sql: string) => Promise<void>
  /** Rows of SQL on the fake's DuckDB as JSON values (test checks). */
  readonly rows: (sql: string) => Promise<ReadonlyArray<Record<string, unknown>>>
  readonly executions: ReadonlyArray<Execution>
  readonly stopped: ReadonlyArray<string>
  readonly calls: ReadonlyArray<FakeAwsCall>
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
  if (t.startsWith("TIMESTAMP")) return "timestamp"
  return "varchar"
}

/** Athena's error categories: 1 system, 2 user, 3 other. */
const failure = (reason: string) => ({
  ErrorCategory: reason.startsWith("ICEBERG_COMMIT_ERROR") ? 1 : 2,
  ErrorType: reason.startsWith("ICEBERG_COMMIT_ERROR") ? 401 : reason.startsWith("SYNTAX_ERROR") || reason.includes("ParseException") ? 1004 : 1000,
  Retryable: reason.startsWith("ICEBERG_COMMIT_ERROR"),
  ErrorMessage: reason
})

const quoted = (name: string) => `"${name.replaceAll('"', '""')}"`
const SNAPSHOT_BASE = 7565767416590411866n

export const startFakeAthena = async (options: FakeAthenaOptions = {}): Promise<FakeAthenaHandle> => {
  const db = await DuckDBInstance.create(":memory:")
  const connection: DuckDBConnection = await db.connect()
  const executions = new Map<string, Execution>()
  const stopped: Array<string> = []
  const calls: Array<FakeAwsCall> = []
  const tables = new Map<string, GlueTable>()
  let snapshots = 0n
  let commitFailures = options.failCommits ?? 0

  // One statement at a time on the one connection (its settings, e.g. the search path, are per statement).
  let queue: Promise<unknown> = Promise.resolve()
  const exclusive = <A>(work: () => Promise<A>): Promise<A> => {
    const next = queue.then(work, work)
    queue = next.catch(() => undefined)
    return next
  }
  const schemas = async () =>
    new Set((await connection.runAndReadAll("SELECT schema_name FROM information_schema.schemata")).getRows().map((r) => String(r[0])))

  /** Materialises an external table over a symlink manifest: the Parquet files it lists, as they are now. */
  const createExternal = async (statement: Extract<Statement, { kind: "createExternal" }>) => {
    if (!statement.symlink || options.readObject === undefined) throw new Error("HIVE_UNKNOWN_ERROR: the fake reads symlink manifests only, with readObject")
    const manifest = new TextDecoder().decode(await options.readObject(`${statement.location}symlink.txt`))
    const folder = mkdtempSync(join(tmpdir(), "fake-athena-"))
    try {
      const files = await Promise.all(manifest.split("\n").filter((l) => l.trim() !== "").map(async (uri, i) => {
        const file = join(folder, `${i}.parquet`)
        writeFileSync(file, await options.readObject!(uri))
        return file
      }))
      const select = statement.columns.map((c) => `CAST(${quoted(c.name)} AS ${hiveTypes[c.type]}) AS ${quoted(c.name)}`).join(", ")
      await connection.run(`CREATE TABLE ${quoted(statement.schema)}.${quoted(statement.table)} AS SELECT ${select} FROM read_parquet([${files.map((f) => `'${f}'`).join(", ")}])`)
    } finally {
      rmSync(folder, { recursive: true, force: true })
    }
  }

  const execute = async (execution: Execution, statement: Statement) => {
    if (statement.kind === "rejected") throw new Error(statement.reason)
    if (statement.kind === "createExternal" || statement.kind === "createIceberg" || statement.kind === "drop") {
      const key = `${statement.schema}.${statement.table}`
      if (!(await schemas()).has(statement.schema)) throw new Error(`FAILED: SemanticException [Error 10072]: Database does not exist: ${statement.schema}`)
      if (statement.kind === "drop") {
        if (!tables.has(key) && !statement.ifExists) throw new Error(`FAILED: SemanticException [Error 10001]: Table not found ${key}`)
        await connection.run(`DROP TABLE IF EXISTS ${quoted(statement.schema)}.${quoted(statement.table)}`)
        await connection.run(`DROP TABLE IF EXISTS ${quoted(statement.schema)}.${quoted(`${statement.table}$snapshots`)}`)
        tables.delete(key)
        return
      }
      if (tables.has(key)) throw new Error(`FAILED: AlreadyExistsException: Table ${key} already exists`)
      if (statement.kind === "createExternal") await createExternal(statement)
      else {
        await connection.run(`CREATE TABLE ${quoted(statement.schema)}.${quoted(statement.table)} (${statement.columns.map((c) => `${quoted(c.name)} ${hiveTypes[c.type]}`).join(", ")})`)
        await connection.run(`CREATE TABLE ${quoted(statement.schema)}.${quoted(`${statement.table}$snapshots`)} (committed_at TIMESTAMP, snapshot_id BIGINT, operation VARCHAR)`)
      }
      tables.set(key, { kind: statement.kind === "createIceberg" ? "iceberg" : "external", columns: statement.columns, location: statement.location })
      return
    }
    const target = statement.kind === "write" ? tables.get(`${statement.schema}.${statement.table}`) : undefined
    if (statement.kind === "write" && target?.kind !== "iceberg") throw new Error("NOT_SUPPORTED: Modifying Hive tables is not supported; Athena writes Iceberg tables")
    if (target !== undefined && commitFailures > 0) {
      commitFailures--
      throw new Error("ICEBERG_COMMIT_ERROR: Failed to commit Iceberg update to table: another commit changed the table")
    }
    const writeFailure = target === undefined ? undefined : options.failWrite?.(statement.sql)
    if (writeFailure !== undefined) throw new Error(writeFailure)
    const known = await schemas()
    await connection.run(`SET search_path = '${[execution.database, "main"].filter((s) => s !== undefined && known.has(s)).join(",")}'`)
    const reader = await connection.runAndReadAll(statement.sql)
    if (statement.kind === "write") {
      snapshots++
      await connection.run(
        `INSERT INTO ${quoted(statement.schema)}.${quoted(`${statement.table}$snapshots`)} VALUES (now() + INTERVAL (${snapshots}) MICROSECOND, ${SNAPSHOT_BASE + snapshots}, '${statement.sql.split(" ")[0]!.toLowerCase()}')`
      )
      execution.columns = [{ Name: "rows", Type: "bigint" }]
      execution.rows = [[String(reader.getRows()[0]?.[0] ?? 0)]]
      return
    }
    const names = reader.columnNames()
    const types = reader.columnTypes().map((t) => athenaType(t.toString()))
    execution.columns = names.map((Name, i) => ({ Name, Type: types[i] ?? "varchar" }))
    execution.rows = reader.getRowsJS().map((row) => row.map((v) => (v === null || v === undefined ? null : v instanceof Date ? v.toISOString() : String(v))))
  }

  const run = async (execution: Execution, dequeued: Promise<void>) => {
    const started = Date.now()
    const cancelled = () => execution.state === "CANCELLED"
    await dequeued
    if (cancelled()) return
    execution.state = "RUNNING"
    if ((options.runMillis ?? 0) > 0) await new Promise((resolve) => setTimeout(resolve, options.runMillis))
    if (cancelled()) return
    try {
      await exclusive(() => execute(execution, parse(execution.sql)))
      const cutoff = options.workgroups?.[execution.workgroup]?.bytesScannedCutoff
      if (cutoff !== undefined && execution.rows.length * 64 > cutoff) {
        execution.state = "CANCELLED"
        execution.reason = "Query cancelled! : Bytes scanned limit was exceeded"
        execution.error = { ...failure(execution.reason), ErrorCategory: 2 }
      } else if (execution.state === "RUNNING") execution.state = "SUCCEEDED"
    } catch (error) {
      const message = error instanceof Error ? error.message.split("\n")[0]! : String(error)
      execution.state = "FAILED"
      execution.reason = /^[A-Z_]+:|^FAILED:|^Unsupported/.test(message) ? message : `SYNTAX_ERROR: ${message}`
      execution.error = failure(execution.reason)
    }
    execution.elapsedMs = Date.now() - started
  }

  const find = (id: unknown) => {
    const execution = executions.get(String(id))
    if (execution === undefined) throw new AwsFault("InvalidRequestException", `QueryExecution ${String(id)} was not found`)
    return execution
  }

  const athenaActions: Record<string, (body: Record<string, unknown>, signer: string | undefined) => unknown> = {
    StartQueryExecution: (body, signer) => {
      const workgroup = String(body["WorkGroup"] ?? "primary")
      const settings = options.workgroups === undefined ? {} : options.workgroups[workgroup]
      if (settings === undefined) throw new AwsFault("InvalidRequestException", `WorkGroup ${workgroup} is not found.`)
      const requested = (body["ResultConfiguration"] as { OutputLocation?: string } | undefined)?.OutputLocation
      const outputLocation = settings.enforce === true ? settings.outputLocation ?? requested : requested ?? settings.outputLocation
      if (outputLocation === undefined) {
        throw new AwsFault("InvalidRequestException", "No output location provided. An output location is required either through the Workgroup result configuration setting or as an API input.")
      }
      const id = randomUUID()
      const context = body["QueryExecutionContext"] as { Database?: string } | undefined
      let polled = () => {}
      const dequeued = new Promise<void>((resolve) => (polled = resolve))
      const execution: Execution = {
        id, sql: String(body["QueryString"]), workgroup, database: context?.Database, outputLocation, accessKeyId: signer,
        state: "QUEUED", columns: [], rows: [], elapsedMs: 0, polled
      }
      executions.set(id, execution)
      void run(execution, dequeued)
      return { QueryExecutionId: id }
    },
    GetQueryExecution: (body) => {
      const execution = find(body["QueryExecutionId"])
      const answer = {
        QueryExecution: {
          QueryExecutionId: execution.id,
          Query: execution.sql,
          WorkGroup: execution.workgroup,
          ResultConfiguration: { OutputLocation: `${execution.outputLocation}${execution.id}.csv` },
          Status: {
            State: execution.state,
            ...(execution.reason === undefined ? {} : { StateChangeReason: execution.reason }),
            ...(execution.error === undefined ? {} : { AthenaError: execution.error })
          },
          Statistics: { DataScannedInBytes: execution.rows.length * 64, EngineExecutionTimeInMillis: execution.elapsedMs }
        }
      }
      execution.polled() // the answer above was QUEUED the first time; the query runs from now on
      return answer
    },
    GetQueryResults: (body) => {
      const execution = find(body["QueryExecutionId"])
      if (execution.state !== "SUCCEEDED") {
        throw new AwsFault("InvalidRequestException", `Query has not yet finished. Current state: ${execution.state}`)
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
      if (execution !== undefined && (execution.state === "RUNNING" || execution.state === "QUEUED")) {
        execution.state = "CANCELLED"
        execution.polled()
      }
      return {}
    }
  }
  const glue = glueActions({ tables, schemas: () => exclusive(schemas), createSchema: (name) =>
      exclusive(async () => {
        if ((await schemas()).has(name)) throw new AwsFault("AlreadyExistsException", "Database already exists.")
        await connection.run(`CREATE SCHEMA ${quoted(name)}`)
      })
  })

  const handle = async (req: IncomingMessage, res: ServerResponse, raw: string) => {
    const target = String(req.headers["x-amz-target"] ?? "")
    const [prefix, name] = target.split(".")
    const service = prefix === "AmazonAthena" ? "athena" : prefix === "AWSGlue" ? "glue" : undefined
    const action = service === "athena" ? athenaActions[name ?? ""] : service === "glue" ? glue[name ?? ""] : undefined
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/x-amz-json-1.1" })
      res.end(JSON.stringify(body))
    }
    if (action === undefined || service === undefined) return reply(400, { __type: "UnknownOperationException", message: target })
    const signer = /Credential=([^/]+)\//.exec(String(req.headers["authorization"] ?? ""))?.[1]
    try {
      const body = JSON.parse(raw || "{}") as Record<string, unknown>
      calls.push({ service, action: name!, resource: service === "glue" || name === "StartQueryExecution" ? resourceOf(body) : undefined, accessKeyId: signer })
      reply(200, await action(body, signer))
    } catch (error) {
      const type = error instanceof AwsFault ? error.type : "InternalServerException"
      reply(400, { __type: type, Message: error instanceof Error ? error.message : String(error) })
    }
  }

  const server = createServer((req, res) => {
    let raw = ""
    req.on("data", (chunk: Buffer) => (raw += chunk.toString()))
    req.on("end", () => void handle(req, res, raw))
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    setup: (sql) => exclusive(async () => void (await connection.run(sql))),
    rows: (sql) => exclusive(async () => (await connection.runAndReadAll(sql)).getRowObjectsJson() as ReadonlyArray<Record<string, unknown>>),
    get executions() {
      return [...executions.values()]
    },
    stopped,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => {
          void queue.then(() => {
            connection.closeSync()
            db.closeSync()
            resolve()
          })
        })
      })
  }
}
