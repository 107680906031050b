import { fileURLToPath } from "node:url"
import { FileSystem } from "@effect/platform"
import { Effect, Schema } from "effect"

/**
 * The explorer app's HTML: the file the build writes beside the server's code (dist/, beside the
 * bundle or one level above a module), else — running from the sources (tests, `npm run dev`) —
 * built from app/ with scripts/buildApp.mjs, which needs esbuild (a dev dependency).
 */

export const explorerFileName = "explorer-app.html"

/** Neither a built file nor the sources to build one from. */
export class ExplorerAppUnavailable extends Schema.TaggedError<ExplorerAppUnavailable>()("ExplorerAppUnavailable", {
  reason: Schema.String
}) {
  override get message() {
    return `The explorer app is not built (${this.reason}): run npm run build, or set MCP_APPS=false`
  }
}

const builtFiles = [new URL(`./${explorerFileName}`, import.meta.url), new URL(`../${explorerFileName}`, import.meta.url)]
// A computed specifier: bundlers leave the builder (and esbuild) out of the server's bundle.
const builderUrl = new URL("../../scripts/buildApp.mjs", import.meta.url)

interface Builder {
  readonly buildExplorerHtml: () => Promise<string>
}
const isBuilder = (module: unknown): module is Builder =>
  typeof module === "object" && module !== null && "buildExplorerHtml" in module && typeof module.buildExplorerHtml === "function"

const unavailable = (step: string) => (error: unknown) =>
  new ExplorerAppUnavailable({ reason: `${step} failed: ${error instanceof Error ? error.message : String(error)}` })

const fromSources = Effect.tryPromise({ try: (): Promise<unknown> => import(builderUrl.href), catch: unavailable("loading scripts/buildApp.mjs") }).pipe(
  Effect.filterOrFail(isBuilder, () => new ExplorerAppUnavailable({ reason: "scripts/buildApp.mjs has no buildExplorerHtml" })),
  Effect.flatMap((builder) => Effect.tryPromise({ try: () => builder.buildExplorerHtml(), catch: unavailable("building app/") })),
  Effect.withSpan("explorer.build")
)

export const loadExplorerHtml: Effect.Effect<string, ExplorerAppUnavailable, FileSystem.FileSystem> = Effect.gen(function* () {
  const fs = yield* FileSystem.FileSystem
  for (const file of builtFiles) {
    if (file.protocol !== "file:") continue
    const path = fileURLToPath(file)
    if (yield* fs.exists(path).pipe(Effect.orElseSucceed(() => false))) {
      return yield* fs.readFileString(path, "utf8").pipe(
        Effect.mapError((error) => new ExplorerAppUnavailable({ reason: `${path} is unreadable: ${error.message}` }))
      )
    }
  }
  return yield* fromSources
})
