import { ParseResult } from "effect"
import { closeMatches } from "../domain/filters.js"
import type { JsonSchemaObject } from "./jsonSchema.js"

/**
 * Argument errors in the tool's own terms, one sentence per argument: its name, what was given,
 * what is expected and an example — from the decoder's issues and the published JSON Schema
 * (descriptions, bounds, enums, defaults, `examples`), so no tool writes its own messages.
 * Effect's messages ("Expected { readonly query: … }, actual …") stay out: a model cannot act on them.
 */

type Path = ReadonlyArray<PropertyKey>

const isObject = (value: unknown): value is JsonSchemaObject => typeof value === "object" && value !== null && !Array.isArray(value)

/** The schema of the value at `path` (through properties, records, arrays, unions and `$defs`). */
const schemaAt = (root: JsonSchemaObject, path: Path): JsonSchemaObject | undefined => {
  const resolve = (node: unknown): JsonSchemaObject | undefined => {
    if (!isObject(node)) return undefined
    const ref = node["$ref"]
    const defs = root["$defs"]
    return typeof ref === "string" && isObject(defs) ? resolve(defs[ref.split("/").at(-1)!]) : node
  }
  let node = resolve(root)
  for (const key of path) {
    if (node === undefined) return undefined
    const properties = node["properties"]
    const inner: unknown = typeof key === "number" ? node["items"]
      : isObject(properties) && String(key) in properties ? properties[String(key)]
      : node["additionalProperties"]
    node = resolve(inner)
  }
  return node
}

const valueAt = (value: unknown, path: Path): unknown =>
  path.reduce<unknown>((v, key) => (typeof v === "object" && v !== null ? (v as Record<PropertyKey, unknown>)[key] : undefined), value)

const shown = (value: unknown) => {
  const text = JSON.stringify(value) ?? String(value)
  return text.length > 80 ? `${text.slice(0, 77)}…` : text
}

const typeNames: Readonly<Record<string, string>> = {
  string: "a string", integer: "an integer", number: "a number", boolean: "true or false", array: "a list", object: "an object"
}

const bounds = (schema: JsonSchemaObject, unit: string) => {
  const min = schema["minimum"] ?? schema["minLength"] ?? schema["minItems"]
  const max = schema["maximum"] ?? schema["maxLength"] ?? schema["maxItems"]
  const what = unit === "" ? "" : ` ${unit}`
  const above = schema["exclusiveMinimum"]
  if (typeof above === "number") return ` greater than ${above}`
  return typeof min === "number" && typeof max === "number" ? ` from ${min} to ${max}${what}`
    : typeof min === "number" ? (min <= 1 && unit !== "" ? (min === 1 ? " (not empty)" : "") : ` of at least ${min}${what}`)
    : typeof max === "number" ? ` of at most ${max}${what}`
    : ""
}

/** What the schema accepts, in words: `an integer from 1 to 100`, `one of "basic", "advanced"`. */
const expectedOf = (schema: JsonSchemaObject | undefined): string | undefined => {
  if (schema === undefined) return undefined
  const options = schema["enum"]
  if (Array.isArray(options)) return `one of ${options.map(shown).join(", ")}`
  if ("const" in schema) return shown(schema["const"])
  const type = schema["type"]
  if (typeof type !== "string" || !(type in typeNames)) return undefined
  const unit = type === "string" ? "characters" : type === "array" ? "items" : ""
  return typeNames[type] + bounds(schema, unit)
}

/** The schema's own example, else its default, else its first allowed value. */
const exampleOf = (schema: JsonSchemaObject | undefined): string | undefined => {
  if (schema === undefined) return undefined
  const examples = schema["examples"]
  if (Array.isArray(examples) && examples.length > 0) return shown(examples[0])
  if ("default" in schema) return shown(schema["default"])
  const options = schema["enum"]
  return Array.isArray(options) && options.length > 0 ? shown(options[0]) : undefined
}

