import { Effect } from "effect"
import { describe, expect, it } from "@effect/vitest"
import { analysisRoleGrants, type AwsGrant, taskRoleGrants } from "../../src/services/lakehouse/awsActions.js"
import { ObjectStore } from "../../src/services/storage/ObjectStore.js"
import { fakeAwsLake, storedRun } from "../fakes/awsLake.js"
import type { SeenRequest } from "../fakes/conditionalS3.js"

/**
 * The code calls no AWS action outside src/services/lakehouse/awsActions.ts, whose lists the deploy
 * stack grants exactly (deploy/test): every call the aws backend makes against the fakes — loads,
 * replace, tables, columns, caller SQL, storage — is seen on the wire and named as IAM names it.
 */

/** The IAM action of an S3 REST request (path style: /bucket/key?query). */
const s3Action = (request: SeenRequest) => {
  const [path = "", query = ""] = request.path.split("?")
  const params = new URLSearchParams(query)
  const onObject = path.split("/").filter((part) => part !== "").length > 1
  if (request.method === "GET" || request.method === "HEAD") {
    if (onObject) return params.has("uploadId") ? "s3:ListMultipartUploadParts" : "s3:GetObject"
    return params.has("uploads") ? "s3:ListBucketMultipartUploads" : params.has("location") ? "s3:GetBucketLocation" : "s3:ListBucket"
  }
  if (request.method === "DELETE") return params.has("uploadId") ? "s3:AbortMultipartUpload" : "s3:DeleteObject"
  return "s3:PutObject" // PutObject, CreateMultipartUpload, UploadPart, CompleteMultipartUpload
}

const actionsOf = (grants: ReadonlyArray<AwsGrant>) => new Set(grants.flatMap((g) => g.actions))

describe("the AWS actions the code calls", () => {
  it.scopedLive("are all in the lists the deploy stack grants, per role", () =>
    Effect.gen(function* () {
      const { lakehouse, fake, store, conditional, settings } = yield* fakeAwsLake()
      const run = yield* storedRun("0003445078", "20261126T031500123Z-a1b2c3", 100).pipe(Effect.provideService(ObjectStore, store))
      yield* lakehouse.load("census", run, { create: true, mode: "append" })
      yield* lakehouse.load("census", run, { create: true, mode: "replace" })
      yield* lakehouse.tables
      yield* lakehouse.columns("census")
      yield* lakehouse.query({ sql: "SELECT count(*) AS n FROM census", maxRows: 10 })
      yield* store.downloadUrl(run.parts[0]!.key, { expiresInSeconds: 60, fileName: "part.parquet" })
      yield* store.head(run.parts[0]!.key)
      yield* store.getRange(run.parts[0]!.key, 4)

      const called = (signer: string) => new Set(fake.calls.filter((c) => c.accessKeyId === signer).map((c) => `${c.service}:${c.action}`))
      const task = new Set([...called("TASKROLE"), ...conditional.seen.map(s3Action)])
      const analysis = called("ANALYSISROLE")
      expect([...task].filter((action) => !actionsOf(taskRoleGrants).has(action))).toEqual([])
      expect([...analysis].filter((action) => !actionsOf(analysisRoleGrants).has(action))).toEqual([])
      // The calls were seen: the check above is not vacuous.
      expect([...task].sort()).toEqual(expect.arrayContaining([
        "athena:GetQueryExecution", "athena:GetQueryResults", "athena:StartQueryExecution",
        "glue:CreateDatabase", "glue:GetDatabase", "glue:GetTable", "glue:GetTables",
        "s3:DeleteObject", "s3:GetObject", "s3:ListBucket", "s3:PutObject"
      ]))
      expect([...analysis].sort()).toEqual(["athena:GetQueryExecution", "athena:GetQueryResults", "athena:StartQueryExecution"])
      // On the resources the grants name: the workgroup, the database (GetTable's Name is the table's), the bucket.
      const named = (service: string) => new Set(fake.calls.filter((c) => c.service === service && c.action !== "GetTable").map((c) => c.resource))
      expect(named("athena")).toEqual(new Set([settings.athenaWorkgroup, undefined]))
      expect(named("glue")).toEqual(new Set([settings.glueDatabase]))
      const underPrefix = (path: string) => path.startsWith("/estat-test/lake/") || new URL(path, "http://s3").searchParams.get("prefix")?.startsWith("lake/") === true
      expect(conditional.seen.map((r) => r.path).filter((path) => !underPrefix(path))).toEqual([])
    }))
})
