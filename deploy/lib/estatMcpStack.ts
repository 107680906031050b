import { fileURLToPath } from "node:url"
import {
  Duration,
  RemovalPolicy,
  Stack,
  type StackProps,
  aws_athena as athena,
  aws_certificatemanager as acm,
  aws_cloudwatch as cloudwatch,
  aws_cloudwatch_actions as cloudwatchActions,
  aws_ec2 as ec2,
  aws_ecr_assets as ecrAssets,
  aws_ecs as ecs,
  aws_ecs_patterns as ecsPatterns,
  aws_elasticloadbalancingv2 as elbv2,
  aws_glue as glue,
  aws_iam as iam,
  aws_logs as logs,
  aws_route53 as route53,
  aws_s3 as s3,
  aws_secretsmanager as secretsmanager,
  aws_sns as sns,
  aws_sns_subscriptions as subscriptions,
  CfnOutput
} from "aws-cdk-lib"
import * as cxapi from "aws-cdk-lib/cx-api"
import type { Construct } from "constructs"
import { analysisRoleGrants, type AwsGrant, type AwsResource, taskRoleGrants } from "../../src/services/lakehouse/awsActions.js"
import { acknowledgeNagFindings } from "./nagAcknowledgements.js"
import { CognitoSignIn, defaultCallbackUrls, issuerEnvironment, type SignIn } from "./signIn.js"

/** The access-log bucket keeps ALB, S3 and VPC flow logs this long. */
const logRetentionDays = 90

export interface EStatMcpStackProps extends StackProps {
  /** The container; default: built from the repository's Dockerfile. */
  readonly image?: ecs.ContainerImage
  /** An ACM certificate for the HTTPS listener; or give domainName + hostedZoneName and one is issued. */
  readonly certificateArn?: string
  readonly domainName?: string
  /** With domainName: an alias record for the load balancer, and DNS validation of a new certificate. */
  readonly hostedZoneName?: string
  /** An existing VPC (looked up; needs an account and region); default: a new VPC over 2 AZs. */
  readonly vpcId?: string
  /** An existing secret holding the e-Stat appId; default: a new secret to fill in after the first deploy. */
  readonly estatAppIdSecretArn?: string
  readonly alarmEmail?: string
  /** Tasks: at least 2, across AZs. */
  readonly minTasks?: number
  readonly maxTasks?: number
  /** Athena's per-query scan limit, in bytes (default 10 GB). */
  readonly bytesScannedCutoffPerQuery?: number
  readonly glueDatabase?: string
  /** How clients sign in: a shared token (default), a Cognito user pool made here, or your own issuer; the last two need domainName. */
  readonly signIn?: SignIn
}

const repositoryRoot = fileURLToPath(new URL("../..", import.meta.url))

/**
 * The one platform the image is built for and the tasks run on: linux/amd64 (Fargate X86_64). The
 * Dockerfile's `--platform` and the DuckDB binding it copies (`@duckdb/node-bindings-linux-x64`) say
 * the same; test/project/dockerfile.test.ts checks that they agree.
 */
export const imagePlatform = {
  docker: "linux/amd64",
  asset: ecrAssets.Platform.LINUX_AMD64,
  task: { cpuArchitecture: ecs.CpuArchitecture.X86_64, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX }
} as const

/**
 * How a task stops (a deploy, a scale-in): ECS first deregisters it from the target group and waits
 * the deregistration delay — the ALB sends it no new request while calls already running go on —,
 * and only then sends SIGTERM, followed by SIGKILL after the stop timeout. The delay covers the
 * longest bounded call (an Athena query stops at ATHENA_QUERY_TIMEOUT, 5 minutes); the stop
 * timeout, Fargate's maximum, is what the server has after SIGTERM to close what is left.
 */
export const draining = { deregistrationDelay: Duration.seconds(300), stopTimeout: Duration.seconds(120) } as const

