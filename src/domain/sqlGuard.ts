import { Either, Schema } from "effect"

/**
 * The statement check of caller SQL on Athena (ARCHITECTURE §5): one statement that is a query.
 * The text is tokenised like SQL is — strings, quoted identifiers and comments are recognised —
 * so a `;` or a first word inside them is not mistaken for one. What a query may read or write is
 * not decided here but by IAM: Athena runs it as the analysis role (ATHENA_QUERY_ROLE_ARN), which
 * reads the tables and writes query results only. Locally DuckDB's own parser and a locked
 * sandbox decide (services/query/DuckDb.ts).
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
const tokenize = (sql: string): Either.Either<ReadonlyArray<Token>, QueryRejected> => {
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

const STARTS = new Set(["SELECT", "WITH", "VALUES", "TABLE"])

const isSymbol = (token: Token | undefined, text: string) => token?.kind === "symbol" && token.text === text

/**
 * The checked statement, without a trailing semicolon: exactly one statement, and a query by its
 * first word (Athena has no statement that starts with SELECT, WITH, VALUES or TABLE and writes).
 */
export const guardQuery = (sql: string): Either.Either<string, QueryRejected> =>
  Either.flatMap(tokenize(sql), (tokens) => {
    if (tokens.length === 0 || (tokens.length === 1 && isSymbol(tokens[0], ";"))) return reject("the query is empty")
    const last = tokens.at(-1)
    const terminator = last?.kind === "symbol" && last.text === ";" ? last.at : null
    const body = terminator === null ? tokens : tokens.slice(0, -1)
    if (body.some((t) => isSymbol(t, ";"))) return reject("it contains more than one statement")
    const lead = body.find((t) => t.kind === "word")
    const first = body[0]!
    if ((first.kind !== "word" && !isSymbol(first, "(")) || lead === undefined || lead.kind !== "word" || !STARTS.has(lead.upper)) {
      return reject(`it starts with ${lead?.kind === "word" ? lead.text : "something else"}, not SELECT or WITH`)
    }
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
