import { Effect, type Scope } from "effect"
import { type FakeEStatHandle, type FakeEStatOptions, startFakeEStat } from "./estat/server.js"

export { FAKE_APP_ID, type FakeEStatHandle, type FakeEStatOptions, type Faults, isDataRequest, startFakeEStat } from "./estat/server.js"
export type { FakeTable } from "../../src/testing/estat/model.js"
export { generatedSum, generatedTable, type GeneratedTableOptions } from "../../src/testing/estat/generated.js"

/** The fake e-Stat on 127.0.0.1, closed with the scope. */
export const fakeEStat = (options: FakeEStatOptions = {}): Effect.Effect<FakeEStatHandle, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.promise(() => startFakeEStat(options)),
    (handle) => Effect.promise(() => handle.close())
  )
