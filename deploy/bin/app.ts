#!/usr/bin/env node
import { App } from "aws-cdk-lib"
import { EStatMcpStack } from "../lib/estatMcpStack.js"
import { deployRegion } from "../lib/region.js"
import type { SignIn } from "../lib/signIn.js"

/**
 * `npx cdk deploy -c certificateArn=arn:aws:acm:… [-c domainName=mcp.example.jp -c hostedZoneName=example.jp]
 *  [-c region=ap-northeast-1] [-c vpcId=vpc-…] [-c estatAppIdSecretArn=arn:aws:secretsmanager:…] [-c alarmEmail=ops@example.jp]
 *  [-c cognitoDomainPrefix=estat-mcp-myteam [-c oauthCallbackUrls=https://…,http://localhost:…]]
 *  [-c oauthIssuer=https://login.example.jp [-c oauthScopePrefix=… -c oauthClientIds=a,b]]`
 * from the repository root or from deploy/ (each has a cdk.json naming this file). Sign-in is a
 * shared bearer token unless a Cognito domain prefix or an issuer is given (both need domainName).
 */
const app = new App()
const context = (name: string): string | undefined => {
  const value: unknown = app.node.tryGetContext(name)
  return typeof value === "string" && value !== "" ? value : undefined
}
const list = (name: string) => context(name)?.split(",").map((item) => item.trim()).filter((item) => item !== "")
const signIn = (): SignIn => {
  const domainPrefix = context("cognitoDomainPrefix")
  const issuer = context("oauthIssuer")
  if (domainPrefix !== undefined && issuer !== undefined) throw new Error("give cognitoDomainPrefix or oauthIssuer, not both")
  if (domainPrefix !== undefined) return { kind: "cognito", domainPrefix, callbackUrls: list("oauthCallbackUrls") }
  if (issuer !== undefined) return { kind: "issuer", issuer, scopePrefix: context("oauthScopePrefix"), clientIds: list("oauthClientIds") }
  return { kind: "token" }
}
// deploy/tsconfig.json has exactOptionalPropertyTypes off: an unset option is just undefined.
new EStatMcpStack(app, context("stackName") ?? "EStatMcp", {
  env: { account: process.env["CDK_DEFAULT_ACCOUNT"], region: deployRegion(context("region"), process.env) },
  certificateArn: context("certificateArn"),
  domainName: context("domainName"),
  hostedZoneName: context("hostedZoneName"),
  vpcId: context("vpcId"),
  estatAppIdSecretArn: context("estatAppIdSecretArn"),
  alarmEmail: context("alarmEmail"),
  signIn: signIn()
})
