import type { Column } from "./dialect.js"

/**
 * The Glue Data Catalog actions of the fake (AWSGlue.*): databases are the fake DuckDB's schemas,
 * tables those the fake Athena's DDL made, with their declared Hive column types. GetTables pages
 * by 100, as Glue may.
 */

/** A table Glue knows: what its DDL declared. */
export interface GlueTable {
  readonly kind: "iceberg" | "external"
  readonly columns: ReadonlyArray<Column>
  readonly location: string
}

/** An AWS error answer: its `__type` and message. */
export class AwsFault extends Error {
  constructor(readonly type: string, message: string) {
    super(message)
  }
}

interface GlueState {
  readonly tables: ReadonlyMap<string, GlueTable>
  readonly schemas: () => Promise<ReadonlySet<string>>
  /** Creates the schema, or fails with AlreadyExistsException (atomically). */
  readonly createSchema: (name: string) => Promise<void>
}

const PAGE = 100

export const glueActions = (state: GlueState): Record<string, (body: Record<string, unknown>) => unknown> => {
  const database = async (name: unknown) => {
    if (!(await state.schemas()).has(String(name))) throw new AwsFault("EntityNotFoundException", `Database ${String(name)} not found.`)
    return String(name)
  }
  const tableOf = (databaseName: string, name: string, table: GlueTable) => ({
    Name: name,
    DatabaseName: databaseName,
    TableType: "EXTERNAL_TABLE",
    Parameters: table.kind === "iceberg" ? { table_type: "ICEBERG" } : { EXTERNAL: "TRUE" },
    StorageDescriptor: { Columns: table.columns.map((c) => ({ Name: c.name, Type: c.type })), Location: table.location }
  })
  const tablesIn = (databaseName: string) =>
    [...state.tables].filter(([key]) => key.startsWith(`${databaseName}.`)).map(([key, table]) => tableOf(databaseName, key.slice(databaseName.length + 1), table))
      .sort((a, b) => a.Name.localeCompare(b.Name))

  return {
    GetDatabase: async (body) => ({ Database: { Name: await database(body["Name"]) } }),
    CreateDatabase: async (body) => {
      await state.createSchema(String((body["DatabaseInput"] as { Name?: string } | undefined)?.Name))
      return {}
    },
    GetTable: async (body) => {
      const databaseName = await database(body["DatabaseName"])
      const name = String(body["Name"])
      const table = state.tables.get(`${databaseName}.${name}`)
      if (table === undefined) throw new AwsFault("EntityNotFoundException", `Table ${name} not found.`)
      return { Table: tableOf(databaseName, name, table) }
    },
    GetTables: async (body) => {
      const all = tablesIn(await database(body["DatabaseName"]))
      const offset = body["NextToken"] === undefined ? 0 : Number(body["NextToken"])
      const size = Math.min(Number(body["MaxResults"] ?? PAGE), PAGE)
      return { TableList: all.slice(offset, offset + size), ...(offset + size < all.length ? { NextToken: String(offset + size) } : {}) }
    }
  }
}
