import { Either, Schema } from "effect"

/**
 * The read-only SQL guard shared by Athena and DuckDB (ARCHITECTURE §5): one statement, a query
 * (`SELECT`, `WITH … SELECT`, `VALUES`, `TABLE`, set operations of those), nothing that writes,
 * changes schema, unloads, calls or configures. The text is tokenised like SQL is — strings,
 * quoted identifiers and comments are recognised, not guessed at with patterns — and the
 * statement's shape is checked on the tokens.
 */

export class QueryRejected extends Schema.TaggedError<QueryRejected>()("QueryRejected", {
  reason: Schema.String
}) {
  override get message() {
    return `The query was rejected: ${this.reason}. Only one read-only SELECT (or WITH … SELECT) statement is allowed.`
  }
}

type Token =
  | { readonly kind: "word"; readonly text: string; readonly upper: string }
  | { readonly kind: "quoted"; readonly text: string }
  | { readonly kind: "string"; readonly text: string }
  | { readonly kind: "number"; readonly text: string }
  | { readonly kind: "symbol"; readonly text: string; readonly at: number }

const reject = (reason: string) => Either.left(new QueryRejected({ reason }))

/** SQL tokens; comments are dropped, anything unterminated or outside SQL's ASCII syntax is an error. */
export const tokenize = (sql: string): Either.Either<ReadonlyArray<Token>, QueryRejected> => {
  const tokens: Array<Token> = []
  let i = 0
  while (i < sql.length) {
    const c = sql[i]!
    if (/\s/.test(c)) {
      i++
    } else if (c === "-" && sql[i + 1] === "-") {
      const end = sql.indexOf("\n", i)
      i = end === -1 ? sql.length : end + 1
    } else if (c === "/" && sql[i + 1] === "*") {
      const end = sql.indexOf("*/", i + 2)
      if (end === -1) return reject("a /* comment is not closed")
      i = end + 2
    } else if (c === "'" || c === '"' || c === "`") {
      // '' / "" / `` inside escape the quote itself.
      let j = i + 1
      let text = ""
      for (;;) {
        if (j >= sql.length) return reject(`a ${c === "'" ? "string" : "quoted identifier"} is not closed`)
        if (sql[j] === c) {
          if (sql[j + 1] === c) {
            text += c
            j += 2
            continue
          }
          break
        }
        text += sql[j]
        j++
      }
      tokens.push(c === "'" ? { kind: "string", text } : { kind: "quoted", text })
      i = j + 1
    } else if (/[A-Za-z_]/.test(c)) {
      let j = i + 1
      while (j < sql.length && /[A-Za-z0-9_$]/.test(sql[j]!)) j++
      const text = sql.slice(i, j)
      tokens.push({ kind: "word", text, upper: text.toUpperCase() })
      i = j
    } else if (/[0-9]/.test(c) || (c === "." && /[0-9]/.test(sql[i + 1] ?? ""))) {
      let j = i + 1
      while (j < sql.length && /[0-9.eE]/.test(sql[j]!)) j++
      tokens.push({ kind: "number", text: sql.slice(i, j) })
      i = j
    } else if ("(),.;*+-/%<>=!|:[]{}^&~?".includes(c)) {
      tokens.push({ kind: "symbol", text: c, at: i })
      i++
    } else {
      // Look-alike letters (Ｓ, Ѕ …), the backslash and other characters have no place outside strings.
      return reject(`the character "${c}" (U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}) is not allowed outside strings and quoted identifiers`)
    }
  }
  return Either.right(tokens)
}

/** Words that start or embed statements that write, change schema, export, call or configure. */
const FORBIDDEN = new Set([
  "INSERT", "UPDATE", "DELETE", "MERGE", "UPSERT", "REPLACE", "TRUNCATE", "CREATE", "DROP", "ALTER", "RENAME", "COMMENT",
  "GRANT", "REVOKE", "DENY", "UNLOAD", "COPY", "EXPORT", "IMPORT", "LOAD", "INSTALL", "ATTACH", "DETACH", "CALL", "EXECUTE",
  "EXEC", "PREPARE", "DEALLOCATE", "SET", "RESET", "PRAGMA", "USE", "VACUUM", "OPTIMIZE", "ANALYZE", "MSCK", "REFRESH",
  "BEGIN", "COMMIT", "ROLLBACK", "START", "CHECKPOINT", "DESCRIBE", "SHOW", "EXPLAIN", "SUMMARIZE", "INTO", "OUTFILE"
])

