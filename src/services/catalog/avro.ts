import avro from "avsc"
import { Effect, Schema } from "effect"

export class AvroError extends Schema.TaggedError<AvroError>()("AvroError", { reason: Schema.String }) {
  override get message() {
    return `An Avro file could not be written or read: ${this.reason}`
  }
}

/**
 * Avro object container files with avsc. The writer is given the schema object itself, not a
 * parsed type, so the header keeps Iceberg's `field-id` attributes.
 */

export const encodeAvro = (schema: object, records: ReadonlyArray<object>, metadata: Readonly<Record<string, string>>) =>
  Effect.async<Uint8Array, AvroError>((resume) => {
    // avsc writes `metadata` into the header; its typings omit the option.
    const options: { readonly codec: string; readonly metadata: Record<string, Buffer> } = {
      codec: "null",
      metadata: Object.fromEntries(Object.entries(metadata).map(([k, v]) => [k, Buffer.from(v)]))
    }
    const encoder = new avro.streams.BlockEncoder(schema as avro.Schema, options)
    const chunks: Array<Buffer> = []
    encoder.on("data", (chunk: Buffer) => chunks.push(chunk))
    encoder.on("error", (error: Error) => resume(Effect.fail(new AvroError({ reason: error.message }))))
    encoder.on("end", () => resume(Effect.succeed(new Uint8Array(Buffer.concat(chunks)))))
    for (const record of records) encoder.write(record)
    encoder.end()
  })

export const decodeAvro = <A>(bytes: Uint8Array) =>
  Effect.async<ReadonlyArray<A>, AvroError>((resume) => {
    const decoder = new avro.streams.BlockDecoder({ parseHook: (schema) => avro.Type.forSchema(schema as avro.Schema, { wrapUnions: false }) })
    const records: Array<A> = []
    decoder.on("data", (record: A) => records.push(record))
    decoder.on("error", (error: Error) => resume(Effect.fail(new AvroError({ reason: error.message }))))
    decoder.on("end", () => resume(Effect.succeed(records)))
    decoder.end(Buffer.from(bytes))
  })
