import { App } from "aws-cdk-lib"
import { Match, Template } from "aws-cdk-lib/assertions"
import { describe, expect, it } from "vitest"
import { EStatMcpStack } from "../lib/estatMcpStack.js"

const certificateArn = "arn:aws:acm:ap-northeast-1:123456789012:certificate/11111111-2222-3333-4444-555555555555"
const env = { account: "123456789012", region: "ap-northeast-1" }

/** `cdk synth` offline, checked resource by resource (aws-cdk-lib/assertions). */
describe("the deploy stack", () => {
  const template = Template.fromStack(new EStatMcpStack(new App(), "EStatMcp", { env, certificateArn, alarmEmail: "ops@example.jp" }))
  const resources = (type: string) => Object.values(template.findResources(type)) as Array<{ Properties: Record<string, unknown> }>

  it("terminates HTTPS on 443 with the certificate, redirects HTTP, keeps idle connections 300 s+", () => {
    template.hasResourceProperties("AWS::ElasticLoadBalancingV2::Listener", {
      Port: 443, Protocol: "HTTPS", Certificates: [{ CertificateArn: certificateArn }]
    })
    template.hasResourceProperties("AWS::ElasticLoadBalancingV2::Listener", {
      Port: 80, Protocol: "HTTP", DefaultActions: [Match.objectLike({ Type: "redirect", RedirectConfig: Match.objectLike({ Protocol: "HTTPS", Port: "443" }) })]
    })
    const [alb] = resources("AWS::ElasticLoadBalancingV2::LoadBalancer")
    const attributes = alb!.Properties["LoadBalancerAttributes"] as Array<{ Key: string; Value: string }>
    expect(Number(attributes.find((a) => a.Key === "idle_timeout.timeout_seconds")!.Value)).toBeGreaterThanOrEqual(300)
    expect(alb!.Properties["Scheme"]).toBe("internet-facing")
  })

  it("checks task health on /health and runs at least 2 tasks, autoscaling 2–5 on CPU", () => {
    template.hasResourceProperties("AWS::ElasticLoadBalancingV2::TargetGroup", {
      HealthCheckPath: "/health",
      TargetGroupAttributes: Match.arrayWith([{ Key: "stickiness.enabled", Value: "true" }])
    })
    template.hasResourceProperties("AWS::ECS::Service", { DesiredCount: 2, LaunchType: "FARGATE" })
    template.hasResourceProperties("AWS::ApplicationAutoScaling::ScalableTarget", { MinCapacity: 2, MaxCapacity: 5 })
    template.hasResourceProperties("AWS::ApplicationAutoScaling::ScalingPolicy", {
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({ PredefinedMetricSpecification: { PredefinedMetricType: "ECSServiceAverageCPUUtilization" } })
    })
    template.hasResourceProperties("AWS::ECS::TaskDefinition", { Cpu: "256", Memory: "512", RequiresCompatibilities: ["FARGATE"] })
  })

  it("runs the repository's Dockerfile image with secrets from Secrets Manager, never in plain environment", () => {
    const [task] = resources("AWS::ECS::TaskDefinition")
    const [container] = task!.Properties["ContainerDefinitions"] as Array<{
      Environment: Array<{ Name: string }>; Secrets: Array<{ Name: string; ValueFrom: unknown }>; Image: unknown; LogConfiguration: { LogDriver: string }
    }>
    const plain = container!.Environment.map((e) => e.Name)
    for (const secret of ["ESTAT_APP_ID", "MCP_AUTH_TOKEN", "MCP_SESSION_SECRET"]) expect(plain).not.toContain(secret)
    expect(container!.Secrets.map((s) => s.Name).sort()).toEqual(["ESTAT_APP_ID", "MCP_AUTH_TOKEN", "MCP_SESSION_SECRET"])
    expect(plain).toEqual(expect.arrayContaining(["ESTAT_MCP_BACKEND", "S3_BUCKET", "GLUE_DATABASE", "ATHENA_WORKGROUP", "ATHENA_OUTPUT_LOCATION"]))
    expect(JSON.stringify(container!.Image)).toContain("container-assets") // built from the Dockerfile as a CDK asset
    expect(container!.LogConfiguration.LogDriver).toBe("awslogs")
    template.resourceCountIs("AWS::SecretsManager::Secret", 3)
    template.hasResourceProperties("AWS::Logs::LogGroup", { RetentionInDays: 30 })
  })

  it("keeps the bucket private, encrypted and TLS-only, with results expiring", () => {
    template.hasResourceProperties("AWS::S3::Bucket", {
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } }] },
      LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ Prefix: "athena-results/", ExpirationInDays: 30 })]) }
    })
    template.hasResourceProperties("AWS::S3::BucketPolicy", {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } })]) }
    })
  })

  it("creates the Glue database and an Athena workgroup with enforced output and a scan limit", () => {
    template.hasResourceProperties("AWS::Glue::Database", { DatabaseInput: { Name: "estat_db", Description: Match.anyValue() } })
    template.hasResourceProperties("AWS::Athena::WorkGroup", {
      WorkGroupConfiguration: Match.objectLike({
        EnforceWorkGroupConfiguration: true,
        BytesScannedCutoffPerQuery: 10 * 1024 ** 3,
        ResultConfiguration: Match.objectLike({ OutputLocation: Match.anyValue() })
      })
    })
  })

  it("gives the task role only its bucket, workgroup and database", () => {
    const taskRoleStatements = resources("AWS::IAM::Policy")
      .filter((p) => JSON.stringify(p.Properties["Roles"]).includes("TaskTaskRole"))
      .flatMap((p) => (p.Properties["PolicyDocument"] as { Statement: Array<{ Action: string | Array<string>; Resource: unknown }> }).Statement)
    expect(taskRoleStatements.length).toBeGreaterThan(0)
    for (const statement of taskRoleStatements) {
      const resource = JSON.stringify(statement.Resource)
      expect([statement.Resource].flat(), JSON.stringify(statement.Action)).not.toContain("*")
      const actions = [statement.Action].flat()
      if (actions.some((a) => a.startsWith("s3:"))) expect(resource).toContain("DataBucket")
      if (actions.some((a) => a.startsWith("athena:"))) expect(resource).toContain(":workgroup/")
      if (actions.some((a) => a.startsWith("glue:"))) expect(resource).toMatch(/:database\/estat_db|:table\/estat_db\/\*|:catalog/)
    }
  })

  it("runs caller SQL as an analysis role that reads the tables and writes query results, nothing else", () => {
    type Statement = { Action: string | Array<string>; Resource: unknown; Condition?: unknown }
    const roles = template.findResources("AWS::IAM::Role")
    const [analysisId, analysis] = Object.entries(roles).find(([id]) => id.startsWith("AnalysisRole"))!
    // Only the task role may assume it, and the task gets its ARN.
    const trust = JSON.stringify((analysis as { Properties: { AssumeRolePolicyDocument: unknown } }).Properties.AssumeRolePolicyDocument)
    expect(trust).toContain("TaskTaskRole")
    expect(trust).not.toContain('"Service"')
    template.hasResourceProperties("AWS::ECS::TaskDefinition", {
      ContainerDefinitions: Match.arrayWith([Match.objectLike({
        Environment: Match.arrayWith([{ Name: "ATHENA_QUERY_ROLE_ARN", Value: { "Fn::GetAtt": [analysisId, "Arn"] } }])
      })])
    })
    const statements = resources("AWS::IAM::Policy")
      .filter((p) => JSON.stringify(p.Properties["Roles"]).includes(analysisId))
      .flatMap((p) => (p.Properties["PolicyDocument"] as { Statement: Array<Statement> }).Statement)
    const actions = statements.flatMap((s) => [s.Action].flat()).sort()
    expect(actions).toEqual([
      "athena:GetQueryExecution", "athena:GetQueryResults", "athena:StartQueryExecution", "athena:StopQueryExecution",
      "glue:GetDatabase", "glue:GetTable", "glue:GetTables",
      "s3:AbortMultipartUpload", "s3:GetBucketLocation", "s3:GetObject", "s3:GetObject", "s3:ListBucket", "s3:ListMultipartUploadParts", "s3:PutObject"
    ])
    for (const statement of statements) {
      const resource = JSON.stringify(statement.Resource)
      const granted = [statement.Action].flat()
      expect([statement.Resource].flat()).not.toContain("*")
      // Writes only to the results prefix; object reads only of the tables' files and results.
      if (granted.some((a) => a === "s3:PutObject" || a === "s3:AbortMultipartUpload")) expect(resource).toMatch(/\/athena-results\/\*"/)
      if (granted.includes("s3:GetObject")) expect(resource).toMatch(/\/(warehouse|athena-results)\/\*"/)
      if (granted.includes("s3:ListBucket")) expect(statement.Condition).toEqual({ StringLike: { "s3:prefix": ["warehouse/*", "athena-results/*"] } })
      if (granted.some((a) => a.startsWith("athena:"))) expect(resource).toContain(":workgroup/")
    }
  })

  it("alarms on unhealthy hosts, 5xx rate, CPU and memory over 80 %, to an SNS topic", () => {
    const alarms = resources("AWS::CloudWatch::Alarm")
    expect(alarms.length).toBe(4)
    for (const alarm of alarms) expect(JSON.stringify(alarm.Properties["AlarmActions"])).toContain("Alarms")
    const byDescription = (text: string) => alarms.find((a) => String(a.Properties["AlarmDescription"]).includes(text))!
    expect(byDescription("CPU").Properties["Threshold"]).toBe(80)
    expect(byDescription("memory").Properties["Threshold"]).toBe(80)
    expect(byDescription("5xx").Properties["Metrics"]).toBeDefined()
    expect(byDescription("/health").Properties["MetricName"]).toBe("UnHealthyHostCount")
    template.hasResourceProperties("AWS::SNS::Subscription", { Protocol: "email", Endpoint: "ops@example.jp" })
  })

  it("with a domain and hosted zone: a DNS-validated certificate and an alias record", () => {
    const app = new App()
    const withDomain = Template.fromStack(new EStatMcpStack(app, "EStatMcpDomain", { env, domainName: "mcp.example.jp", hostedZoneName: "example.jp" }))
    withDomain.hasResourceProperties("AWS::CertificateManager::Certificate", { DomainName: "mcp.example.jp", ValidationMethod: "DNS" })
    withDomain.hasResourceProperties("AWS::Route53::RecordSet", { Name: "mcp.example.jp.", Type: "A" })
    expect(() => new EStatMcpStack(new App(), "NoCertificate", { env })).toThrow(/HTTPS needs a certificate/)
  })
})