/** Table functions that read files or the network: data must come from the catalog's tables. */
const FORBIDDEN_FUNCTIONS = new Set([
  "READ_CSV", "READ_CSV_AUTO", "READ_PARQUET", "PARQUET_SCAN", "READ_JSON", "READ_JSON_AUTO", "READ_JSON_OBJECTS", "READ_TEXT",
  "READ_BLOB", "READ_NDJSON", "READ_XLSX", "GLOB", "SNIFF_CSV", "ICEBERG_SCAN", "DELTA_SCAN", "POSTGRES_SCAN", "SQLITE_SCAN",
  "MYSQL_SCAN", "HTTP_GET", "GETENV", "CURRENT_SETTING", "DUCKDB_SETTINGS", "DUCKDB_SECRETS", "QUERY", "QUERY_TABLE", "SYSTEM"
])

const STARTS = new Set(["SELECT", "WITH", "VALUES", "TABLE"])

/** Words that are also harmless function names: `replace(text, 'a', 'b')`. */
const ALSO_FUNCTIONS = new Set(["REPLACE"])

const CLAUSES = new Set(["FROM", "SELECT", "WHERE", "GROUP", "ORDER", "HAVING", "ON", "USING", "VALUES", "QUALIFY", "WINDOW", "LIMIT"])

const isSymbol = (token: Token | undefined, text: string) => token?.kind === "symbol" && token.text === text
const isWord = (token: Token | undefined, ...words: ReadonlyArray<string>) => token?.kind === "word" && words.includes(token.upper)

/** A string where a table goes (`FROM 'data.parquet'`, `JOIN '…'`, `FROM t, '…'`): DuckDB would read that file. */
const isStringAsTable = (tokens: ReadonlyArray<Token>, k: number) => {
  const previous = tokens[k - 1]
  if (isWord(previous, "FROM", "JOIN")) return true
  if (!isSymbol(previous, ",")) return false
  let depth = 0
  for (let j = k - 2; j >= 0; j--) {
    const token = tokens[j]!
    if (isSymbol(token, ")")) depth++
    else if (isSymbol(token, "(")) {
      if (depth === 0) return false
      depth--
    } else if (depth === 0 && token.kind === "word" && CLAUSES.has(token.upper)) return token.upper === "FROM"
  }
  return false
}

/** The lower-cased words and quoted identifiers of a query: the table names it can refer to. */
export const namesIn = (sql: string): ReadonlySet<string> =>
  new Set(Either.getOrElse(tokenize(sql), () => []).flatMap((t) => (t.kind === "word" || t.kind === "quoted" ? [t.text.toLowerCase()] : [])))

/** The checked statement, without a trailing semicolon. */
export const guardQuery = (sql: string): Either.Either<string, QueryRejected> =>
  Either.flatMap(tokenize(sql), (tokens) => {
    if (tokens.length === 0 || (tokens.length === 1 && isSymbol(tokens[0], ";"))) return reject("the query is empty")
    const last = tokens.at(-1)
    const terminator = last?.kind === "symbol" && last.text === ";" ? last.at : null
    const body = terminator === null ? tokens : tokens.slice(0, -1)
    if (body.some((t) => t.kind === "symbol" && t.text === ";")) return reject("it contains more than one statement")
    const first = body[0]!
    if (first.kind !== "word" && !(first.kind === "symbol" && first.text === "(")) return reject("it does not start with SELECT or WITH")
    const lead = body.find((t) => t.kind === "word")
    if (lead === undefined || lead.kind !== "word" || !STARTS.has(lead.upper)) return reject(`it starts with ${lead?.text ?? first.text}, not SELECT or WITH`)
    let depth = 0
    for (let k = 0; k < body.length; k++) {
      const token = body[k]!
      if (token.kind === "symbol" && token.text === "(") depth++
      if (token.kind === "symbol" && token.text === ")") depth--
      if (depth < 0) return reject("its parentheses do not match")
      if (token.kind === "string" && isStringAsTable(body, k)) return reject(`'${token.text}' is a file, not a table; query the tables by name`)
      if (token.kind !== "word") continue
      const call = isSymbol(body[k + 1], "(")
      if (FORBIDDEN.has(token.upper) && !(call && ALSO_FUNCTIONS.has(token.upper))) return reject(`${token.upper} is not allowed in a read-only query`)
      if (call && (FORBIDDEN_FUNCTIONS.has(token.upper) || token.upper.startsWith("DUCKDB_"))) {
        return reject(`${token.text}() reads outside the tables; query the tables by name`)
      }
    }
    if (depth !== 0) return reject("its parentheses do not match")
    return Either.right((terminator === null ? sql : sql.slice(0, terminator)).trim())
  })

/** Table and column names as Glue and Athena take them: lower case letters, digits and `_`, ≤ 128. */
export const Identifier = Schema.String.pipe(
  Schema.pattern(/^[a-z_][a-z0-9_]{0,127}$/, {
    message: () => "use lower-case letters, digits and _ only (at most 128, not starting with a digit)"
  })
)

export const isIdentifier = (name: string) => /^[a-z_][a-z0-9_]{0,127}$/.test(name)

/** A validated identifier, double-quoted for SQL. */
export const quoteName = (name: string) => `"${name.replaceAll('"', '""')}"`
