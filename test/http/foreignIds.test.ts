import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { tools } from "../../src/tools/registry.js"
import { slowEcho } from "../support/slowEcho.js"
import { openSession, post, readSse } from "../support/rawMcp.js"
import { type RunningServer, startTestServer } from "../support/testServer.js"


describe("ids the server did not issue: Last-Event-ID and list cursors", () => {
  let server: RunningServer
  let dataDir: string
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "estat-mcp-foreign-ids-"))
    server = await startTestServer({ dataDir }, [...tools, slowEcho])
  })
  afterAll(async () => {
    await server.close()
    rmSync(dataDir, { recursive: true, force: true })
  })

  /** A finished streamed call: the ids of its events. */
  const streamedCall = async (headers: Record<string, string>) => {
    const response = await post(server.mcpUrl, { jsonrpc: "2.0", id: 9, method: "tools/call", params: { name: "slow_echo", arguments: { text: "hi" } } }, headers)
    expect(response.headers.get("content-type")).toContain("text/event-stream")
    return (await readSse(response)).map((e) => e.id).filter((id): id is string => id !== undefined)
  }
  const resume = (headers: Record<string, string>, lastEventId: string) =>
    fetch(server.mcpUrl, { headers: { ...headers, accept: "text/event-stream", "last-event-id": lastEventId } })

  it("GET with a Last-Event-ID this session did not send is 400; one it sent resumes (200)", async () => {
    const mine = await openSession(server.mcpUrl)
    const other = await openSession(server.mcpUrl)
    const ids = await streamedCall(mine.headers)
    const otherIds = await streamedCall(other.headers)
    const [first] = ids
    expect(first).toMatch(/^.+_\d+$/)
    const streamId = first!.slice(0, first!.lastIndexOf("_"))

    const resumed = await resume(mine.headers, first!)
    expect(resumed.status).toBe(200)
    await resumed.body?.cancel()

    // (Surrounding spaces are not part of a header value: HTTP trims them.)
    const foreign = [
      "garbage", "", " ", "_1", `${streamId}_`, `${streamId}_0`, `${streamId}_999999`, `${streamId}_1e1`,
      `0${first!}`, "standalone_1", "00000000-0000-0000-0000-000000000000_1",
      otherIds[0]!, // another session's id
      `${streamId}_-1`, "x".repeat(4096) + "_1"
    ]
    for (const id of foreign) {
      const response = await resume(mine.headers, id)
      expect(response.status, JSON.stringify(id.slice(0, 60))).toBe(400)
      expect(await response.json()).toMatchObject({ error: { message: expect.stringContaining("Last-Event-ID") } })
    }
    // The standalone stream is still opened by a GET without the header.
    const standalone = await fetch(server.mcpUrl, { headers: { ...mine.headers, accept: "text/event-stream" } })
    expect(standalone.status).toBe(200)
    await standalone.body?.cancel()
  })

  it("tools/list and resources/list refuse cursors they did not issue with -32602", async () => {
    const { headers } = await openSession(server.mcpUrl)
    const list = (method: string, cursor: unknown) =>
      post(server.mcpUrl, { jsonrpc: "2.0", id: 3, method, params: cursor === undefined ? {} : { cursor } }, headers)
        .then((r) => r.json() as Promise<{ result?: { tools?: Array<unknown>; resources?: Array<unknown> }; error?: { code: number } }>)
    expect((await list("tools/list", undefined)).result?.tools?.length).toBeGreaterThan(0)
    // Nothing stored: only the chart app (MCP_APPS) is listed.
    expect((await list("resources/list", undefined)).result?.resources).toMatchObject([{ uri: "ui://estat-mcp/explorer" }])
    for (const method of ["tools/list", "resources/list"]) {
      for (const cursor of ["", "0", "100", "garbage", "-1", 1, null]) {
        const answer = await list(method, cursor)
        expect(answer.error?.code, `${method} ${JSON.stringify(cursor)}`).toBe(-32602)
        expect(answer.result).toBeUndefined()
      }
    }
  })
})
