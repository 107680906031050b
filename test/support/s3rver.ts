import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, type Scope } from "effect"
import S3rver from "s3rver"

export const TEST_BUCKET = "estat-test"
/** s3rver's built-in key pair. */
export const s3rverCredentials = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" }

/** A real S3 protocol server (s3rver) on 127.0.0.1 with one bucket, its files removed with the scope. */
export const s3rver: Effect.Effect<{ readonly endpoint: string }, never, Scope.Scope> = Effect.acquireRelease(
  Effect.promise(async () => {
    const directory = mkdtempSync(join(tmpdir(), "estat-s3rver-"))
    const server = new S3rver({ port: 0, address: "127.0.0.1", silent: true, directory, configureBuckets: [{ name: TEST_BUCKET, configs: [] }] })
    const address = await server.run()
    return { server, directory, endpoint: `http://127.0.0.1:${address.port}` }
  }),
  ({ directory, server }) =>
    Effect.promise(async () => {
      await server.close()
      rmSync(directory, { recursive: true, force: true })
    })
)
