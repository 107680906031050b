import { homedir, tmpdir } from "node:os"
import { posix, win32 } from "node:path"
import { Config, ConfigError, ConfigProvider, Context, Duration, Effect, Either, Layer, Option, Redacted } from "effect"

export type Backend = "local" | "aws"

/** MCP_AUTH_MODE=oauth: the server is an OAuth 2.1 resource server of `issuer`. */
export interface OAuthSettings {
  /** The authorization server; its metadata names the JWKS the tokens are signed with. */
  readonly issuer: string
  /** The resource identifier a token's `aud` must name (MCP_OAUTH_AUDIENCE, default MCP_PUBLIC_URL + `/mcp`). */
  readonly audience: string
  /** How clients reach the server (MCP_PUBLIC_URL), without a trailing slash: the metadata's address. */
  readonly publicUrl: string
  /**
   * What the authorization server puts before this server's scope names (MCP_OAUTH_SCOPE_PREFIX):
   * Cognito writes a resource server's scopes `<identifier>/<name>`. Only prefixed scopes count.
   */
  readonly scopePrefix: string
  /**
   * App clients whose tokens may lack `aud` (MCP_OAUTH_CLIENT_IDS): Cognito names the resource in
   * `aud` only with resource binding; without it, its access tokens carry the client in `client_id`.
   */
  readonly clientIds: ReadonlyArray<string>
}

