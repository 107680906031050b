import { Clock, Context, Effect, Layer, Option } from "effect"
import type { IndexedRun } from "./runIndex.js"

/**
 * The run indexes this process read lately or wrote, for search: every search looks up the stored
 * run of each of its top hits, and read each hit's index from storage again (on the local backend
 * four descriptors opened and closed, folder by folder, per hit: ~2.5 ms of a search's ~23 ms of
 * CPU, which a 0.25-vCPU task cannot spare while fetches run; on S3 a request per hit). A run completed here is in it at once (the index is written through it); a run another
 * task completes in shared storage is seen at most TTL later — a search hit's `stored` note is the
 * only reader, a fetch's reuse reads the index itself.
 */
export class RunIndexMemory extends Context.Tag("estat-mcp/RunIndexMemory")<RunIndexMemory, {
  /** The dataset's runs as read or written less than TTL ago. */
  readonly recall: (statsDataId: string) => Effect.Effect<Option.Option<ReadonlyArray<IndexedRun>>>
  /**
   * Remembers what a read that began at `readStart` (from `readStarts`) found, unless an index was
   * written meanwhile: the read may predate that write.
   */
  readonly rememberRead: (statsDataId: string, runs: ReadonlyArray<IndexedRun>, readStart: number) => Effect.Effect<void>
  /** Where a read begins, for `rememberRead`. */
  readonly readStarts: Effect.Effect<number>
  /** The index as just written (none: its write failed, so what is stored is not known). */
  readonly written: (statsDataId: string, runs: Option.Option<ReadonlyArray<IndexedRun>>) => Effect.Effect<void>
}>() {
  static readonly layer: Layer.Layer<RunIndexMemory> = Layer.sync(RunIndexMemory, () => makeRunIndexMemory())
}

/** How late this task sees a run another task stored (in storage both share). */
export const RUN_INDEX_TTL_MS = 30_000
/** Datasets remembered: an entry is at most 20 runs' few fields. */
const ENTRIES = 1024

export const makeRunIndexMemory = (): RunIndexMemory["Type"] => {
  // Map keeps insertion order: the first key is the least recently remembered.
  const entries = new Map<string, { readonly runs: ReadonlyArray<IndexedRun>; readonly at: number }>()
  // Index writes so far: a read that saw one begin meanwhile is not remembered.
  let writes = 0
  const keep = (statsDataId: string, runs: ReadonlyArray<IndexedRun>) =>
    Effect.map(Clock.currentTimeMillis, (at) => {
      entries.delete(statsDataId)
      entries.set(statsDataId, { runs, at })
      for (const oldest of entries.keys()) {
        if (entries.size <= ENTRIES) break
        entries.delete(oldest)
      }
    })
  return {
    recall: (statsDataId) =>
      Effect.map(Clock.currentTimeMillis, (now) =>
        Option.map(Option.filter(Option.fromNullable(entries.get(statsDataId)), (entry) => now - entry.at < RUN_INDEX_TTL_MS), (entry) => entry.runs)),
    readStarts: Effect.sync(() => writes),
    rememberRead: (statsDataId, runs, readStart) => (readStart === writes ? keep(statsDataId, runs) : Effect.void),
    written: (statsDataId, runs) =>
      Effect.suspend(() => {
        writes += 1
        entries.delete(statsDataId)
        return Option.match(runs, { onNone: () => Effect.void, onSome: (known) => keep(statsDataId, known) })
      })
  }
}