/** The task's own check (ECS ignores the Dockerfile's HEALTHCHECK): node is in the image, curl is not. */
const containerHealthCheck: ecs.HealthCheck = {
  command: ["CMD", "node", "-e", "fetch('http://127.0.0.1:8080/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"],
  interval: Duration.seconds(30),
  timeout: Duration.seconds(5),
  retries: 3,
  startPeriod: Duration.seconds(30)
}

/**
 * estat-mcp on ECS Fargate behind an HTTPS Application Load Balancer, with its S3 bucket, Glue
 * database and Athena workgroup, secrets in Secrets Manager, a least-privilege task role, and alarms.
 */
export class EStatMcpStack extends Stack {
  /** What the roles' grants name (deploy/test reads the synthesised policies back through it). */
  readonly resourceArns: ResourceArns

  constructor(scope: Construct, id: string, props: EStatMcpStackProps = {}) {
    super(scope, id, props)
    // Log delivery (S3 server access logs, VPC flow logs) allowed by the access-log bucket's policy,
    // not by ACLs (the bucket keeps ACLs off), whatever the app's cdk.json says.
    this.node.setContext(cxapi.S3_SERVER_ACCESS_LOGS_USE_BUCKET_POLICY, true)
    this.node.setContext(cxapi.S3_CREATE_DEFAULT_LOGGING_POLICY, true)
    const databaseName = props.glueDatabase ?? "estat_db"
    const minTasks = Math.max(2, props.minTasks ?? 2)

    // --- Access logs: the ALB's, the data bucket's and the new VPC's flow logs ---------------------
    // SSE-S3: ALB log delivery cannot write to a KMS-encrypted bucket.
    const logBucket = new s3.Bucket(this, "AccessLogs", {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [{ id: "expire-logs", expiration: Duration.days(logRetentionDays) }]
    })

    const vpc = props.vpcId === undefined
      ? new ec2.Vpc(this, "Vpc", {
        maxAzs: 2,
        natGateways: 1,
        flowLogs: { FlowLogs: { destination: ec2.FlowLogDestination.toS3(logBucket, "vpc-flow-logs/") } }
      })
      : ec2.Vpc.fromLookup(this, "Vpc", { vpcId: props.vpcId })

    // --- Data lake: bucket, Glue database, Athena workgroup -------------------------------------
    const bucket = new s3.Bucket(this, "DataBucket", {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: false,
      removalPolicy: RemovalPolicy.RETAIN,
      serverAccessLogsBucket: logBucket,
      serverAccessLogsPrefix: "s3-data-bucket/",
      lifecycleRules: [
        { id: "athena-results", prefix: "athena-results/", expiration: Duration.days(30) },
        { id: "abort-incomplete-uploads", abortIncompleteMultipartUploadAfter: Duration.days(2) }
      ]
    })
    new glue.CfnDatabase(this, "GlueDatabase", {
      catalogId: this.account,
      databaseInput: { name: databaseName, description: "e-Stat datasets loaded by estat-mcp (Iceberg tables)" }
    })
    const outputLocation = `s3://${bucket.bucketName}/athena-results/`
    const workgroup = new athena.CfnWorkGroup(this, "AthenaWorkgroup", {
      name: `${id}-estat`.toLowerCase(),
      state: "ENABLED",
      recursiveDeleteOption: true,
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: props.bytesScannedCutoffPerQuery ?? 10 * 1024 ** 3,
        engineVersion: { selectedEngineVersion: "Athena engine version 3" },
        resultConfiguration: {
          outputLocation,
          encryptionConfiguration: { encryptionOption: "SSE_S3" }
        }
      }
    })

