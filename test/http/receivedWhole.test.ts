import { createServer } from "node:http"
import { connect } from "node:net"
import { HttpServer, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import { describe, expect, it } from "@effect/vitest"
import { configLayer, defaultSettings } from "../../src/config.js"
import { readBody, receivedWhole, RequestBodies } from "../../src/http/requestBody.js"
import { requestHead } from "../support/rawHttp.js"

/** Answers which way receivedWhole went for the request, without reading its body. */
const app = Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) =>
  Effect.map(receivedWhole(request), (whole) => HttpServerResponse.text(whole ? "whole" : "arriving")))

const server = HttpServer.serve(app).pipe(Layer.provideMerge(NodeHttpServer.layer(createServer, { host: "127.0.0.1", port: 0 })))

/** Sends the head of a POST of `body` and then only `sent` of it; resolves with the answer's body. */
const post = (port: number, body: string, sent: string) =>
  new Promise<string>((resolve, reject) => {
    const socket = connect(port, "127.0.0.1")
    let received = ""
    socket.on("data", (chunk: Buffer) => {
      received += chunk.toString("utf8")
      const answer = ["whole", "arriving"].find((way) => received.endsWith(`\r\n\r\n${way}`))
      if (answer === undefined) return
      socket.destroy()
      resolve(answer)
    })
    socket.on("error", reject)
    socket.write(requestHead({ method: "POST", target: "/mcp", headers: { host: "127.0.0.1", "content-type": "application/json" }, body }) + sent)
  })

describe("receivedWhole", () => {
  it.scoped("a body that came with its head is whole once Node's parser had its turn; one still arriving is not", () =>
    Effect.gen(function* () {
      const address = (yield* HttpServer.HttpServer).address
      if (address._tag !== "TcpAddress") return yield* Effect.dieMessage("expected a TCP address")
      const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" })
      expect(yield* Effect.promise(() => post(address.port, body, body))).toBe("whole")
      expect(yield* Effect.promise(() => post(address.port, body, body.slice(0, 10)))).toBe("arriving")
    }).pipe(Effect.provide(server)))

  it.effect("a request Node did not receive (a web Request) is taken as still arriving", () =>
    Effect.gen(function* () {
      const request = HttpServerRequest.fromWeb(new Request("http://127.0.0.1/mcp", { method: "POST", body: "{}" }))
      expect(yield* receivedWhole(request)).toBe(false)
    }))
})

/** Sends a POST's head and its (already encoded) body in one write; resolves with the answer's status and body once the server closes. */
const postWhole = (port: number, headers: Record<string, string>, body: string) =>
  new Promise<{ status: number; body: string }>((resolve, reject) => {
    const socket = connect(port, "127.0.0.1")
    const chunks: Array<Buffer> = []
    socket.on("data", (chunk: Buffer) => chunks.push(chunk))
    socket.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8")
      const end = text.indexOf("\r\n\r\n")
      resolve({ status: Number(text.split(" ")[1]), body: text.slice(end + 4) })
    })
    socket.on("error", reject)
    const length = headers["transfer-encoding"] === undefined ? { "content-length": String(Buffer.byteLength(body)) } : {}
    socket.write(requestHead({ method: "POST", target: "/mcp", headers: { host: "127.0.0.1", connection: "close", ...length, ...headers } }) + body)
  })

/** Echoes the body RequestBodies read (in brackets: an empty answer would be sent chunked), or why it refused it. */
const echo = readBody.pipe(
  Effect.map((text) => HttpServerResponse.text(`[${text}]`)),
  Effect.catchAll((refused) => Effect.succeed(HttpServerResponse.text(refused._tag === "UnreadBody" ? refused.problem : "busy", { status: 400 })))
)

const echoServer = HttpServer.serve(echo).pipe(
  Layer.provideMerge(RequestBodies.layer),
  Layer.provide(configLayer({ ...defaultSettings, maxBodyBytes: 64 })),
  Layer.provideMerge(NodeHttpServer.layer(createServer, { host: "127.0.0.1", port: 0 }))
)

describe("a body Node received whole", () => {
  it.scoped("is read from its buffer as sent (multi-byte text, chunked or not, empty), and refused over MCP_MAX_BODY_BYTES", () =>
    Effect.gen(function* () {
      const address = (yield* HttpServer.HttpServer).address
      if (address._tag !== "TcpAddress") return yield* Effect.dieMessage("expected a TCP address")
      const send = (headers: Record<string, string>, body: string) => Effect.promise(() => postWhole(address.port, headers, body))
      const text = "北海道の収入と年収"
      expect(yield* send({}, text)).toEqual({ status: 200, body: `[${text}]` })
      expect(yield* send({}, "")).toEqual({ status: 200, body: "[]" })
      // Chunked: no declared length to refuse up front; the buffer's size is checked before it is taken.
      const chunked = (body: string) => `${Buffer.byteLength(body).toString(16)}\r\n${body}\r\n0\r\n\r\n`
      expect(yield* send({ "transfer-encoding": "chunked" }, chunked(text))).toEqual({ status: 200, body: `[${text}]` })
      expect(yield* send({ "transfer-encoding": "chunked" }, chunked("x".repeat(65)))).toEqual({ status: 400, body: "too-large" })
    }).pipe(Effect.provide(echoServer)))
})
