#!/usr/bin/env node
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import { appSettingsConfig } from "./config.js"
import { configLayer, mcpLayer } from "./layers.js"
import { loggingLayer } from "./logging.js"
import { serveStdio } from "./mcp/stdio.js"
import { httpServerLayer } from "./server.js"

/** Composition root: config → services → HTTP server (default) or stdio (`--stdio`). */
const useStdio = process.argv.slice(2).includes("--stdio")

const program = Effect.gen(function* () {
  const settings = yield* appSettingsConfig
  const base = mcpLayer.pipe(Layer.provideMerge(configLayer(settings)))
  const logging = loggingLayer({ level: settings.logLevel, format: settings.logFormat })
  if (useStdio) {
    return yield* serveStdio().pipe(Effect.provide(base), Effect.provide(logging))
  }
  yield* Effect.logInfo("starting estat-mcp").pipe(
    Effect.annotateLogs({ backend: settings.backend, dataDir: settings.dataDir, estatAppId: settings.estatAppId._tag === "Some" ? "set" : "missing" })
  )
  return yield* Layer.launch(httpServerLayer(settings).pipe(Layer.provide(base), Layer.provide(NodeContext.layer))).pipe(
    Effect.provide(logging)
  )
})

NodeRuntime.runMain(program)
