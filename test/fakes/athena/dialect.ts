/**
 * Athena's two dialects as far as the fake needs them, so that it refuses what Athena refuses:
 * Hive DDL (CREATE/DROP/ALTER: names in backticks, double quotes are a syntax error) and Trino DML
 * (SELECT/INSERT/DELETE/MERGE/UPDATE: names in double quotes, backticks refused), Iceberg tables
 * only with the table properties Athena documents.
 */

export interface Column {
  readonly name: string
  /** As declared (Hive type names: string, int, bigint, double, boolean). */
  readonly type: string
}

export type Statement =
  | { readonly kind: "query"; readonly sql: string }
  | { readonly kind: "write"; readonly sql: string; readonly schema: string; readonly table: string }
  | { readonly kind: "createExternal"; readonly schema: string; readonly table: string; readonly columns: ReadonlyArray<Column>; readonly location: string; readonly symlink: boolean }
  | { readonly kind: "createIceberg"; readonly schema: string; readonly table: string; readonly columns: ReadonlyArray<Column>; readonly location: string }
  | { readonly kind: "drop"; readonly schema: string; readonly table: string; readonly ifExists: boolean }
  | { readonly kind: "rejected"; readonly reason: string }

/** Hive column types Athena's DDL accepts, as DuckDB names them. */
export const hiveTypes: Readonly<Record<string, string>> = {
  string: "VARCHAR", int: "INTEGER", integer: "INTEGER", bigint: "BIGINT", double: "DOUBLE", float: "FLOAT", boolean: "BOOLEAN", date: "DATE"
}

/** Athena's documented Iceberg table properties (CREATE TABLE … TBLPROPERTIES). */
const icebergProperties = new Set([
  "table_type", "format", "write_compression", "optimize_rewrite_delete_file_threshold", "optimize_rewrite_data_file_threshold",
  "vacuum_min_snapshots_to_keep", "vacuum_max_snapshot_age_seconds", "vacuum_max_metadata_files_to_keep", "write_target_data_file_size_bytes"
])

/** The text with its '…' literals blanked, so that quotes inside strings are not taken for names. */
const outsideStrings = (sql: string) => sql.replace(/'(?:[^']|'')*'/g, (literal) => " ".repeat(literal.length))

const literal = (text: string) => text.slice(1, -1).replaceAll("''", "'")

const ddlName = String.raw`\`([^\`]+)\`\.\`([^\`]+)\``
const columnList = (text: string): ReadonlyArray<Column> | string => {
  const columns: Array<Column> = []
  for (const part of text.split(",")) {
    const match = /^\s*`([^`]+)`\s+([a-z]+)\s*$/i.exec(part)
    if (match === null) return `cannot recognize input near '${part.trim()}'`
    const type = match[2]!.toLowerCase()
    if (hiveTypes[type] === undefined) return `Unknown type '${match[2]}'`
    columns.push({ name: match[1]!, type })
  }
  return columns
}

const parseError = (detail: string) => ({ kind: "rejected" as const, reason: `FAILED: ParseException line 1:0 ${detail}` })

export const parse = (sql: string): Statement => {
  const bare = outsideStrings(sql).trim()
  const first = /^\s*(\w+)/.exec(bare)?.[1]?.toUpperCase() ?? ""
  if (["CREATE", "DROP", "ALTER"].includes(first)) {
    if (bare.includes('"')) return parseError(`cannot recognize input near '"': Hive DDL quotes names with backticks`)
    return ddl(sql)
  }
  if (bare.includes("`")) {
    return { kind: "rejected", reason: "SYNTAX_ERROR: line 1:1: backquoted identifiers are not supported; use double quotes to quote identifiers" }
  }
  const write = /^\s*(?:INSERT\s+INTO|DELETE\s+FROM|MERGE\s+INTO|UPDATE)\s+"([^"]+)"\."([^"]+)"/i.exec(sql)
  if (write !== null) return { kind: "write", sql, schema: write[1]!, table: write[2]! }
  if (/^(SELECT|WITH)$/.test(first)) return { kind: "query", sql }
  return { kind: "rejected", reason: `SYNTAX_ERROR: line 1:1: mismatched input '${first}'` }
}

const ddl = (sql: string): Statement => {
  const drop = new RegExp(String.raw`^\s*DROP\s+TABLE\s+(IF\s+EXISTS\s+)?${ddlName}\s*$`, "i").exec(sql)
  if (drop !== null) return { kind: "drop", ifExists: drop[1] !== undefined, schema: drop[2]!, table: drop[3]! }
  const external = new RegExp(
    String.raw`^\s*CREATE\s+EXTERNAL\s+TABLE\s+${ddlName}\s*\((.*?)\)\s+ROW\s+FORMAT\s+SERDE\s+'([^']+)'\s+STORED\s+AS\s+INPUTFORMAT\s+'([^']+)'\s+OUTPUTFORMAT\s+'([^']+)'\s+LOCATION\s+('(?:[^']|'')*')\s*$`,
    "is"
  ).exec(sql)
  if (external !== null) {
    const columns = columnList(external[3]!)
    if (typeof columns === "string") return parseError(columns)
    if (external[4] !== "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe") return parseError(`the fake reads Parquet only, not ${external[4]}`)
    return {
      kind: "createExternal", schema: external[1]!, table: external[2]!, columns, location: literal(external[7]!),
      symlink: external[5] === "org.apache.hadoop.hive.ql.io.SymlinkTextInputFormat"
    }
  }
  const iceberg = new RegExp(String.raw`^\s*CREATE\s+TABLE\s+${ddlName}\s*\((.*?)\)\s+LOCATION\s+('(?:[^']|'')*')\s+TBLPROPERTIES\s*\((.*)\)\s*$`, "is").exec(sql)
  if (iceberg !== null) {
    const columns = columnList(iceberg[3]!)
    if (typeof columns === "string") return parseError(columns)
    const properties = new Map<string, string>()
    for (const pair of iceberg[5]!.split(",")) {
      const match = /^\s*'([^']+)'\s*=\s*'([^']*)'\s*$/.exec(pair)
      if (match === null) return parseError(`cannot recognize input near '${pair.trim()}'`)
      if (!icebergProperties.has(match[1]!)) return { kind: "rejected", reason: `Unsupported table property key: ${match[1]}` }
      properties.set(match[1]!, match[2]!)
    }
    if (properties.get("table_type")?.toUpperCase() !== "ICEBERG") return { kind: "rejected", reason: "the fake makes Iceberg tables only ('table_type'='ICEBERG')" }
    return { kind: "createIceberg", schema: iceberg[1]!, table: iceberg[2]!, columns, location: literal(iceberg[4]!) }
  }
  return parseError("the fake does not know this DDL")
}
