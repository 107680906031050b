import { Effect, Option, Schema } from "effect"
import { isText, mimeTypeOf } from "../domain/fileNames.js"
import * as Tool from "../mcp/tool.js"
import { withDefault } from "../mcp/tool.js"
import { ObjectStore, StorageNotFound } from "../services/storage/ObjectStore.js"

const Input = Schema.Struct({
  s3_path: Schema.String.pipe(Schema.minLength(1)).annotations({
    description: "The file: s3://<bucket>/<prefix>/… on the aws backend, a storage key (csv/…) or a file:// URL inside the data dir on the local one."
  }),
  expires_in: withDefault(Schema.Int.pipe(Schema.between(60, 604_800)), 3600, "Seconds the download URL stays valid (S3 only)."),
  return_content: withDefault(Schema.Boolean, false, "Also return the file's text inline, up to max_bytes."),
  max_bytes: withDefault(Schema.Int.pipe(Schema.between(1, 10 * 1024 * 1024)), 1024 * 1024, "Cap on inline content, in bytes.")
})

const Output = Schema.Struct({
  s3_path: Schema.String,
  size_bytes: Schema.Int,
  content_type: Schema.String,
  download_url: Schema.String,
  download_scope: Schema.String,
  expires_at: Schema.NullOr(Schema.String),
  content: Schema.optional(Schema.String),
  truncated: Schema.optional(Schema.Boolean),
  line_count: Schema.optional(Schema.Int)
})

class NotTextContent extends Schema.TaggedError<NotTextContent>()("NotTextContent", {
  location: Schema.String,
  contentType: Schema.String
}) {
  override get message() {
    return `${this.location} is ${this.contentType}, not text: download it from download_url instead of return_content.`
  }
}

/** The files this server writes are UTF-8. */
const contentTypeOf = (key: string) => {
  const mimeType = mimeTypeOf(key)
  return mimeType.startsWith("text/") ? `${mimeType}; charset=utf-8` : mimeType
}

/** Who can use a download URL: a local `file://` path works only on the server's machine; `uriField` names the file's URI. */
export const downloadScope = (url: string, uriField: string) =>
  url.startsWith("file:")
    ? `only on the server's machine; elsewhere read ${uriField} as an MCP resource, or use download_csv_from_s3 with return_content true`
    : "anyone holding the link, until expires_at"

/** Text cut at `maxBytes`, then back to the last whole line, without the BOM. */
export const inlineText = (bytes: Uint8Array, truncated: boolean) => {
  const text = new TextDecoder("utf-8", { ignoreBOM: false }).decode(bytes)
  const whole = truncated ? text.slice(0, Math.max(0, text.lastIndexOf("\n") + 1)) : text
  const lines = whole === "" ? 0 : whole.split("\n").length - (whole.endsWith("\n") ? 1 : 0)
  return { content: whole, lineCount: lines }
}

export const downloadCsvFromS3 = Tool.make({
  name: "download_csv_from_s3",
  title: "Get a download link for a stored file",
  description:
    "Result: a download URL for a stored file — presigned S3 URL (expires_in) on aws, a file:// path usable only on the server's machine " +
    "locally — and, with return_content, its text inline up to max_bytes, cut at a whole line. " +
    "Paths outside the bucket/prefix or data dir are refused.",
  input: Input,
  output: Output,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  summarize: (out) =>
    "A download URL for s3_path." +
    (out.content === undefined ? "" : ` content holds ${out.line_count} line(s)${out.truncated ? ", cut at max_bytes: raise it for the rest" : ", the whole file"}.`),
  run: (input) =>
    Effect.gen(function* () {
      const store = yield* ObjectStore
      const key = yield* store.keyOf(input.s3_path)
      const info = yield* Effect.flatMap(store.head(key), Option.match({
        onNone: () => Effect.fail(new StorageNotFound({ location: store.uri(key) })),
        onSome: Effect.succeed
      }))
      const fileName = key.split("/").at(-1) ?? key
      const download = yield* store.downloadUrl(key, { expiresInSeconds: input.expires_in, fileName })
      const contentType = contentTypeOf(key)
      const base = {
        s3_path: store.uri(key),
        size_bytes: info.size,
        content_type: contentType,
        download_url: download.url,
        download_scope: downloadScope(download.url, "s3_path"),
        expires_at: download.expiresAt?.toISOString() ?? null
      }
      if (!input.return_content) return base
      if (!isText(contentType)) {
        return yield* new NotTextContent({ location: store.uri(key), contentType })
      }
      const truncated = info.size > input.max_bytes
      const inline = inlineText(info.size === 0 ? new Uint8Array(0) : yield* store.getRange(key, input.max_bytes), truncated)
      return { ...base, content: inline.content, truncated, line_count: inline.lineCount }
    })
})