    // --- Secrets: never plain environment variables ----------------------------------------------
    const estatAppId = props.estatAppIdSecretArn === undefined
      ? new secretsmanager.Secret(this, "EStatAppId", {
        description: "e-Stat application id: put the real value here after the first deploy",
        generateSecretString: { passwordLength: 32, excludePunctuation: true }
      })
      : secretsmanager.Secret.fromSecretCompleteArn(this, "EStatAppId", props.estatAppIdSecretArn)
    const signIn = props.signIn ?? { kind: "token" }
    const authToken = signIn.kind === "token"
      ? new secretsmanager.Secret(this, "McpAuthToken", {
        description: "Bearer token MCP clients send to estat-mcp",
        generateSecretString: { passwordLength: 48, excludePunctuation: true }
      })
      : undefined
    const oauthEnvironment = signIn.kind === "token" ? {} : oauthSettings(this, signIn, props.domainName)
    const sessionSecret = new secretsmanager.Secret(this, "McpSessionSecret", {
      description: "Signs MCP session ids so that any task can continue a session",
      generateSecretString: { passwordLength: 64, excludePunctuation: true }
    })

    // --- The service -------------------------------------------------------------------------------
    const logGroup = new logs.LogGroup(this, "Logs", { retention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY })
    const taskCpu = 256
    const taskDefinition = new ecs.FargateTaskDefinition(this, "Task", { cpu: taskCpu, memoryLimitMiB: 512, runtimePlatform: imagePlatform.task })
    taskDefinition.addContainer("estat-mcp", {
      image: props.image ?? ecs.ContainerImage.fromAsset(repositoryRoot, { platform: imagePlatform.asset }),
      portMappings: [{ containerPort: 8080 }],
      healthCheck: containerHealthCheck,
      stopTimeout: draining.stopTimeout,
      logging: ecs.LogDrivers.awsLogs({ logGroup, streamPrefix: "estat-mcp" }),
      environment: {
        ESTAT_MCP_BACKEND: "aws",
        S3_BUCKET: bucket.bucketName,
        S3_PREFIX: "",
        AWS_REGION: this.region,
        GLUE_DATABASE: databaseName,
        ATHENA_WORKGROUP: workgroup.name,
        ATHENA_OUTPUT_LOCATION: outputLocation,
        LOG_FORMAT: "json",
        // The task's quota sits on a cgroup the container cannot see: background work paces itself to it (CpuPacer).
        CPU_LIMIT: String(taskCpu / 1024),
        // The ALB appends the client's address to X-Forwarded-For: per-client limits count clients, not the ALB.
        MCP_TRUSTED_PROXIES: "1",
        ...oauthEnvironment
      },
      secrets: {
        ESTAT_APP_ID: ecs.Secret.fromSecretsManager(estatAppId),
        ...(authToken === undefined ? {} : { MCP_AUTH_TOKEN: ecs.Secret.fromSecretsManager(authToken) }),
        MCP_SESSION_SECRET: ecs.Secret.fromSecretsManager(sessionSecret)
      }
    })
    const analysisRole = analysisRoleFor(this, taskDefinition.taskRole)
    const arns = resourceArnsOf(this, { bucket, workgroup: workgroup.name, databaseName, analysisRole })
    this.resourceArns = arns
    grantAll(taskDefinition.taskRole, taskRoleGrants, arns)
    grantAll(analysisRole, analysisRoleGrants, arns)
    taskDefinition.defaultContainer?.addEnvironment("ATHENA_QUERY_ROLE_ARN", analysisRole.roleArn)

    const zone = props.hostedZoneName === undefined ? undefined : route53.HostedZone.fromLookup(this, "Zone", { domainName: props.hostedZoneName })
    const certificate = props.certificateArn !== undefined
      ? acm.Certificate.fromCertificateArn(this, "Certificate", props.certificateArn)
      : props.domainName !== undefined && zone !== undefined
      ? new acm.Certificate(this, "Certificate", { domainName: props.domainName, validation: acm.CertificateValidation.fromDns(zone) })
      : undefined
    if (certificate === undefined) {
      throw new Error("HTTPS needs a certificate: pass certificateArn, or domainName with hostedZoneName")
    }

