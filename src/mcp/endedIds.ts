/**
 * Ids of ended sessions, each remembered until a time (when it would be refused anyway), and at
 * most `max` of them: past that, the first ended is forgotten first. Plain mutable state, every
 * access one synchronous step; one entry is the id and a number (~200 bytes).
 */
export const endedIds = (max: number) => {
  // Insertion order is the order they ended.
  const until = new Map<string, number>()
  return {
    add: (id: string, expiresAt: number) => {
      until.delete(id)
      until.set(id, expiresAt)
      for (const oldest of until.keys()) {
        if (until.size <= max) break
        until.delete(oldest)
      }
    },
    has: (id: string, now: number) => (until.get(id) ?? Number.NEGATIVE_INFINITY) > now,
    prune: (now: number) => {
      for (const [id, expiresAt] of until) if (expiresAt <= now) until.delete(id)
    },
    size: () => until.size
  }
}
