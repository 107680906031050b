import { Effect } from "effect"

/**
 * A value set once and awaited by any number of fibers: a Deferred's job, for the two a tool call
 * makes on every request (callAnswer.ts). Effect 3 builds each Deferred by spreading the Effect
 * prototype into a new object (~8 µs, measured), more than the rest of a quick call's answer.
 * Setting it again does nothing; a waiter interrupted meanwhile is resumed into nothing.
 */
export interface OneShot<A> {
  /** Sets the value, unless it was set before. */
  readonly set: (value: A) => Effect.Effect<void>
  /** The value, once it is set. */
  readonly await: Effect.Effect<A>
}

export const unsafeMakeOneShot = <A>(): OneShot<A> => {
  let value: { readonly set: A } | undefined
  let waiting: Array<(value: Effect.Effect<A>) => void> = []
  return {
    set: (set) =>
      Effect.sync(() => {
        if (value !== undefined) return
        value = { set }
        const resumes = waiting
        waiting = []
        for (const resume of resumes) resume(Effect.succeed(set))
      }),
    await: Effect.suspend(() =>
      value !== undefined ? Effect.succeed(value.set) : Effect.async<A>((resume) => void waiting.push(resume))
    )
  }
}