/** Typed configuration of the whole server, read once from the environment (ARCHITECTURE §7). */
export interface AppSettings {
  readonly estatAppId: Option.Option<Redacted.Redacted<string>>
  readonly estatBaseUrl: string
  readonly backend: Backend
  readonly dataDir: string
  readonly host: string
  readonly port: number
  /** MCP_AUTH_MODE=token: the shared bearer token. Never set together with `oauth`. */
  readonly authToken: Option.Option<Redacted.Redacted<string>>
  /** MCP_AUTH_MODE=oauth: access tokens from an authorization server instead of a shared token. */
  readonly oauth: Option.Option<OAuthSettings>
  /**
   * Shared by every task behind a load balancer: session ids are signed with it, and a task
   * adopts a session another task created instead of answering 404.
   */
  readonly sessionSecret: Option.Option<Redacted.Redacted<string>>
  /** How long a signed session id can be adopted by another task after it was issued. */
  readonly sessionMaxAge: Duration.Duration
  readonly allowedOrigins: ReadonlyArray<string>
  readonly s3Bucket: Option.Option<string>
  readonly s3Prefix: string
  readonly awsRegion: string
  /** `AWS_ENDPOINT_URL_S3` (or `AWS_ENDPOINT_URL`): another S3 implementation, addressed path-style. */
  readonly s3Endpoint: Option.Option<string>
  readonly glueDatabase: string
  readonly athenaWorkgroup: string
  readonly athenaOutputLocation: Option.Option<string>
  /** The role caller SQL runs as on Athena (read the tables, write results); unset: the server's own. */
  readonly athenaQueryRoleArn: Option.Option<string>
  /** `AWS_ENDPOINT_URL_ATHENA` (or `AWS_ENDPOINT_URL`): another Athena endpoint. */
  readonly athenaEndpoint: Option.Option<string>
  /** `AWS_ENDPOINT_URL_GLUE` (or `AWS_ENDPOINT_URL`): another Glue endpoint. */
  readonly glueEndpoint: Option.Option<string>
  /** A query still running after this is stopped. */
  readonly athenaQueryTimeout: Duration.Duration
  /** First wait between looks at an Athena query still running (growing 1.5× a look, to 2 s). */
  readonly athenaPollInterval: Duration.Duration
  /** First wait between attempts at a table's load lock another load holds (aws; growing to 2 s, jittered). */
  readonly loadLockRetryBase: Duration.Duration
  /** First wait before an Iceberg commit that lost to a concurrent one is tried again (aws; doubling, jittered). */
  readonly icebergCommitRetryBase: Duration.Duration
  readonly estatPageSize: number
  readonly estatConcurrency: number
  /** Dataset runs (fetches, CSV exports) at once in this process; more wait their turn. */
  readonly maxConcurrentRuns: number
  /** Timeout per e-Stat request for its answer to start, and again for its body. */
  readonly estatTimeout: Duration.Duration
  /** Global cap on e-Stat requests awaiting their answer, across all sessions and tools. */
  readonly estatMaxInFlight: number
  /** Global cap on e-Stat requests started per second (politeness towards its WAF). */
  readonly estatRequestsPerSecond: number
  /** Retries of a transient e-Stat failure (429, 5xx, timeout, connection error). */
  readonly estatRetries: number
  /** First backoff delay of those retries (doubling, jittered). */
  readonly estatRetryBase: Duration.Duration
  /** How long e-Stat's metadata of a table is used from the cache before it is asked again. */
  readonly estatMetadataTtl: Duration.Duration
  /** DuckDB's memory cap (`256MB`); beyond it, DuckDB spills to `duckdbTempDir`. */
  readonly duckdbMemoryLimit: string
  readonly duckdbTempDir: string
  readonly duckdbThreads: number
  /**
   * The vCPU this process may use (a Fargate task's size, 0.25); none: its cgroup's quota where it
   * can see one. Background work (page conversion) keeps the process under part of it (CpuPacer).
   */
  readonly cpuLimit: Option.Option<number>
  readonly logLevel: string
  readonly logFormat: "json" | "pretty"
  readonly sessionIdleTimeout: Duration.Duration
  readonly maxSessions: number
  /** New sessions one client may open per minute (in bursts of up to as many); 0: no limit. */
  readonly sessionRateLimit: number
  /**
   * Proxies in front of the server that append the address they saw to X-Forwarded-For (an ALB: 1).
   * The client is the address that many entries from the right; 0 ignores the header (it can be forged).
   */
  readonly trustedProxies: number
  readonly maxBodyBytes: number
  /** A request body not read to its end this long after reading began is cut (408, connection closed). */
  readonly bodyTimeout: Duration.Duration
  /** Request bodies read at once across all clients; one more gets 503 with Retry-After. */
  readonly maxBodiesInFlight: number
  readonly sseKeepAlive: Duration.Duration
  /** On SIGTERM, how long running tool calls may go on before they are interrupted (ECS stops a task 120 s after SIGTERM). */
  readonly shutdownGrace: Duration.Duration
  /** Events kept per session for `Last-Event-ID` replay. */
  readonly sseReplayBuffer: number
  /** Largest stored file `resources/read` returns inline. */
  readonly resourceMaxBytes: number
  /** MCP_APPS: the chart app (`ui://estat-mcp/explorer`) linked from the fetch and analysis tools, for hosts that render MCP Apps. */
  readonly mcpApps: boolean
  /** How long a task and its result are kept when the client asks for no ttl. */
  readonly taskTtl: Duration.Duration
  /** How often clients are told to poll a task; a running task's state is written as often. */
  readonly taskPollInterval: Duration.Duration
  /** Tasks one server process runs at once. */
  readonly tasksMaxRunning: number
}

export class AppConfig extends Context.Tag("estat-mcp/AppConfig")<AppConfig, AppSettings>() {}

const defaultOrigins = [
  "http://localhost",
  "http://127.0.0.1",
  "http://[::1]",
  "https://localhost",
  "https://127.0.0.1",
  "https://[::1]"
]

const list = (name: string, fallback: ReadonlyArray<string>) =>
  Config.string(name).pipe(
    Config.map((s) => s.split(",").map((x) => x.trim()).filter((x) => x.length > 0)),
    Config.withDefault(fallback)
  )

const positiveInt = (name: string, fallback: number) =>
  Config.integer(name).pipe(
    Config.validate({ message: `${name} must be a positive integer`, validation: (n) => n > 0 }),
    Config.withDefault(fallback)
  )

