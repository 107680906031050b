import type { ReceivedRequest } from "../fakes/estat/server.js"

/**
 * The e-Stat round trips a caller waited for one after another: the longest chain of requests
 * each sent after the one before it was answered. Requests in flight together count once, so on a
 * fake with latency this is what the caller's wall time is made of, whatever the machine's load.
 */
export const sequentialRoundTrips = (requests: ReadonlyArray<ReceivedRequest>): number => {
  const answered = requests
    .filter((r): r is ReceivedRequest & { readonly endedAt: number } => r.endedAt !== null)
    .sort((a, b) => a.startedAt - b.startedAt)
  const chain: Array<number> = []
  answered.forEach((request, i) => {
    const before = answered.slice(0, i).map((earlier, j) => (earlier.endedAt <= request.startedAt ? chain[j]! : 0))
    chain.push(1 + Math.max(0, ...before))
  })
  return Math.max(0, ...chain)
}
