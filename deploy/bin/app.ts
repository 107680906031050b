#!/usr/bin/env node
import { App } from "aws-cdk-lib"
import { EStatMcpStack } from "../lib/estatMcpStack.js"
import { deployRegion } from "../lib/region.js"

/**
 * `npx cdk deploy -c certificateArn=arn:aws:acm:… [-c domainName=mcp.example.jp -c hostedZoneName=example.jp]
 *  [-c region=ap-northeast-1] [-c vpcId=vpc-…] [-c estatAppIdSecretArn=arn:aws:secretsmanager:…] [-c alarmEmail=ops@example.jp]`
 * from the repository root or from deploy/ (each has a cdk.json naming this file).
 */
const app = new App()
const context = (name: string): string | undefined => {
  const value: unknown = app.node.tryGetContext(name)
  return typeof value === "string" && value !== "" ? value : undefined
}
// deploy/tsconfig.json has exactOptionalPropertyTypes off: an unset option is just undefined.
new EStatMcpStack(app, context("stackName") ?? "EStatMcp", {
  env: { account: process.env["CDK_DEFAULT_ACCOUNT"], region: deployRegion(context("region"), process.env) },
  certificateArn: context("certificateArn"),
  domainName: context("domainName"),
  hostedZoneName: context("hostedZoneName"),
  vpcId: context("vpcId"),
  estatAppIdSecretArn: context("estatAppIdSecretArn"),
  alarmEmail: context("alarmEmail")
})
