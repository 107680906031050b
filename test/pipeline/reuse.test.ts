import { Duration, Effect } from "effect"
import { describe, expect, it } from "@effect/vitest"
import { fetchDatasetAuto } from "../../src/tools/fetchDatasetAuto.js"
import { fetchDatasetFiltered } from "../../src/tools/fetchDatasetFiltered.js"
import { type FakeTable, generatedTable, isDataRequest } from "../fakes/estatServer.js"
import { pipelineContext } from "../support/pipeline.js"
import { callTool, firstText } from "../support/toolResult.js"

/** Fetch only what changed (issue 16): a repeated fetch of an unchanged table answers with the stored run. */

/** A generated table whose e-Stat update date the test moves. */
const changingTable = (id: string) => {
  const base = generatedTable({ id, categories: 3, areas: 2, months: 12 })
  const state = { updatedDate: base.info.updatedDate }
  const table: FakeTable = { ...base, get info() { return { ...base.info, updatedDate: state.updatedDate } } }
  return { table, state }
}

interface RunOutput {
  readonly run_id: string
  readonly reused: boolean
  readonly fetched_at: string
  readonly estat_updated_date: string
  readonly changed: string | null
  readonly records_fetched: number
  readonly sample_rows: ReadonlyArray<unknown>
  readonly storage: { readonly manifest: string } | null
}

const output = <R>(effect: Effect.Effect<{ readonly isError?: boolean | undefined; readonly structuredContent?: unknown }, never, R>) =>
  Effect.map(effect, (result) => {
    expect(result.isError, JSON.stringify(result)).toBe(false)
    return { out: result.structuredContent as RunOutput, text: firstText(result) }
  })

describe("a repeated fetch", () => {
  it.scopedLive("of an unchanged table answers with its run: no e-Stat request while the metadata is cached; force fetches a new run", () =>
    Effect.gen(function* () {
      const { table } = changingTable("0009000041")
      const { context, fake } = yield* pipelineContext("local", { tables: [table] })
      const fetch = (args: Record<string, unknown> = {}) =>
        output(callTool(fetchDatasetAuto, { dataset_id: table.info.id, ...args })).pipe(Effect.provide(context))

      const first = yield* fetch()
      expect(first.out).toMatchObject({ reused: false, changed: null, records_fetched: 72, estat_updated_date: "2026-11-01" })
      const asked = fake.requests.length

      const second = yield* fetch()
      expect(fake.requests.length).toBe(asked)
      expect(second.out).toMatchObject({ reused: true, run_id: first.out.run_id, fetched_at: first.out.fetched_at, records_fetched: 72, storage: first.out.storage })
      expect(second.out.sample_rows).toEqual(first.out.sample_rows)
      expect(second.text).toContain(`Reused run ${first.out.run_id} fetched at ${first.out.fetched_at}`)

      const forced = yield* fetch({ force: true })
      expect(forced.out).toMatchObject({ reused: false, changed: null, records_fetched: 72 })
      expect(forced.out.run_id).not.toBe(first.out.run_id)
      expect(fake.requests.slice(asked).filter(isDataRequest)).toHaveLength(1)

      // Another query of the same table is another run: max_records differs.
      const capped = yield* fetch({ max_records: 10 })
      expect(capped.out).toMatchObject({ reused: false, records_fetched: 10 })
    }))

  it.scopedLive("checks with one getMetaInfo when the cached metadata is stale; a changed update date gives a new run that says what changed", () =>
    Effect.gen(function* () {
      const { state, table } = changingTable("0009000042")
      const { context, fake } = yield* pipelineContext("local", { tables: [table] }, { estatMetadataTtl: Duration.zero })
      const fetch = () => output(callTool(fetchDatasetAuto, { dataset_id: table.info.id })).pipe(Effect.provide(context))

      const first = yield* fetch()
      let asked = fake.requests.length
      const unchanged = yield* fetch()
      expect(unchanged.out).toMatchObject({ reused: true, run_id: first.out.run_id })
      expect(fake.requests.slice(asked).map((r) => r.endpoint)).toEqual(["getMetaInfo"])

      state.updatedDate = "2026-12-01"
      asked = fake.requests.length
      const changed = yield* fetch()
      expect(changed.out).toMatchObject({ reused: false, estat_updated_date: "2026-12-01", records_fetched: 72 })
      expect(changed.out.run_id).not.toBe(first.out.run_id)
      expect(changed.out.changed).toBe(`since run ${first.out.run_id}: updated 2026-11-01 → 2026-12-01, 72 → 72 rows`)
      expect(changed.text).toContain("load_to_iceberg with mode replace")
      expect(fake.requests.slice(asked).filter(isDataRequest)).toHaveLength(1)

      // The new run is the one reused next.
      const after = yield* fetch()
      expect(after.out).toMatchObject({ reused: true, run_id: changed.out.run_id })
    }))

  it.scopedLive("of a filtered query: the same rows asked with labels or codes, in any order, reuse the run; other filters fetch", () =>
    Effect.gen(function* () {
      const { table } = changingTable("0009000043")
      const { context, fake } = yield* pipelineContext("local", { tables: [table] })
      const fetch = (filters: Record<string, unknown>) =>
        output(callTool(fetchDatasetFiltered, { dataset_id: table.info.id, filters })).pipe(Effect.provide(context))

      const first = yield* fetch({ cat01: ["0002", "0003"] })
      expect(first.out).toMatchObject({ reused: false, records_fetched: 48 })
      const data = () => fake.requests.filter(isDataRequest).length
      const before = data()
      const same = yield* fetch({ cat01: ["品目3", "品目2"] })
      expect(same.out).toMatchObject({ reused: true, run_id: first.out.run_id })
      expect(data()).toBe(before)
      const other = yield* fetch({ cat01: "0002" })
      expect(other.out).toMatchObject({ reused: false, records_fetched: 24 })
      expect(data()).toBe(before + 1)
    }))
})