    // SSE streams and long tool calls outlive the default 60 s idle timeout.
    const loadBalancer = new elbv2.ApplicationLoadBalancer(this, "LoadBalancer", {
      vpc,
      internetFacing: true,
      idleTimeout: Duration.seconds(310)
    })
    loadBalancer.logAccessLogs(logBucket, "alb")
    const service = new ecsPatterns.ApplicationLoadBalancedFargateService(this, "Service", {
      cluster: new ecs.Cluster(this, "Cluster", { vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED }),
      taskDefinition,
      loadBalancer,
      desiredCount: minTasks,
      certificate,
      protocol: elbv2.ApplicationProtocol.HTTPS,
      redirectHTTP: true,
      sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
      minHealthyPercent: 100,
      circuitBreaker: { rollback: true },
      ...(props.domainName !== undefined && zone !== undefined ? { domainName: props.domainName, domainZone: zone } : {})
    })
    service.targetGroup.configureHealthCheck({ path: "/health", healthyHttpCodes: "200", interval: Duration.seconds(15) })
    service.targetGroup.setAttribute("deregistration_delay.timeout_seconds", String(draining.deregistrationDelay.toSeconds()))
    // Sessions work on any task (signed ids); stickiness only keeps a session's SSE replay buffer at hand.
    service.targetGroup.enableCookieStickiness(Duration.hours(1))
    const scaling = service.service.autoScaleTaskCount({ minCapacity: minTasks, maxCapacity: Math.max(minTasks, props.maxTasks ?? 5) })
    scaling.scaleOnCpuUtilization("Cpu", { targetUtilizationPercent: 60 })

    addAlarms(this, service, props.alarmEmail)

    acknowledgeNagFindings(this, {
      accessLogBucket: logBucket,
      createdSecrets: {
        ...(props.estatAppIdSecretArn === undefined ? { estatAppId } : {}),
        ...(authToken === undefined ? {} : { authToken }),
        sessionSecret
      },
      taskDefinition,
      taskRole: taskDefinition.taskRole,
      executionRole: taskDefinition.obtainExecutionRole(),
      analysisRole,
      loadBalancer,
      arns: { bucketObjects: arns.objects, warehouseObjects: arns.warehouseObjects, resultObjects: arns.resultObjects, glueTables: arns.glueTables }
    })

    new CfnOutput(this, "Endpoint", { value: `https://${props.domainName ?? loadBalancer.loadBalancerDnsName}/mcp` })
    if (authToken !== undefined) {
      new CfnOutput(this, "AuthTokenSecret", { value: authToken.secretArn, description: "aws secretsmanager get-secret-value --secret-id <this>" })
    }
    new CfnOutput(this, "EStatAppIdSecret", { value: estatAppId.secretArn })
    new CfnOutput(this, "DataBucketName", { value: bucket.bucketName })
  }
}

/**
 * MCP_AUTH_MODE=oauth and its settings. OAuth binds tokens to the address clients use, so the
 * stack must know it: a domain name, not the load balancer's generated one.
 */
const oauthSettings = (scope: Construct, signIn: Exclude<SignIn, { kind: "token" }>, domainName: string | undefined) => {
  if (domainName === undefined) throw new Error(`signIn ${signIn.kind} needs domainName: OAuth tokens name the address clients use`)
  const publicUrl = `https://${domainName}`
  const endpoint = `${publicUrl}/mcp`
  const settings = signIn.kind === "issuer"
    ? issuerEnvironment(signIn, endpoint)
    : new CognitoSignIn(scope, "SignIn", { endpoint, domainPrefix: signIn.domainPrefix, callbackUrls: signIn.callbackUrls ?? defaultCallbackUrls }).environment
  return { ...settings, MCP_PUBLIC_URL: publicUrl }
}

/** The ARN of each resource a grant names (src/services/lakehouse/awsActions.ts). */
export type ResourceArns = Readonly<Record<AwsResource, string>>

