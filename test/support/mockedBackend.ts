import { Effect, Option } from "effect"
import type { AppSettings } from "../../src/config.js"
import { S3ClientOverrides } from "../../src/services/storage/S3.js"
import type { FakeTable } from "../../src/testing/index.js"
import { type Backend, mockedContext } from "./pipeline.js"
import { s3rver, s3rverCredentials, TEST_BUCKET } from "./s3rver.js"

/**
 * The mocked layers (e-Stat in memory, its requests recorded) on either store: a temp DATA_DIR
 * (`local`) or S3 on s3rver (`aws`), for tool tests whose subject is the store's wire, not e-Stat's.
 */
export const mockedOn = (backend: Backend, tables: ReadonlyArray<FakeTable>, settings: Partial<AppSettings> = {}) =>
  backend === "local"
    ? mockedContext(tables, settings)
    : Effect.flatMap(s3rver, (s3) =>
      mockedContext(tables, { backend: "aws", s3Bucket: Option.some(TEST_BUCKET), s3Prefix: "lake", s3Endpoint: Option.some(s3.endpoint), ...settings }).pipe(
        Effect.provideService(S3ClientOverrides, { credentials: s3rverCredentials })
      ))
