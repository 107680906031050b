import { createServer } from "node:http"
import { connect } from "node:net"
import { HttpServer, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import { describe, expect, it } from "@effect/vitest"
import { receivedWhole } from "../../src/http/requestBody.js"
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
