#!/usr/bin/env node
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Cause, Console, Effect, Exit, Layer, Option } from "effect"
import { type AppSettings, appSettingsConfig, configLayer } from "./config.js"
import { mcpLayer } from "./layers.js"
import { loggingLayer } from "./logging.js"
import { serveStdio } from "./mcp/stdio.js"
import { httpServerLayer, serveUntilInterrupted } from "./server.js"
import { startupFailureLine } from "./startupFailure.js"
import { yieldOtherThreads } from "./threadPriority.js"
import * as MockMode from "./testing/mockMode.js"

/** Composition root: the command line → config → services → HTTP server (default) or stdio. */

const HELP = `estat-mcp — MCP server for Japan's official statistics (e-Stat API 3.0)

Usage: estat-mcp [--stdio] [--mock]

  (no option)  serve MCP Streamable HTTP on http://HOST:PORT/mcp (default 127.0.0.1:8080), with /health and /ready
  --stdio      serve MCP over stdin/stdout (what desktop clients start); logs go to stderr
  --mock       run on mocked layers: sample tables in memory, no appId, no network (npm run demo)
  --help, -h   print this help

Settings come from the environment, e.g.:
  ESTAT_APP_ID         your e-Stat application id (https://www.e-stat.go.jp/api/)
  DATA_DIR             where the local backend keeps its files (default: your user data folder)
  HOST, PORT           the HTTP listen address
  ESTAT_MCP_BACKEND    local (default) or aws (S3_BUCKET, GLUE_DATABASE, ATHENA_WORKGROUP …)
  MCP_AUTH_TOKEN       require "Authorization: Bearer <token>" over HTTP
  LOG_LEVEL            trace, debug, info (default), warn, error
The README lists every setting.`

interface CommandLine {
  readonly mode: "http" | "stdio" | "help"
  /** `--mock`: e-Stat in memory with the sample tables, no appId, no network (npm run demo). */
  readonly mock: boolean
  /** Arguments it cannot take. */
  readonly unknown: ReadonlyArray<string>
}

const commandLine = (args: ReadonlyArray<string>): CommandLine => {
  const known = new Set(["--stdio", "--help", "-h", "--mock"])
  const help = args.includes("--help") || args.includes("-h")
  return { mode: help ? "help" : args.includes("--stdio") ? "stdio" : "http", mock: args.includes("--mock"), unknown: args.filter((arg) => !known.has(arg)) }
}

const { mode, mock: useMock, unknown } = commandLine(process.argv.slice(2))

const serve = (settings: AppSettings, mode: "http" | "stdio") => {
  const app = (useMock ? MockMode.layer(settings) : mcpLayer).pipe(
    Layer.provideMerge(configLayer(settings)),
    // Once DuckDB's threads exist: they and the rest give way to the event loop's (see threadPriority.ts).
    Layer.tap(() => yieldOtherThreads())
  )
  if (mode === "stdio") return serveStdio().pipe(Effect.provide(app))
  return Effect.logInfo("starting estat-mcp").pipe(
    Effect.annotateLogs({
      backend: settings.backend,
      dataDir: settings.dataDir,
      estatAppId: useMock ? "not used: e-Stat is mocked" : Option.isSome(settings.estatAppId) ? "set" : "missing: e-Stat tools will fail until ESTAT_APP_ID is set"
    }),
    Effect.zipRight(serveUntilInterrupted(httpServerLayer(settings).pipe(Layer.provide(app), Layer.provide(NodeContext.layer)), settings.shutdownGrace))
  )
}

/**
 * A failure an operator can fix is one line naming the setting; anything else is logged whole.
 * Either way the process exits with 1 (runMain's own report is turned off: it would repeat it).
 */
const stopOn = (cause: Cause.Cause<unknown>, settings?: AppSettings) =>
  Option.match(startupFailureLine(cause, settings), {
    onNone: () => Effect.logFatal("estat-mcp stopped", cause),
    onSome: (line) => Effect.logFatal(`estat-mcp cannot start: ${line}`)
  }).pipe(Effect.zipRight(Effect.failCause(cause)))

const main = (mode: "http" | "stdio") =>
  (useMock ? MockMode.settings : appSettingsConfig).pipe(Effect.matchCauseEffect({
    // The settings could not be read, so neither could LOG_FORMAT: the line goes out as plain stderr.
    onFailure: (cause) => stopOn(cause).pipe(Effect.provide(loggingLayer({ level: "info", format: "pretty" }))),
    onSuccess: (settings) =>
      serve(settings, mode).pipe(
        Effect.catchAllCause((cause) => (Cause.isInterruptedOnly(cause) ? Effect.failCause(cause) : stopOn(cause, settings))),
        Effect.provide(loggingLayer({ level: settings.logLevel, format: settings.logFormat }))
      )
  }))

const program = unknown.length > 0
  ? Console.error(`estat-mcp: unknown option ${unknown.join(" ")}; see estat-mcp --help`).pipe(Effect.zipRight(Effect.fail("usage")))
  : mode === "help"
  ? Console.log(HELP)
  : main(mode)

// Our logging layer replaces the runtime's pretty logger, which would write to stdout.
NodeRuntime.runMain(program, {
  disablePrettyLogger: true,
  disableErrorReporting: true,
  // process.exit would cut what is still queued on a piped stderr: the line saying why it stopped.
  teardown: (exit, onExit) => {
    const code = Exit.isFailure(exit) && !Cause.isInterruptedOnly(exit.cause) ? 1 : 0
    process.stderr.write("", () => onExit(code))
  }
})
