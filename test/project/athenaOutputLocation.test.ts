import { ConfigProvider, Effect, Option } from "effect"
import { describe, expect, it } from "@effect/vitest"
import { appSettingsConfig } from "../../src/config.js"

const read = (entries: ReadonlyArray<[string, string]>) =>
  Effect.map(Effect.withConfigProvider(appSettingsConfig, ConfigProvider.fromMap(new Map(entries))), (s) => s.athenaOutputLocation)

describe("ATHENA_OUTPUT_LOCATION", () => {
  it.effect("defaults to s3://<bucket>/<prefix>/athena-results/ (a workgroup without a result configuration refuses queries that name none)", () =>
    Effect.gen(function* () {
      expect(yield* read([["S3_BUCKET", "lake-bucket"]])).toEqual(Option.some("s3://lake-bucket/athena-results/"))
      expect(yield* read([["S3_BUCKET", "lake-bucket"], ["S3_PREFIX", "estat"]])).toEqual(Option.some("s3://lake-bucket/estat/athena-results/"))
      expect(yield* read([["S3_BUCKET", "lake-bucket"], ["S3_PREFIX", "/estat/mcp/"]])).toEqual(Option.some("s3://lake-bucket/estat/mcp/athena-results/"))
    }))

  it.effect("is what it says when set, and none without a bucket", () =>
    Effect.gen(function* () {
      expect(yield* read([["S3_BUCKET", "lake-bucket"], ["ATHENA_OUTPUT_LOCATION", "s3://results/here/"]])).toEqual(Option.some("s3://results/here/"))
      expect(yield* read([])).toEqual(Option.none())
    }))
})
