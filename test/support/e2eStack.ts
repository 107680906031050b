import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import { Duration, Option, Redacted } from "effect"
import type { AppSettings } from "../../src/config.js"
import { FAKE_APP_ID, type FakeEStatHandle, type FakeTable, startFakeEStat } from "../fakes/estatServer.js"
import { type RunningServer, startTestServer } from "./testServer.js"

export interface E2E {
  readonly fake: FakeEStatHandle
  readonly server: RunningServer
  readonly client: Client
  readonly close: () => Promise<void>
}

/** Settings for a server on the fake e-Stat (quick retries, 100-row pages) storing under `dataDir`. */
export const onFakeEStat = (fake: FakeEStatHandle, dataDir: string): Partial<AppSettings> => ({
  estatBaseUrl: fake.baseUrl,
  estatAppId: Option.some(Redacted.make(FAKE_APP_ID)),
  estatRetryBase: Duration.millis(5),
  estatPageSize: 100,
  dataDir
})

/** The fake e-Stat with `tables`, the real server on a temp DATA_DIR, and an SDK client connected over Streamable HTTP. */
export const startE2E = async (name: string, tables: ReadonlyArray<FakeTable>, overrides: Partial<AppSettings> = {}): Promise<E2E> => {
  const fake = await startFakeEStat({ tables })
  const dataDir = mkdtempSync(join(tmpdir(), `estat-${name}-`))
  const server = await startTestServer({ ...onFakeEStat(fake, dataDir), ...overrides })
  const client = new Client({ name, version: "1.0.0" })
  await client.connect(new StreamableHTTPClientTransport(server.mcpUrl))
  return {
    fake,
    server,
    client,
    close: async () => {
      await client.close()
      await server.close()
      await fake.close()
      rmSync(dataDir, { recursive: true, force: true })
    }
  }
}
