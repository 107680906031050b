import { Duration, Option } from "effect"

/** Clients whose budget is tracked at once; the least recently seen is dropped first (it restarts full). */
const MAX_CLIENTS = 10_000

/**
 * A token bucket per client for session creation: `perMinute` new sessions a minute, in bursts of
 * up to as many. 0 turns it off. Plain mutable state, every access one synchronous step; a client
 * is a key and two numbers, and there are at most MAX_CLIENTS of them.
 */
export const makeCreationBudget = (perMinute: number, maxClients = MAX_CLIENTS) => {
  const perMilli = perMinute / 60_000
  // Insertion order is the order they were last seen.
  const buckets = new Map<string, { readonly tokens: number; readonly at: number }>()
  return {
    /** Spends one creation of `client` at `now`: None when allowed, else how long until one is allowed. */
    take: (client: string, now: number): Option.Option<Duration.Duration> => {
      if (perMinute <= 0) return Option.none()
      const bucket = buckets.get(client)
      const tokens = bucket === undefined ? perMinute : Math.min(perMinute, bucket.tokens + (now - bucket.at) * perMilli)
      buckets.delete(client)
      if (tokens < 1) {
        buckets.set(client, { tokens, at: now })
        return Option.some(Duration.millis(Math.ceil((1 - tokens) / perMilli)))
      }
      buckets.set(client, { tokens: tokens - 1, at: now })
      for (const oldest of buckets.keys()) {
        if (buckets.size <= maxClients) break
        buckets.delete(oldest)
      }
      return Option.none()
    },
    clients: () => buckets.size
  }
}