const nonNegativeInt = (name: string, fallback: number) =>
  Config.integer(name).pipe(
    Config.validate({ message: `${name} must be 0 or a positive integer`, validation: (n) => n >= 0 }),
    Config.withDefault(fallback)
  )

/**
 * The default DATA_DIR: the user's own data folder, never relative to the working directory (a
 * desktop client starts stdio servers in `/`). The Docker image sets `/data`.
 */
export const userDataDir = (
  env: Readonly<Record<string, string | undefined>> = process.env,
  platform: NodeJS.Platform = process.platform,
  home: string = homedir()
): string => {
  if (platform === "win32") return win32.join(env["LOCALAPPDATA"] || win32.join(home, "AppData", "Local"), "estat-mcp")
  if (platform === "darwin") return posix.join(home, "Library", "Application Support", "estat-mcp")
  // The XDG spec ignores a relative XDG_DATA_HOME.
  const xdg = env["XDG_DATA_HOME"]
  return posix.join(xdg !== undefined && posix.isAbsolute(xdg) ? xdg : posix.join(home, ".local", "share"), "estat-mcp")
}

/** `s3://<bucket>/<prefix>/athena-results/`, the prefix trimmed of slashes as the S3 store trims it. */
export const athenaResultsIn = (bucket: string, prefix: string) => {
  const folder = prefix.replace(/^\/+|\/+$/g, "")
  return `s3://${bucket}/${folder === "" ? "" : folder + "/"}athena-results/`
}

/** A size as DuckDB takes it (`256MB`, `1GiB`, `2G`): the memory settings are checked against it at start. */
export const MEMORY_SIZE = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]?i?B|[KMGT])\s*$/i

const LOG_LEVELS = ["trace", "debug", "info", "warn", "warning", "error", "fatal", "none"]

const httpUrl = (text: string) => URL.canParse(text) && ["http:", "https:"].includes(new URL(text).protocol)

/** https, or http on a loopback host (a local issuer in tests and development). */
export const secureOrLoopback = (text: string) => {
  if (!httpUrl(text)) return false
  const url = new URL(text)
  return url.protocol === "https:" || ["localhost", "127.0.0.1", "[::1]"].includes(url.hostname)
}

const invalid = (name: string, message: string) => Either.left(ConfigError.InvalidData([name], message))

/**
 * MCP_AUTH_MODE and the settings it needs, checked together: a combination that would leave the
 * server less protected than asked (a token ignored, oauth without its issuer) is a config error.
 */
