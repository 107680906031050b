import { HttpServerError } from "@effect/platform"
import { Cause, ConfigError, Option } from "effect"
import type { AppSettings } from "./config.js"
import { StorageUnusable } from "./services/storage/ObjectStore.js"

/**
 * What stopped the server, as one line that names the setting to change — for the failures an
 * operator can fix: a bad setting, an address that cannot be listened on, a DATA_DIR or bucket
 * that cannot be used. None for anything else (a bug): that is logged with its whole cause.
 */
export const startupFailureLine = (cause: Cause.Cause<unknown>, settings?: Pick<AppSettings, "host" | "port">): Option.Option<string> =>
  Option.flatMap(Cause.failureOption(cause), (error) => {
    if (ConfigError.isConfigError(error)) return Option.some(`bad setting: ${settingProblems(error).join("; ")}`)
    if (error instanceof HttpServerError.ServeError) return Option.some(listenProblem(error.cause, settings))
    if (error instanceof StorageUnusable) return Option.some(error.message)
    return Option.none()
  })

const settingProblems = (error: ConfigError.ConfigError): ReadonlyArray<string> => {
  switch (error._op) {
    case "And":
    case "Or":
      return [...new Set([...settingProblems(error.left), ...settingProblems(error.right)])]
    case "MissingData":
    case "InvalidData":
    case "SourceUnavailable":
    case "Unsupported": {
      const name = error.path.join("_")
      // Our own validations already name the variable ("ESTAT_CONCURRENCY must be 1..8").
      return [name === "" || error.message.startsWith(name) ? error.message : `${name}: ${error.message}`]
    }
  }
}

const listenProblem = (cause: unknown, settings?: Pick<AppSettings, "host" | "port">): string => {
  const code = typeof cause === "object" && cause !== null && "code" in cause ? String(cause.code) : "unknown"
  const address = settings === undefined ? "the configured address" : `${settings.host.includes(":") ? `[${settings.host}]` : settings.host}:${settings.port}`
  switch (code) {
    case "EADDRINUSE":
      return `cannot listen on ${address}: another program already listens there. Stop it, or set PORT (or HOST) to a free address.`
    case "EACCES":
    case "EPERM":
      return `cannot listen on ${address}: not allowed (ports below 1024 need privileges). Set PORT to 1024 or above.`
    case "EADDRNOTAVAIL":
      return `cannot listen on ${address}: HOST is not an address of this machine. Set HOST to one (127.0.0.1, 0.0.0.0, ::).`
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return `cannot listen on ${address}: HOST does not resolve to an address. Set HOST to one (127.0.0.1, 0.0.0.0, ::).`
    default:
      return `cannot listen on ${address}: ${cause instanceof Error ? cause.message : code}. Check PORT and HOST.`
  }
}
