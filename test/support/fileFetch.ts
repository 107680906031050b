import { readFile } from "node:fs/promises"
import { fileURLToPath } from "node:url"

/**
 * Runs `read` with `fetch` able to read `file:` URLs (with HTTP Range), then restores it.
 * For icebird only: it reads tables solely through `fetch`, and Node's fetch has no `file:`
 * scheme, while local Iceberg tables name their files with `file:` URLs, as the spec asks.
 */
export const withFileFetch = async <A>(read: () => Promise<A>): Promise<A> => {
  const original = globalThis.fetch
  globalThis.fetch = async (input, init) => {
    const url = String(input instanceof Request ? input.url : input)
    if (!url.startsWith("file:")) return original(input, init)
    const bytes = await readFile(fileURLToPath(url))
    const range = /bytes=(\d+)-(\d*)/.exec(new Headers(init?.headers).get("range") ?? "")
    if (range === null) return new Response(bytes, { status: 200, headers: { "content-length": String(bytes.byteLength) } })
    const start = Number(range[1])
    const end = range[2] === "" ? bytes.byteLength : Number(range[2]) + 1
    return new Response(bytes.subarray(start, end), { status: 206 })
  }
  try {
    return await read()
  } finally {
    globalThis.fetch = original
  }
}
