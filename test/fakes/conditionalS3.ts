import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { Effect, type Scope } from "effect"

/**
 * S3's conditional writes in front of s3rver, which ignores them: a PUT with `If-None-Match: *` or
 * `If-Match: <etag>` and a DELETE with `If-Match` are checked against the object's ETag and answered
 * 412 PreconditionFailed (404 NoSuchKey for If-Match on a missing object) as S3 answers them; the
 * check and the write run one at a time per key, so they are atomic as on S3. Everything else
 * passes through untouched (the SigV4 signature covers the headers, so none is changed).
 */

const unquote = (etag: string | undefined) => (etag ?? "").replace(/^W\//, "").replaceAll('"', "")

/** A request the fake passed on: its method, path and the headers a test may check. */
export interface SeenRequest {
  readonly method: string
  readonly path: string
  readonly headers: Readonly<Record<string, string | Array<string> | undefined>>
}

export const conditionalS3 = (
  upstream: string
): Effect.Effect<{ readonly endpoint: string; readonly refused: ReadonlyArray<string>; readonly seen: ReadonlyArray<SeenRequest> }, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.promise(async () => {
      const target = new URL(upstream)
      const refused: Array<string> = []
      const seen: Array<SeenRequest> = []
      const forward = (req: IncomingMessage, res: ServerResponse) => {
        seen.push({ method: req.method ?? "", path: req.url ?? "", headers: req.headers })
        // agent: false: a pooled keep-alive socket could belong to an earlier test's server on a reused port.
        const out = httpRequest({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers, agent: false }, (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers)
          answer.pipe(res)
        })
        out.on("error", () => res.destroy())
        req.pipe(out)
      }
      const etagOf = (path: string) =>
        new Promise<string | null>((resolve, reject) => {
          const head = httpRequest({ host: target.hostname, port: target.port, method: "HEAD", path, agent: false }, (answer) => {
            answer.resume()
            resolve(answer.statusCode === 200 ? unquote(String(answer.headers["etag"])) : null)
          })
          head.on("error", reject)
          head.end()
        })
      const fail = (res: ServerResponse, status: number, code: string, path: string) => {
        refused.push(`${code} ${path}`)
        res.writeHead(status, { "content-type": "application/xml" })
        res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>At least one of the pre-conditions you specified did not hold</Message></Error>`)
      }

      // One conditional operation at a time per key: its check and its write.
      const queues = new Map<string, Promise<void>>()
      const inTurn = (key: string, work: () => Promise<void>) => {
        const next = (queues.get(key) ?? Promise.resolve()).then(work, work)
        queues.set(key, next.catch(() => undefined))
      }

      const server = createServer((req, res) => {
        const ifNoneMatch = req.headers["if-none-match"]
        const ifMatch = req.headers["if-match"]
        const conditional = (req.method === "PUT" && (ifNoneMatch !== undefined || ifMatch !== undefined)) || (req.method === "DELETE" && ifMatch !== undefined)
        if (!conditional) return forward(req, res)
        const path = (req.url ?? "/").split("?")[0]!
        req.pause()
        inTurn(path, async () => {
          // A check that cannot be made is answered (as S3 would, 500), never left hanging.
          const etag = await etagOf(path).catch(() => undefined)
          if (etag === undefined) {
            res.writeHead(500, { "content-type": "application/xml" })
            return void res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code><Message>the fake could not check the object</Message></Error>`)
          }
          if (ifNoneMatch === "*" && etag !== null) return fail(res, 412, "PreconditionFailed", path)
          if (ifMatch !== undefined && etag === null) return fail(res, 404, "NoSuchKey", path)
          if (ifMatch !== undefined && ifMatch !== "*" && unquote(ifMatch) !== etag) return fail(res, 412, "PreconditionFailed", path)
          await new Promise<void>((done) => {
            res.on("finish", done)
            res.on("close", done)
            forward(req, res)
            req.resume()
          })
        })
      })
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
      return { server, endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, refused, seen }
    }),
    ({ server }) =>
      Effect.promise(() =>
        new Promise<void>((resolve) => {
          server.closeAllConnections()
          server.close(() => resolve())
        }))
  )
