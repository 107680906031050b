import { Context, Effect, Layer, Option } from "effect"
import { AppConfig } from "../config.js"

/**
 * How many dataset runs go on at once in this process. Each holds a few pages in memory;
 * more runs than slots wait their turn instead of pushing a 0.5 GB container out of memory.
 */
export class RunSlots extends Context.Tag("estat-mcp/RunSlots")<RunSlots, {
  /** Runs `effect` in a slot; `onWait` first when every slot is taken. */
  readonly withSlot: <A, E, R>(effect: Effect.Effect<A, E, R>, onWait: Effect.Effect<void>) => Effect.Effect<A, E, R>
  /**
   * Runs `effect` as the only fetch of `runId` in this process, or fails with `busy()` when one
   * goes on: a resume must not tidy a run another call is still writing.
   */
  readonly exclusive: <A, E, R, B>(runId: string, effect: Effect.Effect<A, E, R>, busy: () => B) => Effect.Effect<A, E | B, R>
}>() {
  static readonly layer: Layer.Layer<RunSlots, never, AppConfig> = Layer.effect(
    RunSlots,
    Effect.gen(function* () {
      const config = yield* AppConfig
      const slots = yield* Effect.makeSemaphore(config.maxConcurrentRuns)
      const running = new Set<string>()
      return RunSlots.of({
        exclusive: <A, E, R, B>(runId: string, effect: Effect.Effect<A, E, R>, busy: () => B) =>
          Effect.acquireUseRelease(
            Effect.sync(() => {
              if (running.has(runId)) return false
              running.add(runId)
              return true
            }),
            (claimed): Effect.Effect<A, E | B, R> => (claimed ? effect : Effect.fail(busy())),
            (claimed) => Effect.sync(() => claimed && running.delete(runId))
          ),
        withSlot: (effect, onWait) =>
          slots.withPermitsIfAvailable(1)(effect).pipe(
            Effect.flatMap(Option.match({
              onSome: Effect.succeed,
              onNone: () => Effect.zipRight(onWait, slots.withPermits(1)(effect))
            }))
          )
      })
    })
  )
}
