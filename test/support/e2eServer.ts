import { afterAll, beforeAll } from "@effect/vitest"
import type { AppSettings } from "../../src/config.js"
import type { FakeTable } from "../fakes/estatServer.js"
import { type E2E, startE2E } from "./e2eStack.js"

export { type E2E, startE2E } from "./e2eStack.js"

/** startE2E around a describe block's tests (started before them, closed after); call the result to reach it. */
export const useE2E = (name: string, tables: ReadonlyArray<FakeTable>, overrides: Partial<AppSettings> = {}) => {
  let e2e: E2E | undefined
  beforeAll(async () => {
    e2e = await startE2E(name, tables, overrides)
  })
  afterAll(() => e2e?.close())
  return (): E2E => e2e!
}
