import { type Stack, Validations } from "aws-cdk-lib"
import type { IConstruct } from "constructs"

/**
 * The cdk-nag AwsSolutions findings this stack keeps on purpose, each with its reason (deploy/test
 * runs the checks: any other finding fails them). They are CDK acknowledgements on the constructs,
 * so they travel with the stack.
 */
export interface NagAcknowledged {
  readonly accessLogBucket: IConstruct
  /** The secrets this stack creates (an imported e-Stat secret is not ours to rotate). */
  readonly createdSecrets: { readonly estatAppId?: IConstruct; readonly authToken?: IConstruct; readonly sessionSecret: IConstruct }
  readonly taskDefinition: IConstruct
  readonly taskRole: IConstruct
  readonly executionRole: IConstruct
  readonly analysisRole: IConstruct
  readonly loadBalancer: IConstruct
  /** `bucket.arnForObjects("*")`, `…("warehouse/*")`, `…("athena-results/*")` and the Glue tables' ARN. */
  readonly arns: { readonly bucketObjects: string; readonly warehouseObjects: string; readonly resultObjects: string; readonly glueTables: string }
}

export const acknowledgeNagFindings = (stack: Stack, parts: NagAcknowledged) => {
  const wildcard = (arn: string) => `AwsSolutions-IAM5[Resource::${nagSpelling(stack.resolve(arn))}]`
  const tablesReason =
    "Tables are created at run time, one per dataset, so their names are unknown at deploy time; the grant is confined to the one Glue database."

  Validations.of(parts.accessLogBucket).acknowledge({
    id: "AwsSolutions-S1",
    reason: "This is the access-log bucket the other logs go to; logging its own accesses into itself would log every log delivery."
  })

  const rotation = {
    estatAppId: "The e-Stat appId is issued by e-Stat to a registered user and has no rotation API; the operator replaces it by hand (README).",
    authToken:
      "MCP clients keep the bearer token in their own configuration, so an automatic rotation would lock them out; it is rotated by hand with the clients updated (README).",
    sessionSecret:
      "Tasks read the session secret at start and sign live session ids with it; a rotation must come with a new deployment, so it is done by hand (README)."
  } as const
  for (const [name, secret] of Object.entries(parts.createdSecrets)) {
    if (secret !== undefined) Validations.of(secret).acknowledge({ id: "AwsSolutions-SMG4", reason: rotation[name as keyof typeof rotation] })
  }

  Validations.of(parts.taskDefinition).acknowledge({
    id: "AwsSolutions-ECS2",
    reason: "The environment holds only non-secret settings (bucket, workgroup, region, log format); the appId, token and session secret come from Secrets Manager (deploy/test checks that)."
  })

  const bucketGrant =
    "Object reads and writes on the server's own data bucket, which is its whole storage (runs, warehouse tables, exports, load locks under keys made at run time); no other bucket."
  Validations.of(parts.taskRole).acknowledge(
    { id: wildcard(parts.arns.bucketObjects), reason: bucketGrant },
    { id: wildcard(parts.arns.glueTables), reason: tablesReason }
  )
  Validations.of(parts.executionRole).acknowledge({
    id: "AwsSolutions-IAM5[Resource::*]",
    reason: "ecr:GetAuthorizationToken, which ECS needs to pull the image, has no resource-level permissions; the other actions name their repository, log group and secrets."
  })
  Validations.of(parts.analysisRole).acknowledge(
    { id: wildcard(parts.arns.warehouseObjects), reason: "Caller SQL reads the tables' files, whose keys under warehouse/ are made at run time; nothing outside that prefix." },
    { id: wildcard(parts.arns.resultObjects), reason: "Athena writes each query's results under a new key in athena-results/; nothing outside that prefix." },
    { id: wildcard(parts.arns.glueTables), reason: tablesReason }
  )

  Validations.of(parts.loadBalancer).acknowledge({
    id: "AwsSolutions-EC23",
    reason: "An internet-facing endpoint for MCP clients anywhere: 443 (80 only redirects to it); every request is authenticated (bearer token or OAuth access token) before routing."
  })
}

/** A resolved CloudFormation value as cdk-nag spells it in a finding's id (`<Logical.Attr>`, `<AWS::Region>`). */
const nagSpelling = (node: unknown): string => {
  if (typeof node === "string") return node
  if (typeof node !== "object" || node === null) return JSON.stringify(node)
  const value = node as Record<string, unknown>
  if (Array.isArray(value["Fn::Join"])) {
    const [delimiter, items] = value["Fn::Join"] as [string, Array<unknown>]
    return items.map(nagSpelling).join(delimiter)
  }
  if (Array.isArray(value["Fn::GetAtt"])) return `<${(value["Fn::GetAtt"] as Array<unknown>).map(nagSpelling).join(".")}>`
  if ("Ref" in value) return `<${nagSpelling(value["Ref"])}>`
  return JSON.stringify(node)
}
