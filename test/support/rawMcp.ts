/** Raw HTTP helpers for transport tests (the SDK client would hide the status codes). */

export const jsonHeaders = {
  "content-type": "application/json",
  accept: "application/json, text/event-stream"
} as const

export const initializeBody = (protocolVersion = "2025-11-25", id: number | string = 1) => ({
  jsonrpc: "2.0",
  id,
  method: "initialize",
  params: { protocolVersion, capabilities: {}, clientInfo: { name: "raw-test", version: "1.0.0" } }
})

export const post = (url: URL | string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, {
    method: "POST",
    headers: { ...jsonHeaders, ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body)
  })

/** Opens a session the way a client does: initialize, then notifications/initialized. */
export const openSession = async (url: URL | string, protocolVersion = "2025-11-25") => {
  const response = await post(url, initializeBody(protocolVersion))
  const sessionId = response.headers.get("mcp-session-id")
  if (sessionId === null) throw new Error(`initialize failed: ${response.status} ${await response.text()}`)
  const headers = { "mcp-session-id": sessionId, "mcp-protocol-version": protocolVersion }
  const ack = await post(url, { jsonrpc: "2.0", method: "notifications/initialized" }, headers)
  await ack.text()
  return { sessionId, headers, initialize: await response.json() as { result: { protocolVersion: string } } }
}

/** Reads SSE events from a response until `until` says stop (or the stream ends). */
export const readSse = async (
  response: Response,
  until: (event: { id?: string; event?: string; data: string }) => boolean = () => false
) => {
  const events: Array<{ id?: string; event?: string; data: string; retry?: number }> = []
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader()
  let buffer = ""
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    buffer += value
    let at: number
    while ((at = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, at)
      buffer = buffer.slice(at + 2)
      const event: { id?: string; event?: string; data: string; retry?: number } = { data: "" }
      const data: Array<string> = []
      let isComment = true
      for (const line of block.split("\n")) {
        if (line.startsWith(":")) continue
        isComment = false
        const colon = line.indexOf(":")
        const field = colon < 0 ? line : line.slice(0, colon)
        const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "")
        if (field === "id") event.id = value
        else if (field === "event") event.event = value
        else if (field === "retry") event.retry = Number(value)
        else if (field === "data") data.push(value)
      }
      if (isComment) continue
      event.data = data.join("\n")
      events.push(event)
      if (until(event)) {
        await reader.cancel()
        return events
      }
    }
  }
  return events
}