const resourceArnsOf = (
  stack: Stack,
  { bucket, workgroup, databaseName, analysisRole }: { readonly bucket: s3.Bucket; readonly workgroup: string; readonly databaseName: string; readonly analysisRole: iam.IRole }
): ResourceArns => ({
  workgroup: stack.formatArn({ service: "athena", resource: "workgroup", resourceName: workgroup }),
  glueCatalog: stack.formatArn({ service: "glue", resource: "catalog" }),
  glueDatabase: stack.formatArn({ service: "glue", resource: "database", resourceName: databaseName }),
  glueDefaultDatabase: stack.formatArn({ service: "glue", resource: "database", resourceName: "default" }),
  glueTables: stack.formatArn({ service: "glue", resource: "table", resourceName: `${databaseName}/*` }),
  bucket: bucket.bucketArn,
  objects: bucket.arnForObjects("*"),
  warehouseObjects: bucket.arnForObjects("warehouse/*"),
  resultObjects: bucket.arnForObjects("athena-results/*"),
  analysisRole: analysisRole.roleArn
})

/** A role's policy, statement by statement, from the list of what the code needs: nothing more. */
const grantAll = (role: iam.IRole, grants: ReadonlyArray<AwsGrant>, arns: ResourceArns) => {
  for (const grant of grants) {
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: [...grant.actions],
      resources: grant.resources.map((resource) => arns[resource]),
      ...(grant.conditions === undefined ? {} : { conditions: grant.conditions })
    }))
  }
}

/**
 * The role caller SQL runs as on Athena (ATHENA_QUERY_ROLE_ARN): Athena reads Glue and S3 with the
 * caller's identity, so this is the boundary of custom queries on AWS — read the Iceberg tables
 * (Glue metadata, `warehouse/`), write query results (`athena-results/`), nothing else: no Glue
 * writes (but the default database Athena demands), no other prefix, no other workgroup. Only the
 * task role may assume it (its trust policy; the task role's own grant is in taskRoleGrants).
 */
const analysisRoleFor = (scope: Construct, taskRole: iam.IRole) =>
  new iam.Role(scope, "AnalysisRole", {
    assumedBy: new iam.ArnPrincipal(taskRole.roleArn),
    description: "estat-mcp: caller SQL on Athena (read the lake's tables, write query results)",
    maxSessionDuration: Duration.hours(1)
  })

/** Unhealthy hosts, 5xx rate, CPU and memory over 80 %: each to an SNS topic. */
const addAlarms = (stack: Stack, service: ecsPatterns.ApplicationLoadBalancedFargateService, email: string | undefined) => {
  const topic = new sns.Topic(stack, "Alarms", { displayName: "estat-mcp alarms", enforceSSL: true })
  if (email !== undefined) topic.addSubscription(new subscriptions.EmailSubscription(email))
  const action = new cloudwatchActions.SnsAction(topic)
  const targetMetrics = service.targetGroup.metrics
  const fiveXxRate = new cloudwatch.MathExpression({
    expression: "100 * errors / MAX([requests, 1])",
    usingMetrics: {
      errors: targetMetrics.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, { statistic: "Sum" }),
      requests: targetMetrics.requestCount({ statistic: "Sum" })
    },
    period: Duration.minutes(5),
    label: "5xx %"
  })
  const alarms: ReadonlyArray<[string, cloudwatch.IMetric, number, string]> = [
    ["UnhealthyHosts", targetMetrics.unhealthyHostCount({ statistic: "Maximum", period: Duration.minutes(1) }), 1, "a task fails its /health check"],
    ["Http5xxRate", fiveXxRate, 5, "over 5 % of requests answer 5xx"],
    ["CpuHigh", service.service.metricCpuUtilization({ period: Duration.minutes(5) }), 80, "CPU over 80 %"],
    ["MemoryHigh", service.service.metricMemoryUtilization({ period: Duration.minutes(5) }), 80, "memory over 80 %"]
  ]
  for (const [name, metric, threshold, description] of alarms) {
    const alarm = new cloudwatch.Alarm(stack, name, {
      metric,
      threshold,
      evaluationPeriods: name === "UnhealthyHosts" ? 2 : 3,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: `estat-mcp: ${description}`
    })
    alarm.addAlarmAction(action)
  }
}
