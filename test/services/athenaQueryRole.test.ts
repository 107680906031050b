import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts"
import { mockClient } from "aws-sdk-client-mock"
import { Effect, Layer, Option } from "effect"
import { afterEach, describe, expect, it } from "@effect/vitest"
import { configLayer, defaultSettings } from "../../src/config.js"
import { Lakehouse } from "../../src/services/lakehouse/Lakehouse.js"
import { layer } from "../../src/services/lakehouse/aws.js"
import { AthenaClientOverrides } from "../../src/services/query/Athena.js"
import { startFakeAthena } from "../fakes/athena/server.js"
import { pipelineContext } from "../support/pipeline.js"

/** On aws the boundary of caller SQL is IAM: it runs on Athena as the analysis role, the server's own statements as the task role. */

const ROLE = "arn:aws:iam::123456789012:role/estat-mcp-analysis"
const sts = mockClient(STSClient)
afterEach(() => sts.reset())

describe("caller SQL on Athena runs as ATHENA_QUERY_ROLE_ARN", () => {
  it.scopedLive("signs caller queries with the assumed role's credentials, assumed once for their lifetime", () =>
    Effect.gen(function* () {
      sts.on(AssumeRoleCommand).resolves({
        Credentials: { AccessKeyId: "ASIAANALYSIS", SecretAccessKey: "secret", SessionToken: "token", Expiration: new Date(Date.now() + 3_600_000) }
      })
      const fake = yield* Effect.acquireRelease(Effect.promise(() => startFakeAthena()), (f) => Effect.promise(() => f.close()))
      const { context } = yield* pipelineContext("local")
      const settings = {
        ...defaultSettings,
        backend: "aws" as const,
        athenaEndpoint: Option.some(fake.endpoint),
        athenaOutputLocation: Option.some("s3://bucket/athena-results/"),
        athenaQueryRoleArn: Option.some(ROLE)
      }
      const lakehouse = yield* Effect.provide(Lakehouse, layer.pipe(
        Layer.provide(configLayer(settings)),
        Layer.provide(Layer.succeed(AthenaClientOverrides, { credentials: { accessKeyId: "TASKROLE", secretAccessKey: "x" } })),
        Layer.provide(Layer.succeedContext(context))
      ))
      yield* lakehouse.query({ sql: "SELECT 1 AS one", maxRows: 5 })
      yield* lakehouse.query({ sql: "SELECT 2 AS two", maxRows: 5 })
      expect(fake.executions.map((e) => [e.sql, e.accessKeyId])).toEqual([["SELECT 1 AS one", "ASIAANALYSIS"], ["SELECT 2 AS two", "ASIAANALYSIS"]])
      expect(sts.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input)).toEqual([
        { RoleArn: ROLE, RoleSessionName: "estat-mcp-analysis", DurationSeconds: 3600 }
      ])
    }))

  it.scopedLive("without the setting, caller SQL runs with the server's own credentials", () =>
    Effect.gen(function* () {
      // A workgroup with its own (enforced) result location: the request need not name one.
      const workgroups = { primary: { outputLocation: "s3://bucket/athena-results/", enforce: true } }
      const fake = yield* Effect.acquireRelease(Effect.promise(() => startFakeAthena({ workgroups })), (f) => Effect.promise(() => f.close()))
      const { context } = yield* pipelineContext("local")
      const settings = { ...defaultSettings, backend: "aws" as const, athenaEndpoint: Option.some(fake.endpoint) }
      const lakehouse = yield* Effect.provide(Lakehouse, layer.pipe(
        Layer.provide(configLayer(settings)),
        Layer.provide(Layer.succeed(AthenaClientOverrides, { credentials: { accessKeyId: "TASKROLE", secretAccessKey: "x" } })),
        Layer.provide(Layer.succeedContext(context))
      ))
      yield* lakehouse.query({ sql: "SELECT 1 AS one", maxRows: 5 })
      expect(fake.executions.map((e) => e.accessKeyId)).toEqual(["TASKROLE"])
      expect(sts.commandCalls(AssumeRoleCommand)).toEqual([])
    }))
})
