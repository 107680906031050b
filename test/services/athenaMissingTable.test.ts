import { AthenaClient, GetQueryExecutionCommand, StartQueryExecutionCommand, StopQueryExecutionCommand } from "@aws-sdk/client-athena"
import { GetTablesCommand, GlueClient } from "@aws-sdk/client-glue"
import { mockClient } from "aws-sdk-client-mock"
import { Effect } from "effect"
import { describe, expect, it } from "@effect/vitest"
import { make } from "../../src/services/lakehouse/aws.js"
import type { TableLock } from "../../src/services/lakehouse/tableLock.js"
import { pipelineContext } from "../support/pipeline.js"

const credentials = { accessKeyId: "test", secretAccessKey: "test" }
const passThrough: TableLock = { withLock: (_table, use) => use }

/** Athena failing every statement (TABLE_NOT_FOUND when it names `households`); Glue listing the database's tables. */
const mocked = () => {
  const athena = new AthenaClient({ region: "ap-northeast-1", credentials })
  const glue = new GlueClient({ region: "ap-northeast-1", credentials })
  const statements: Array<string> = []
  mockClient(athena).on(StartQueryExecutionCommand).callsFake((input: { QueryString: string }) => {
    statements.push(input.QueryString)
    return Promise.resolve({ QueryExecutionId: String(statements.length - 1) })
  }).on(GetQueryExecutionCommand).callsFake((input: { QueryExecutionId: string }) => {
    const sql = statements[Number(input.QueryExecutionId)]!
    const reason = sql.includes("households")
      ? "TABLE_NOT_FOUND: line 1:15: Table 'awsdatacatalog.estat_db.households' does not exist"
      : "COLUMN_NOT_FOUND: line 1:8: Column 'nope' cannot be resolved"
    return Promise.resolve({ QueryExecution: { Status: { State: "FAILED", StateChangeReason: reason } } })
  }).on(StopQueryExecutionCommand).resolves({})
  mockClient(glue).on(GetTablesCommand).resolves({ TableList: [{ Name: "census" }, { Name: "estat_tmp_x" }, { Name: "cpi" }] })
  return { athena, glue }
}

/** On Athena, as on the local engine, a model that names a table the lake lacks inside custom SQL learns the tables it has. */
describe("caller SQL on Athena naming a missing table", () => {
  it.scopedLive("is answered with the database's tables; other failures pass as they are", () =>
    Effect.gen(function* () {
      const { context, settings } = yield* pipelineContext("aws")
      const { athena, glue } = mocked()
      const lakehouse = yield* make(settings, athena, glue, passThrough).pipe(Effect.provide(context))
      const missing = yield* Effect.flip(lakehouse.query({ sql: "SELECT * FROM households", maxRows: 10 }))
      expect(missing.message).toBe(
        "The athena query ended FAILED: TABLE_NOT_FOUND: line 1:15: Table 'awsdatacatalog.estat_db.households' does not exist; the tables are census, cpi"
      )
      const other = yield* Effect.flip(lakehouse.query({ sql: "SELECT nope FROM census", maxRows: 10 }))
      expect(other.message).toBe("The athena query ended FAILED: COLUMN_NOT_FOUND: line 1:8: Column 'nope' cannot be resolved")
    }))
})