const withExample = (text: string, example: string | undefined) => (example === undefined ? text : `${text}, e.g. ${example}`)

/** Effect's own wording, which says how the schema is built rather than what the argument needs. */
const isGenerated = (message: string) => /^Expected |^is missing$|^is unexpected/.test(message)

const firstSentence = (text: string) => text.split(/(?<=\.)\s/)[0]!.replace(/\.$/, "")

/** The nearest description above `path` (an entry of a described map, an item of a described list). */
const describedAbove = (root: JsonSchemaObject, path: Path): string | undefined => {
  for (let n = path.length - 1; n >= 0; n--) {
    const description = schemaAt(root, path.slice(0, n))?.["description"]
    if (typeof description === "string") return firstSentence(description)
  }
  return undefined
}

const nameOf = (path: Path) => path.map(String).join(".")

const argumentsOf = (root: JsonSchemaObject) => Object.keys(isObject(root["properties"]) ? root["properties"] : {})

const sentence = (tool: string, root: JsonSchemaObject, args: unknown, issue: ParseResult.ArrayFormatterIssue): string => {
  const name = nameOf(issue.path)
  const schema = schemaAt(root, issue.path)
  const description = typeof schema?.["description"] === "string" ? firstSentence(schema["description"]) : undefined
  const lowered = (text: string) => text.charAt(0).toLowerCase() + text.slice(1)
  const own = `${String(issue.path.at(-1))} must be `
  // A refinement's own message: "x must be …" reads as what is expected; anything else is said as is.
  const expected = isGenerated(issue.message) ? expectedOf(schema) ?? (description ?? describedAbove(root, issue.path))?.replace(/^./, lowered)
    : issue.message.startsWith(own) ? issue.message.slice(own.length) : undefined
  if (expected === undefined && !isGenerated(issue.message) && issue._tag !== "Missing" && issue._tag !== "Unexpected") {
    return `\`${name}\`: ${withExample(issue.message, exampleOf(schema))}; given ${shown(valueAt(args, issue.path))}.`
  }
  switch (issue._tag) {
    case "Missing":
      return `\`${name}\` is required: ${withExample(description ?? expected ?? "see the tool's input schema", exampleOf(schema))}.`
    case "Unexpected": {
      const parent = issue.path.slice(0, -1)
      const known = parent.length === 0 ? argumentsOf(root) : argumentsOf(schemaAt(root, parent) ?? {})
      const close = closeMatches(String(issue.path.at(-1)), known)
      return `\`${name}\` is not an argument of ${parent.length === 0 ? tool : `\`${nameOf(parent)}\``}` +
        (close.length > 0 ? ` (did you mean \`${close[0]}\`?)` : "") + `; the arguments are ${known.join(", ")}.`
    }
    default: {
      if (issue.path.length === 0) {
        return `The arguments must be a JSON object with ${argumentsOf(root).join(", ")}; given ${shown(args)}.`
      }
      return `\`${name}\` must be ${withExample(expected ?? "as the tool's input schema says", exampleOf(schema))}; given ${shown(valueAt(args, issue.path))}.`
    }
  }
}

/** One sentence per wrong argument; a union's several complaints about one value, or its parent's, count once. */
export const describeArgumentErrors = (tool: string, inputSchema: JsonSchemaObject, args: unknown, error: ParseResult.ParseError): string => {
  const issues = ParseResult.ArrayFormatter.formatErrorSync(error)
  const deepest = issues.filter((issue) =>
    !issues.some((other) => other.path.length > issue.path.length && issue.path.every((key, i) => other.path[i] === key)))
  const byPath = new Map<string, ParseResult.ArrayFormatterIssue>()
  for (const issue of deepest) if (!byPath.has(nameOf(issue.path))) byPath.set(nameOf(issue.path), issue)
  return [...byPath.values()].map((issue) => sentence(tool, inputSchema, args, issue)).join(" ")
}
