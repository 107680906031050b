import { Either, Schema } from "effect"
import { QueryRejected } from "../../domain/sqlGuard.js"

/**
 * What DuckDB's own parser says a caller's SQL is. `json_serialize_sql` answers only for SELECT
 * statements (anything else is `"error": true`), one entry per statement; the tree it gives names
 * every table and table function the query reads, however they were spelled (quoted, qualified,
 * in subqueries, CTEs or set operations). The sandbox the query then runs in enforces the rest.
 */

const Parsed = Schema.Union(
  Schema.Struct({ error: Schema.Literal(true), error_message: Schema.optional(Schema.String) }),
  Schema.Struct({ error: Schema.Literal(false), statements: Schema.Array(Schema.Unknown) })
)
const decodeParsed = Schema.decodeUnknownEither(Schema.parseJson(Parsed))

/** Table functions that compute rows rather than read them: everything else reads files, the network or the engine itself. */
const ROW_GENERATORS = new Set(["range", "generate_series", "unnest"])

export interface SelectTree {
  /** Lower-cased names of the tables the query reads (CTE names excluded). */
  readonly tables: ReadonlySet<string>
}

const reject = (reason: string) => Either.left(new QueryRejected({ reason }))

type Node = Readonly<Record<string, unknown>>
const isNode = (value: unknown): value is Node => typeof value === "object" && value !== null && !Array.isArray(value)
const text = (value: unknown) => (typeof value === "string" ? value : "")

interface Found {
  readonly node: Node
  /** The CTE names in scope where the node stands: those of the nodes it sits in. */
  readonly ctes: ReadonlySet<string>
}

/**
 * Every object in the tree, depth first, with the CTE names in scope there: a query's CTEs cover
 * its body and the CTEs declared after them, never their own body (`WITH t AS (SELECT * FROM t)`
 * reads a real `t`) unless the CTE is recursive (its node then names it).
 */
function* nodesOf(value: unknown, ctes: ReadonlySet<string>): Generator<Found> {
  if (Array.isArray(value)) {
    for (const item of value) yield* nodesOf(item, ctes)
    return
  }
  if (!isNode(value)) return
  const recursive = value["type"] === "RECURSIVE_CTE_NODE" ? [text(value["cte_name"]).toLowerCase()] : []
  const here = recursive.length === 0 ? ctes : new Set([...ctes, ...recursive])
  yield { node: value, ctes: here }
  const cteMap = value["cte_map"]
  const entries = isNode(cteMap) && Array.isArray(cteMap["map"]) ? cteMap["map"].filter(isNode) : []
  const declared = new Set(here)
  for (const entry of entries) {
    yield* nodesOf(entry["value"], declared)
    declared.add(text(entry["key"]).toLowerCase())
  }
  for (const [key, child] of Object.entries(value)) if (key !== "cte_map") yield* nodesOf(child, declared)
}

/** "a DROP statement": the statement's first word, for messages only (the parser decided). */
const statementName = (sql: string) => {
  const word = /^(?:\s+|--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/)*([A-Za-z]+)/.exec(sql)?.[1]?.toUpperCase()
  return word === undefined ? "no statement" : `a${/^[AEIOU]/.test(word) ? "n" : ""} ${word} statement`
}

/**
 * The tables one read-only SELECT reads, from `json_serialize_sql`'s answer. `database` is the
 * only schema a table may be qualified with.
 */
export const inspectSelect = (sql: string, serialized: string, database: string): Either.Either<SelectTree, QueryRejected> =>
  Either.flatMap(
    Either.mapLeft(decodeParsed(serialized), () => new QueryRejected({ reason: "DuckDB's parser gave an answer that could not be read" })),
    (parsed) => {
      if (parsed.error) {
        const message = parsed.error_message ?? ""
        return reject(message.startsWith("Only SELECT") ? `it is ${statementName(sql)}, not a SELECT statement` : `it does not parse: ${message}`)
      }
      if (parsed.statements.length !== 1) {
        return reject(parsed.statements.length === 0 ? "the query is empty" : "it contains more than one statement")
      }
      const tables = new Set<string>()
      for (const { ctes, node } of nodesOf(parsed.statements[0], new Set())) {
        if (node["type"] === "TABLE_FUNCTION" && isNode(node["function"])) {
          const name = text(node["function"]["function_name"]).toLowerCase()
          if (!ROW_GENERATORS.has(name) || text(node["function"]["schema"]) !== "" || text(node["function"]["catalog"]) !== "") {
            return reject(`${name}() is not a table of the lake; query the tables by name`)
          }
        }
        if (node["type"] !== "BASE_TABLE") continue
        const [name, schema, catalog] = [text(node["table_name"]), text(node["schema_name"]), text(node["catalog_name"])]
        if (catalog !== "" || (schema !== "" && schema.toLowerCase() !== database.toLowerCase())) {
          return reject(`${[catalog, schema, name].filter((p) => p !== "").join(".")} is not a table of the lake; name tables as ${database}.<table> or <table>`)
        }
        // A CTE of an enclosing query, not a table.
        if (schema === "" && ctes.has(name.toLowerCase())) continue
        tables.add(name.toLowerCase())
      }
      return Either.right({ tables })
    }
  )
