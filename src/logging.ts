import { Layer, Logger, LogLevel } from "effect"

const levels: Record<string, LogLevel.LogLevel> = {
  trace: LogLevel.Trace,
  debug: LogLevel.Debug,
  info: LogLevel.Info,
  warn: LogLevel.Warning,
  warning: LogLevel.Warning,
  error: LogLevel.Error,
  fatal: LogLevel.Fatal,
  none: LogLevel.None
}

/**
 * Structured logs. They always go to stderr: in stdio mode stdout carries the protocol, and
 * containers collect both streams anyway.
 */
export const loggingLayer = (options: { readonly level: string; readonly format: "json" | "pretty" }) =>
  Layer.merge(
    Logger.replace(
      Logger.defaultLogger,
      options.format === "json" ? Logger.withConsoleError(Logger.jsonLogger) : Logger.prettyLogger({ stderr: true })
    ),
    Logger.minimumLogLevel(levels[options.level.toLowerCase()] ?? LogLevel.Info)
  )
