#!/usr/bin/env node
import { App } from "aws-cdk-lib"
import { EStatMcpStack } from "../lib/estatMcpStack.js"

/**
 * `npx cdk deploy -c certificateArn=arn:aws:acm:… [-c domainName=mcp.example.jp -c hostedZoneName=example.jp]
 *  [-c vpcId=vpc-…] [-c estatAppIdSecretArn=arn:aws:secretsmanager:…] [-c alarmEmail=ops@example.jp]`
 */
const app = new App()
const context = (name: string): string | undefined => {
  const value: unknown = app.node.tryGetContext(name)
  return typeof value === "string" && value !== "" ? value : undefined
}
const optional = <K extends string>(key: K, value: string | undefined) => (value === undefined ? {} : { [key]: value } as Record<K, string>)

new EStatMcpStack(app, context("stackName") ?? "EStatMcp", {
  env: { account: process.env["CDK_DEFAULT_ACCOUNT"], region: process.env["CDK_DEFAULT_REGION"] ?? "ap-northeast-1" },
  ...optional("certificateArn", context("certificateArn")),
  ...optional("domainName", context("domainName")),
  ...optional("hostedZoneName", context("hostedZoneName")),
  ...optional("vpcId", context("vpcId")),
  ...optional("estatAppIdSecretArn", context("estatAppIdSecretArn")),
  ...optional("alarmEmail", context("alarmEmail"))
})
