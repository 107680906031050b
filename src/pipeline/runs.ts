import { Effect, Schema } from "effect"
import { type Manifest, ManifestJson } from "../domain/runs.js"
import { ObjectStore } from "../services/storage/ObjectStore.js"
import { RunUnreadable } from "./errors.js"

/** The manifest key a user names with a run's manifest or its folder (`datasets/<id>/<runId>[/manifest.json]`). */
export const manifestKeyOf = (key: string) => (key.endsWith("/manifest.json") || key === "manifest.json" ? key : `${key.replace(/\/+$/, "")}/manifest.json`)

/** A run's manifest from storage, checked against its schema. */
export const readManifest = (key: string) =>
  Effect.gen(function* () {
    const store = yield* ObjectStore
    const bytes = yield* store.getBytes(key)
    return yield* Schema.decodeUnknown(ManifestJson)(new TextDecoder().decode(bytes)).pipe(
      Effect.mapError(() => new RunUnreadable({ location: store.uri(key), reason: "its manifest.json is not a run manifest of this server" }))
    )
  })

/** Only complete runs feed outputs: a partial one would pass for the whole table. */
export const requireComplete = (manifest: Manifest, location: string) =>
  manifest.status === "complete"
    ? Effect.succeed(manifest)
    : Effect.fail(new RunUnreadable({
      location,
      reason: `the run is ${manifest.status} (${manifest.records_fetched} of ${manifest.expected_records} rows); ` +
        `finish it with fetch_large_dataset_complete and resume_run_id "${manifest.run_id}" first`
    }))