const authConfig = Config.all({
  mode: Config.option(Config.literal("none", "token", "oauth")("MCP_AUTH_MODE")),
  token: Config.option(Config.redacted("MCP_AUTH_TOKEN")),
  issuer: Config.option(Config.string("MCP_OAUTH_ISSUER")),
  audience: Config.option(Config.string("MCP_OAUTH_AUDIENCE")),
  publicUrl: Config.option(Config.string("MCP_PUBLIC_URL")),
  scopePrefix: Config.option(Config.string("MCP_OAUTH_SCOPE_PREFIX")),
  clientIds: Config.option(Config.string("MCP_OAUTH_CLIENT_IDS"))
}).pipe(Config.mapOrFail(({ audience, clientIds, issuer, mode, publicUrl, scopePrefix, token }) => {
  const chosen = Option.getOrElse(mode, () => (Option.isSome(token) ? "token" : "none"))
  if (chosen !== "oauth") {
    if (chosen === "token" && Option.isNone(token)) return invalid("MCP_AUTH_TOKEN", "MCP_AUTH_MODE=token needs MCP_AUTH_TOKEN")
    if (chosen === "none" && Option.isSome(token)) return invalid("MCP_AUTH_MODE", "MCP_AUTH_MODE=none but MCP_AUTH_TOKEN is set; unset one")
    const oauthOnly = { MCP_OAUTH_ISSUER: issuer, MCP_OAUTH_AUDIENCE: audience, MCP_OAUTH_SCOPE_PREFIX: scopePrefix, MCP_OAUTH_CLIENT_IDS: clientIds }
    const stray = Object.entries(oauthOnly).find(([, value]) => Option.isSome(value))?.[0]
    if (stray !== undefined) return invalid(stray, `${stray} is set but MCP_AUTH_MODE is ${chosen}; set MCP_AUTH_MODE=oauth`)
    return Either.right({ authToken: token, oauth: Option.none<OAuthSettings>() })
  }
  if (Option.isSome(token)) return invalid("MCP_AUTH_TOKEN", "MCP_AUTH_MODE=oauth does not take MCP_AUTH_TOKEN; unset it")
  if (Option.isNone(issuer)) return invalid("MCP_OAUTH_ISSUER", "MCP_AUTH_MODE=oauth needs MCP_OAUTH_ISSUER (the authorization server's issuer URL)")
  if (!secureOrLoopback(issuer.value)) return invalid("MCP_OAUTH_ISSUER", "MCP_OAUTH_ISSUER must be an https URL (http only on loopback)")
  if (Option.isNone(publicUrl)) return invalid("MCP_PUBLIC_URL", "MCP_AUTH_MODE=oauth needs MCP_PUBLIC_URL (how clients reach this server)")
  if (!httpUrl(publicUrl.value)) return invalid("MCP_PUBLIC_URL", "MCP_PUBLIC_URL must be an http(s) URL")
  const base = publicUrl.value.replace(/\/+$/, "")
  const resource = Option.getOrElse(audience, () => `${base}/mcp`)
  if (resource.trim() === "") return invalid("MCP_OAUTH_AUDIENCE", "MCP_OAUTH_AUDIENCE is empty")
  const prefix = Option.getOrElse(scopePrefix, () => "")
  if (/\s/.test(prefix)) return invalid("MCP_OAUTH_SCOPE_PREFIX", "MCP_OAUTH_SCOPE_PREFIX may not contain spaces (scopes are space-separated)")
  const clients = Option.match(clientIds, { onNone: () => [], onSome: (list) => list.split(",").map((id) => id.trim()).filter((id) => id !== "") })
  return Either.right({
    authToken: Option.none<Redacted.Redacted<string>>(),
    oauth: Option.some({ issuer: issuer.value, audience: resource, publicUrl: base, scopePrefix: prefix, clientIds: clients })
  })
}))

const inContainer = () => process.env["ECS_CONTAINER_METADATA_URI_V4"] !== undefined

