import { connect, type Socket } from "node:net"

/**
 * HTTP/1.1 over a bare socket, so the request target goes on the wire exactly as written
 * (fetch and node:http normalise or refuse some spellings).
 */

export interface RawResponse {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  /** What arrived after the header block before the socket was let go (the start of the body). */
  readonly body: string
}

export interface RawRequest {
  readonly method: string
  readonly target: string
  readonly headers?: Readonly<Record<string, string>>
  readonly body?: string
}

const parseHead = (head: string): Omit<RawResponse, "body"> => {
  const [statusLine = "", ...lines] = head.split("\r\n")
  const headers: Record<string, string> = {}
  for (const line of lines) {
    const colon = line.indexOf(":")
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
  }
  return { status: Number(statusLine.split(" ")[1]), headers }
}

export const requestHead = (request: RawRequest) => {
  const body = request.body ?? ""
  const headers = { ...request.headers, ...(body === "" ? {} : { "content-length": String(Buffer.byteLength(body)) }) }
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join("")
  return `${request.method} ${request.target} HTTP/1.1\r\n${lines}\r\n`
}

/**
 * Sends one request and resolves with the status and headers as soon as they arrive (a stream
 * answer is not waited for); the socket is then closed. A socket closed with no answer is status 0.
 */
export const rawRequest = (port: number, request: RawRequest, waitForBodyMillis = 50): Promise<RawResponse> =>
  new Promise((resolve, reject) => {
    const socket: Socket = connect(port, "127.0.0.1")
    let received = Buffer.alloc(0)
    let settled = false
    const finish = () => {
      if (settled) return
      settled = true
      const text = received.toString("latin1")
      const end = text.indexOf("\r\n\r\n")
      socket.destroy()
      if (end < 0) return resolve({ status: 0, headers: {}, body: "" })
      resolve({ ...parseHead(text.slice(0, end)), body: Buffer.from(text.slice(end + 4), "latin1").toString("utf8") })
    }
    socket.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk])
      if (received.includes("\r\n\r\n")) setTimeout(finish, waitForBodyMillis)
    })
    socket.on("close", finish)
    socket.on("error", (error) => (settled ? undefined : reject(error)))
    socket.setTimeout(10_000, () => finish())
    socket.write(Buffer.from(requestHead({
      ...request,
      headers: { host: `127.0.0.1:${port}`, connection: "close", ...request.headers }
    }) + (request.body ?? ""), "utf8"))
  })

export interface Trickler {
  /** Resolves once the connection is established. */
  readonly connected: Promise<void>
  /** Resolves when the server closed the socket: after how long, and the status it answered (0: none). */
  readonly closed: Promise<{ readonly afterMillis: number; readonly status: number; readonly headers: Readonly<Record<string, string>> }>
  readonly stop: () => void
}

/**
 * Sends the head of a chunked request, then one byte of body every `everyMillis`, never ending it,
 * until the server closes the socket or `giveUpMillis` passes (so a test's loop always stops).
 */
export const trickle = (
  port: number,
  request: Omit<RawRequest, "body">,
  { everyMillis = 200, giveUpMillis = 30_000 }: { everyMillis?: number; giveUpMillis?: number } = {}
): Trickler => {
  const socket = connect(port, "127.0.0.1")
  const started = Date.now()
  let received = Buffer.alloc(0)
  const ticker = setInterval(() => socket.write("1\r\n \r\n"), everyMillis)
  const giveUp = setTimeout(() => socket.destroy(), giveUpMillis)
  const stop = () => {
    clearInterval(ticker)
    clearTimeout(giveUp)
    socket.destroy()
  }
  socket.on("data", (chunk: Buffer) => (received = Buffer.concat([received, chunk])))
  socket.on("error", () => undefined)
  const connected = new Promise<void>((resolve) => socket.once("connect", () => resolve()))
  socket.write(requestHead({
    ...request,
    headers: { host: `127.0.0.1:${port}`, "transfer-encoding": "chunked", ...request.headers }
  }))
  const closed = new Promise<{ afterMillis: number; status: number; headers: Readonly<Record<string, string>> }>((resolve) =>
    socket.on("close", () => {
      stop()
      const text = received.toString("latin1")
      const end = text.indexOf("\r\n\r\n")
      const head = end < 0 ? { status: 0, headers: {} } : parseHead(text.slice(0, end))
      resolve({ afterMillis: Date.now() - started, ...head })
    })
  )
  return { connected, closed, stop }
}
