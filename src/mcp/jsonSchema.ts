import { JSONSchema, Schema, SchemaAST as AST } from "effect"

export type JsonSchemaObject = { readonly [key: string]: unknown }

const DEFS = "#/$defs/"
const isObject = (value: unknown): value is JsonSchemaObject => typeof value === "object" && value !== null && !Array.isArray(value)

/**
 * Effect names its refinements (`Int`, …) as `$defs`; clients read plain types more easily.
 * References to non-object definitions are inlined and Effect's one-element `allOf`s folded; named
 * object schemas stay `$defs` (JSON Schema 2020-12), which MCP clients must keep.
 */
/** Keywords whose value maps names to schemas: their keys are names, not keywords. */
const schemaMaps = new Set(["properties", "patternProperties", "$defs"])

const inlineMap = (node: unknown, defs: Readonly<Record<string, unknown>>): unknown =>
  isObject(node) ? Object.fromEntries(Object.entries(node).map(([k, v]) => [k, inline(v, defs)])) : node

/**
 * Effect describes its own refinements in lower-case prose ("an integer", "a string at least 1
 * character(s) long") that repeats the type and bounds beside it; ours start with a capital or a name.
 */
const isGeneratedDescription = (value: unknown) => typeof value === "string" && /^an? [a-z]/.test(value)

const isReference = (allOf: unknown) => Array.isArray(allOf) && isObject(allOf[0]) && typeof allOf[0]["$ref"] === "string"

const inline = (node: unknown, defs: Readonly<Record<string, unknown>>): unknown => {
  if (Array.isArray(node)) return node.map((n) => inline(n, defs))
  if (!isObject(node)) return node
  // Effect titles refinements after their code ("between(1, 100)", "int"): noise for a client.
  let out: JsonSchemaObject = Object.fromEntries(
    Object.entries(node)
      .filter(([k, v]) => k !== "title" && !(k === "description" && isGeneratedDescription(v)))
      .map(([k, v]) => [k, schemaMaps.has(k) ? inlineMap(v, defs) : inline(v, defs)])
  )
  const ref = out["$ref"]
  const target = typeof ref === "string" && ref.startsWith(DEFS) ? defs[ref.slice(DEFS.length)] : undefined
  if (isObject(target) && target["type"] !== "object") {
    const { $ref: _, ...rest } = out
    out = { ...(inline(target, defs) as JsonSchemaObject), ...rest }
  }
  // Effect wraps a refined reference as a one-element allOf; an allOf the schema wrote itself stays (SEP-2106).
  const allOf = out["allOf"]
  if (Array.isArray(allOf) && allOf.length === 1 && isObject(allOf[0]) && isReference(node["allOf"])) {
    const { allOf: _, ...rest } = out
    out = { ...allOf[0], ...rest }
  }
  return compact(out)
}

/** The type names of an `anyOf` whose members say nothing but a type (or a type list, once compacted), else undefined. */
const bareTypes = (node: unknown): ReadonlyArray<string> | undefined => {
  if (!isObject(node)) return undefined
  const keys = Object.keys(node)
  const type = node["type"]
  if (keys.length === 1 && (typeof type === "string" || (Array.isArray(type) && type.every((t) => typeof t === "string")))) return [type].flat()
  const members = node["anyOf"]
  if (keys.length !== 1 || !Array.isArray(members)) return undefined
  const types = members.map(bareTypes)
  return types.every((t) => t !== undefined) ? types.flat() : undefined
}

/**
 * The same schema in fewer bytes (every session reads tools/list first): an `anyOf` of bare
 * types as one type list (`{"type": ["integer", "null"]}`), no empty `required`, and no empty
 * `properties` beside the entries of a record (Effect writes both for records).
 */
const compact = (node: JsonSchemaObject): JsonSchemaObject => {
  const types = "type" in node ? undefined : bareTypes({ anyOf: node["anyOf"] })
  const isRecord = "patternProperties" in node || (node["additionalProperties"] !== undefined && node["additionalProperties"] !== false)
  const dropped = (key: string, value: unknown) =>
    (key === "required" && Array.isArray(value) && value.length === 0) ||
    (key === "properties" && isRecord && isObject(value) && Object.keys(value).length === 0)
  return Object.fromEntries(Object.entries(node).flatMap(([key, value]): Array<[string, unknown]> =>
    key === "anyOf" && types !== undefined ? [["type", types]] : dropped(key, value) ? [] : [[key, value]]))
}

/** JSON Schema 2020-12 (MCP's default dialect) of an Effect Schema, with `type: "object"` at the top. */
export const jsonSchemaOf = (schema: Schema.Schema.AnyNoContext): JsonSchemaObject => {
  const header = { $schema: "https://json-schema.org/draft/2020-12/schema" }
  // Effect renders `{}` as "any object or array"; MCP needs an object schema.
  if (AST.isTypeLiteral(schema.ast) && schema.ast.propertySignatures.length === 0 && schema.ast.indexSignatures.length === 0) {
    return { ...header, type: "object", properties: {}, additionalProperties: false }
  }
  const generated: JsonSchemaObject = { ...JSONSchema.make(schema, { target: "jsonSchema2020-12" }) }
  const { $defs, $ref, ...root } = generated
  const defs = isObject($defs) ? $defs : {}
  const top = typeof $ref === "string" && isObject(defs[$ref.slice(DEFS.length)]) ? { ...root, ...(defs[$ref.slice(DEFS.length)] as JsonSchemaObject) } : root
  const body = inline(top, defs) as JsonSchemaObject
  const kept = Object.fromEntries(Object.entries(defs).filter(([, d]) => isObject(d) && d["type"] === "object").map(([k, d]) => [k, inline(d, defs)]))
  return { ...header, ...body, ...(Object.keys(kept).length > 0 ? { $defs: kept } : {}) }
}
