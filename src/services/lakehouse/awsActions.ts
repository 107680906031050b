/**
 * Every AWS action the aws backend needs, per role, and on which resources: the calls the code
 * makes itself (SDK commands) and those Athena makes in the caller's name for the statements the
 * code sends. The deploy stack builds its role policies from these lists; deploy/test checks that
 * the synthesised policies allow exactly these, and test/services/awsActions.test.ts that the code,
 * run against the fakes, calls nothing outside them. Pure data: no SDK is imported here.
 */

/** The resources a grant names; the stack turns each into its ARN. */
export type AwsResource =
  | "workgroup"
  | "glueCatalog"
  | "glueDatabase"
  | "glueDefaultDatabase"
  | "glueTables"
  | "bucket"
  | "objects"
  | "warehouseObjects"
  | "resultObjects"
  | "analysisRole"

export interface AwsGrant {
  readonly actions: ReadonlyArray<string>
  readonly resources: ReadonlyArray<AwsResource>
  readonly conditions?: Readonly<Record<string, Readonly<Record<string, ReadonlyArray<string>>>>>
  /** Who calls it, and why. */
  readonly why: string
}

const athenaQueries = ["athena:StartQueryExecution", "athena:GetQueryExecution", "athena:GetQueryResults", "athena:StopQueryExecution"]

/** Athena demands these of whoever starts a query, in each Region (its guide: access to the default database). */
const athenaDefaultDatabase: AwsGrant = {
  actions: ["glue:GetDatabase", "glue:CreateDatabase"],
  resources: ["glueCatalog", "glueDefaultDatabase"],
  why: "Athena, for every query"
}

/** The server's own role (the ECS task role). */
export const taskRoleGrants: ReadonlyArray<AwsGrant> = [
  { actions: athenaQueries, resources: ["workgroup"], why: "query/Athena.ts: the loads' statements" },
  { actions: ["glue:GetDatabase", "glue:CreateDatabase"], resources: ["glueCatalog", "glueDatabase"], why: "lakehouse/aws.ts ensureDatabase" },
  athenaDefaultDatabase,
  { actions: ["glue:GetTable", "glue:GetTables"], resources: ["glueCatalog", "glueDatabase", "glueTables"], why: "lakehouse/aws.ts columns and tables; Athena reading tables" },
  {
    actions: ["glue:CreateTable", "glue:UpdateTable", "glue:DeleteTable"],
    resources: ["glueCatalog", "glueDatabase", "glueTables"],
    why: "Athena: CREATE (EXTERNAL) TABLE, Iceberg commits (the metadata location), DROP TABLE"
  },
  {
    actions: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
    resources: ["objects"],
    why: "storage/S3.ts (HeadObject and GetObject are s3:GetObject; multipart parts are s3:PutObject), the load lock; Athena reading parts, writing tables and results"
  },
  {
    actions: ["s3:ListBucket", "s3:GetBucketLocation", "s3:ListBucketMultipartUploads"],
    resources: ["bucket"],
    why: "storage/S3.ts list (ListObjectsV2); Athena listing table and result locations"
  },
  { actions: ["sts:AssumeRole"], resources: ["analysisRole"], why: "query/assumedRole.ts: caller SQL runs as the analysis role" }
]

/** The role caller SQL runs as on Athena (ATHENA_QUERY_ROLE_ARN): read the tables, write query results. */
export const analysisRoleGrants: ReadonlyArray<AwsGrant> = [
  { actions: athenaQueries, resources: ["workgroup"], why: "query/Athena.ts: caller SQL" },
  { actions: ["glue:GetDatabase", "glue:GetTable", "glue:GetTables"], resources: ["glueCatalog", "glueDatabase", "glueTables"], why: "Athena reading the tables" },
  athenaDefaultDatabase,
  { actions: ["s3:GetObject"], resources: ["warehouseObjects"], why: "Athena reading the tables' files" },
  {
    actions: ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
    resources: ["resultObjects"],
    why: "Athena writing query results"
  },
  {
    actions: ["s3:ListBucket"],
    resources: ["bucket"],
    conditions: { StringLike: { "s3:prefix": ["warehouse/*", "athena-results/*"] } },
    why: "Athena listing the tables' files and results, nothing else"
  },
  { actions: ["s3:GetBucketLocation"], resources: ["bucket"], why: "Athena locating the bucket" }
]
