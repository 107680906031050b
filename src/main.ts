#!/usr/bin/env node
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Effect, Layer, Option } from "effect"
import { type AppSettings, appSettingsConfig } from "./config.js"
import { configLayer, mcpLayer } from "./layers.js"
import { loggingLayer } from "./logging.js"
import { serveStdio } from "./mcp/stdio.js"
import { httpServerLayer, serveUntilInterrupted } from "./server.js"
import * as MockMode from "./testing/mockMode.js"

/** Composition root: config → services → HTTP server (default) or stdio (`--stdio`). */
const useStdio = process.argv.slice(2).includes("--stdio")
const useMock = process.argv.slice(2).includes("--mock")

const serve = (settings: AppSettings) => {
  const app = (useMock ? MockMode.layer(settings) : mcpLayer).pipe(Layer.provideMerge(configLayer(settings)))
  if (useStdio) return serveStdio().pipe(Effect.provide(app))
  return Effect.logInfo("starting estat-mcp").pipe(
    Effect.annotateLogs({
      backend: settings.backend,
      dataDir: settings.dataDir,
      estatAppId: useMock ? "not used: e-Stat is mocked" : Option.isSome(settings.estatAppId) ? "set" : "missing: e-Stat tools will fail until ESTAT_APP_ID is set"
    }),
    Effect.zipRight(serveUntilInterrupted(httpServerLayer(settings).pipe(Layer.provide(app), Layer.provide(NodeContext.layer)), settings.shutdownGrace))
  )
}

const program = Effect.flatMap(useMock ? MockMode.settings : appSettingsConfig, (settings) =>
  serve(settings).pipe(Effect.provide(loggingLayer({ level: settings.logLevel, format: settings.logFormat })))
)

// Our logging layer replaces the runtime's pretty logger, which would write to stdout.
NodeRuntime.runMain(program, { disablePrettyLogger: true })