const settingsConfig = Config.all({
  estatAppId: Config.option(Config.redacted("ESTAT_APP_ID").pipe(
    Config.validate({ message: "ESTAT_APP_ID is empty", validation: (r) => Redacted.value(r).trim() !== "" })
  )),
  estatBaseUrl: Config.string("ESTAT_API_BASE_URL").pipe(
    Config.withDefault("https://api.e-stat.go.jp/rest/3.0/app"),
    Config.map((url) => url.replace(/\/+$/, ""))
  ),
  backend: Config.literal("local", "aws")("ESTAT_MCP_BACKEND").pipe(Config.withDefault("local" as const)),
  dataDir: Config.string("DATA_DIR").pipe(Config.withDefault(userDataDir())),
  host: Config.string("HOST").pipe(
    Config.validate({ message: "HOST must not be empty", validation: (host) => host.trim() !== "" }),
    Config.withDefault("127.0.0.1")
  ),
  port: Config.port("PORT").pipe(Config.withDefault(8080)),
  sessionMaxAge: Config.duration("MCP_SESSION_MAX_AGE").pipe(Config.withDefault(Duration.hours(24))),
  sessionSecret: Config.option(Config.redacted("MCP_SESSION_SECRET").pipe(
    Config.validate({ message: "MCP_SESSION_SECRET must be at least 32 characters", validation: (r) => Redacted.value(r).length >= 32 })
  )),
  allowedOrigins: list("MCP_ALLOWED_ORIGINS", defaultOrigins),
  s3Bucket: Config.option(Config.string("S3_BUCKET")),
  s3Prefix: Config.string("S3_PREFIX").pipe(Config.withDefault("")),
  awsRegion: Config.string("AWS_REGION").pipe(Config.withDefault("ap-northeast-1")),
  s3Endpoint: Config.option(Config.string("AWS_ENDPOINT_URL_S3").pipe(Config.orElse(() => Config.string("AWS_ENDPOINT_URL")))),
  glueDatabase: Config.string("GLUE_DATABASE").pipe(Config.withDefault("estat_db")),
  athenaWorkgroup: Config.string("ATHENA_WORKGROUP").pipe(Config.withDefault("primary")),
  athenaOutputLocation: Config.option(Config.string("ATHENA_OUTPUT_LOCATION")).pipe(
    // Unset: the bucket's results folder (a workgroup without a result configuration refuses queries that name none).
    Config.zipWith(Config.all([Config.option(Config.string("S3_BUCKET")), Config.string("S3_PREFIX").pipe(Config.withDefault(""))]),
      (given, [bucket, prefix]) => Option.orElse(given, () => Option.map(bucket, (name) => athenaResultsIn(name, prefix))))
  ),
  athenaQueryRoleArn: Config.option(Config.string("ATHENA_QUERY_ROLE_ARN")),
  athenaEndpoint: Config.option(Config.string("AWS_ENDPOINT_URL_ATHENA").pipe(Config.orElse(() => Config.string("AWS_ENDPOINT_URL")))),
  glueEndpoint: Config.option(Config.string("AWS_ENDPOINT_URL_GLUE").pipe(Config.orElse(() => Config.string("AWS_ENDPOINT_URL")))),
  athenaQueryTimeout: Config.duration("ATHENA_QUERY_TIMEOUT").pipe(Config.withDefault(Duration.minutes(5))),
  athenaPollInterval: Config.duration("ATHENA_POLL_INTERVAL").pipe(Config.withDefault(Duration.millis(250))),
  loadLockRetryBase: Config.duration("LOAD_LOCK_RETRY_BASE").pipe(Config.withDefault(Duration.millis(250))),
  icebergCommitRetryBase: Config.duration("ICEBERG_COMMIT_RETRY_BASE").pipe(Config.withDefault(Duration.seconds(1))),
  estatPageSize: Config.integer("ESTAT_PAGE_SIZE").pipe(
    Config.validate({ message: "ESTAT_PAGE_SIZE must be 1..100000", validation: (n) => n >= 1 && n <= 100_000 }),
    Config.withDefault(100_000)
  ),
  estatConcurrency: Config.integer("ESTAT_CONCURRENCY").pipe(
    Config.validate({ message: "ESTAT_CONCURRENCY must be 1..8", validation: (n) => n >= 1 && n <= 8 }),
    Config.withDefault(4)
  ),
  maxConcurrentRuns: positiveInt("ESTAT_MAX_CONCURRENT_RUNS", 2),
  estatTimeout: Config.duration("ESTAT_TIMEOUT").pipe(Config.withDefault(Duration.seconds(60))),
  estatMaxInFlight: positiveInt("ESTAT_MAX_IN_FLIGHT", 8),
  estatRequestsPerSecond: positiveInt("ESTAT_RATE_LIMIT", 20),
  estatRetries: nonNegativeInt("ESTAT_RETRIES", 4),
  estatRetryBase: Config.duration("ESTAT_RETRY_BASE").pipe(Config.withDefault(Duration.millis(500))),
  estatMetadataTtl: Config.duration("ESTAT_METADATA_TTL").pipe(Config.withDefault(Duration.days(1))),
  duckdbMemoryLimit: Config.string("DUCKDB_MEMORY_LIMIT").pipe(
    Config.validate({ message: "DUCKDB_MEMORY_LIMIT must be a size such as 256MB or 1GiB", validation: (size) => MEMORY_SIZE.test(size) }),
    Config.withDefault("256MB")
  ),
  duckdbTempDir: Config.string("DUCKDB_TEMP_DIR").pipe(Config.withDefault(tmpdir() + "/estat-mcp-duckdb")),
  duckdbThreads: positiveInt("DUCKDB_THREADS", 2),
  cpuLimit: Config.option(Config.number("CPU_LIMIT").pipe(
    Config.validate({ message: "CPU_LIMIT must be a number of vCPU above 0, such as 0.25", validation: (n) => n > 0 && n <= 1024 })
  )),
  logLevel: Config.string("LOG_LEVEL").pipe(
    Config.validate({ message: `LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")}`, validation: (level) => LOG_LEVELS.includes(level.toLowerCase()) }),
    Config.withDefault("info")
  ),
  logFormat: Config.literal("json", "pretty")("LOG_FORMAT").pipe(
    Config.withDefault(inContainer() ? ("json" as const) : ("pretty" as const))
  ),
  sessionIdleTimeout: Config.duration("MCP_SESSION_IDLE_TIMEOUT").pipe(Config.withDefault(Duration.minutes(30))),
  maxSessions: positiveInt("MCP_MAX_SESSIONS", 1000),
  sessionRateLimit: nonNegativeInt("MCP_SESSION_RATE_LIMIT", 60),
  trustedProxies: nonNegativeInt("MCP_TRUSTED_PROXIES", 0),
  maxBodyBytes: positiveInt("MCP_MAX_BODY_BYTES", 4 * 1024 * 1024),
  bodyTimeout: Config.duration("MCP_BODY_TIMEOUT").pipe(Config.withDefault(Duration.seconds(10))),
  maxBodiesInFlight: positiveInt("MCP_MAX_BODIES_IN_FLIGHT", 16),
  sseKeepAlive: Config.duration("MCP_SSE_KEEPALIVE").pipe(Config.withDefault(Duration.seconds(15))),
  shutdownGrace: Config.duration("MCP_SHUTDOWN_GRACE").pipe(Config.withDefault(Duration.seconds(90))),
  sseReplayBuffer: positiveInt("MCP_SSE_REPLAY_BUFFER", 256),
  resourceMaxBytes: positiveInt("MCP_RESOURCE_MAX_BYTES", 8 * 1024 * 1024),
  mcpApps: Config.boolean("MCP_APPS").pipe(Config.withDefault(true)),
  taskTtl: Config.duration("MCP_TASK_TTL").pipe(Config.withDefault(Duration.hours(1))),
  taskPollInterval: Config.duration("MCP_TASK_POLL_INTERVAL").pipe(Config.withDefault(Duration.seconds(5))),
  tasksMaxRunning: positiveInt("MCP_TASKS_MAX_RUNNING", 4)
})

export const appSettingsConfig: Config.Config<AppSettings> = Config.zipWith(settingsConfig, authConfig, (settings, auth) => ({ ...settings, ...auth }))

/** The AppConfig layer of `settings`: those read by `appSettingsConfig`, `defaultSettings`, or an embedder's own. */
export const configLayer = (settings: AppSettings) => Layer.succeed(AppConfig, settings)

/** The AppConfig layer of the environment's settings. */
export const configFromEnv = Layer.effect(AppConfig, appSettingsConfig)

/**
 * The settings every test starts from: `appSettingsConfig`'s defaults, read with no environment at all,
 * except that runs go to `./data` rather than the user's data folder, and logs are always `pretty`
 * (the default is `json` inside a container).
 */
export const defaultSettings: AppSettings = {
  ...Effect.runSync(Effect.withConfigProvider(appSettingsConfig, ConfigProvider.fromMap(new Map()))),
  dataDir: "./data",
  logFormat: "pretty"
}
