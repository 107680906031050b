import { gzipSync } from "node:zlib"
import { Effect } from "effect"
import { describe, expect, it } from "@effect/vitest"
import { callTool, firstText } from "../support/toolResult.js"
import { fetchDataset } from "../../src/pipeline/fetchDataset.js"
import { ObjectStore } from "../../src/services/storage/ObjectStore.js"
import { transformToParquet } from "../../src/tools/transformToParquet.js"
import { generatedTable, makeEStatApi, MOCK_APP_ID } from "../../src/testing/index.js"
import { mockedOn } from "../support/mockedBackend.js"
import { type Backend, baseRequest, queryKeys, queryRun } from "../support/pipeline.js"

const table = generatedTable({ id: "0009000007", categories: 4, areas: 3, months: 12, specialEvery: 5, annotationEvery: 7 }) // 144 rows

interface Out {
  readonly source_path: string
  readonly target_path: string
  readonly records_processed: number
  readonly dataset_id: string
  readonly data_type: string | null
}

const call = (args: unknown) => callTool(transformToParquet, args)
const ordered = "SELECT * FROM run ORDER BY cat01_code, area_code, time_code"

/** A whole getStatsData answer, as e-Stat sends it (TABLE_INF and CLASS_INF included). */
const savedAnswer = () =>
  new TextEncoder().encode(makeEStatApi({ tables: [table], appIds: [MOCK_APP_ID] }).answer("getStatsData", new URLSearchParams({ appId: MOCK_APP_ID, statsDataId: table.info.id, lang: "J" }), 0).body)

// e-Stat in memory; each store, since the sources are read from it and the Parquet written to it.
describe.each<Backend>(["local", "aws"])("transform_to_parquet on the %s backend", (backend) => {
  it.scopedLive("a saved e-Stat page (with or without its own metadata) gives exactly the pipeline's rows; a run becomes one file", () =>
    Effect.gen(function* () {
      const { context, requests } = yield* mockedOn(backend, [table])
      const store = yield* Effect.provide(ObjectStore, context)
      const run = yield* fetchDataset(baseRequest(table.info.id, { pageSize: 1000 })).pipe(Effect.provide(context))
      const expected = yield* queryRun(run.manifest!, ordered).pipe(Effect.provide(context))
      expect(expected.length).toBe(144)

      const answer = savedAnswer()
      yield* store.putBytes("raw/misc/answer.json", answer, "application/json")
      const metaCallsBefore = requests.filter((r) => r.endpoint === "getMetaInfo").length
      expect(metaCallsBefore).toBeGreaterThan(0) // the fetch asked, so none more below means the answer's own CLASS_INF was used
      const fromAnswer = yield* call({ s3_json_path: store.uri("raw/misc/answer.json"), data_type: "census" }).pipe(Effect.provide(context))
      expect(fromAnswer.isError, firstText(fromAnswer)).toBe(false)
      const a = fromAnswer.structuredContent as Out
      expect(a).toMatchObject({ source_path: store.uri("raw/misc/answer.json"), run_id: null, records_processed: 144, dataset_id: table.info.id, data_type: "census" })
      expect(a.target_path).toMatch(new RegExp(`^${store.uri(`transformed/${table.info.id}/`).replace(/[.]/g, "\\.")}\\d{8}T\\d{9}Z-[0-9a-f]{6}\\.parquet$`))
      expect(requests.filter((r) => r.endpoint === "getMetaInfo").length).toBe(metaCallsBefore) // its own CLASS_INF sufficed
      const key = (uri: string) => uri.slice(store.root.length + (store.root.endsWith("/") ? 0 : 1))
      expect(yield* queryKeys([key(a.target_path)], ordered).pipe(Effect.provide(context))).toEqual(expected)

      // A bare VALUE array, gzipped, under raw/<dataset_id>/: labels come from getMetaInfo.
      const values = (JSON.parse(new TextDecoder().decode(answer)) as { GET_STATS_DATA: { STATISTICAL_DATA: { DATA_INF: { VALUE: unknown } } } })
        .GET_STATS_DATA.STATISTICAL_DATA.DATA_INF.VALUE
      yield* store.putBytes(`raw/${table.info.id}/values.json.gz`, gzipSync(JSON.stringify(values)), "application/gzip")
      const fromValues = yield* call({ s3_json_path: `raw/${table.info.id}/values.json.gz`, output_prefix: "mine/pages/" }).pipe(Effect.provide(context))
      expect(fromValues.isError, firstText(fromValues)).toBe(false)
      const v = fromValues.structuredContent as Out
      expect(v.target_path.startsWith(store.uri("mine/pages/"))).toBe(true)
      const fromBare = yield* queryKeys([key(v.target_path)], ordered).pipe(Effect.provide(context))
      // Without NOTE/ANNOTATION legends the annotation column keeps the codes instead of their texts.
      const withoutLegend = (rows: ReadonlyArray<Record<string, unknown>>) => rows.map(({ annotation: _, ...rest }) => rest)
      expect(withoutLegend(fromBare)).toEqual(withoutLegend(expected))

      // A run (by its folder) merges into one file with every row.
      const merged = yield* call({ s3_json_path: `datasets/${table.info.id}/${run.runId}/` }).pipe(Effect.provide(context))
      expect(merged.isError, firstText(merged)).toBe(false)
      const m = merged.structuredContent as Out
      expect(m.records_processed).toBe(144)
      expect(yield* queryKeys([key(m.target_path)], ordered).pipe(Effect.provide(context))).toEqual(expected)
    }))

  it.scopedLive("unusable sources are clear errors", () =>
    Effect.gen(function* () {
      const { context } = yield* mockedOn(backend, [table])
      const store = yield* Effect.provide(ObjectStore, context)
      const text = (args: unknown) => call(args).pipe(Effect.provide(context), Effect.map((r) => firstText(r)))
      yield* store.putBytes("raw/misc/values.json", new TextEncoder().encode('[{"@tab":"01","$":"1"}]'), "application/json")
      expect(yield* text({ s3_json_path: "raw/misc/values.json" })).toBe(
        `${store.uri("raw/misc/values.json")} cannot be used: it names no dataset; save bare VALUE arrays under a folder named by the dataset id (raw/<dataset_id>/…).`
      )
      yield* store.putBytes("raw/misc/error.json", new TextEncoder().encode('{"GET_STATS_DATA":{"RESULT":{"STATUS":100,"ERROR_MSG":"認証に失敗しました。"}}}'), "application/json")
      expect(yield* text({ s3_json_path: "raw/misc/error.json" })).toContain("it is an e-Stat error answer (STATUS 100: 認証に失敗しました。)")
      yield* store.putBytes("raw/misc/broken.json", new TextEncoder().encode('{"GET_STATS'), "application/json")
      expect(yield* text({ s3_json_path: "raw/misc/broken.json" })).toContain("cannot be used: it is not JSON")
      expect(yield* text({ s3_json_path: "raw/none.json" })).toContain("Nothing is stored at")
      yield* store.putBytes(`raw/${table.info.id}/alien.json`, new TextEncoder().encode('[{"@tab":"01","@area":"00000","@time":"2026001212","$":"1"}]'), "application/json")
      expect(yield* text({ s3_json_path: `raw/${table.info.id}/alien.json` })).toContain(`its cells lack cat01, which dataset ${table.info.id} has`)
      expect(yield* text({ s3_json_path: "raw/misc/values.json", output_prefix: "../out/" })).toContain('"../out/" is not a valid storage path')
    }))
})
