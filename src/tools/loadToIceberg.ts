import { Effect, Schema } from "effect"
import { Identifier } from "../domain/sqlGuard.js"
import * as Tool from "../mcp/tool.js"
import { withDefault } from "../mcp/tool.js"
import { manifestKeyOf, readManifest, requireComplete } from "../pipeline/runs.js"
import { Lakehouse, runToLoad } from "../services/lakehouse/Lakehouse.js"
import { ObjectStore } from "../services/storage/ObjectStore.js"

const Input = Schema.Struct({
  table_name: Identifier.annotations({ description: "The Iceberg table: lower-case letters, digits and _.", examples: ["cpi_monthly"] }),
  s3_parquet_path: Schema.String.pipe(Schema.minLength(1)).annotations({
    description: "The run to load: its folder (datasets/<dataset_id>/<run_id>/) or manifest.json, as a storage key or URI (storage.parquet_prefix of a fetch result)."
  }),
  create_if_not_exists: withDefault(Schema.Boolean, true, "Create the table from the run's columns when it does not exist."),
  mode: withDefault(Schema.Literal("append", "replace"), "append", "append: add the run (a run already in the table adds nothing). replace: the table then holds only this run.")
})

const Output = Schema.Struct({
  table_name: Schema.String,
  database: Schema.String,
  engine: Schema.String,
  run_id: Schema.String,
  records_loaded: Schema.Int,
  table_total_records: Schema.Int,
  already_loaded: Schema.Boolean,
  snapshot_id: Schema.String,
  table_location: Schema.String
})

export const loadToIceberg = Tool.make({
  name: "load_to_iceberg",
  title: "Load a run into an Iceberg table",
  description:
    "Loads exactly one complete run into an Apache Iceberg table (Glue + Athena on AWS, local Iceberg under the data dir): one " +
    "snapshot per load, rows tagged with run_id, idempotent per run (loading it again adds nothing and says so). Creates the " +
    "table from the run's columns when allowed; a run whose columns differ is refused with the differing columns named.",
  input: Input,
  output: Output,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  summarize: (out) =>
    (out.already_loaded
      ? `Run ${out.run_id} was already in ${out.database}.${out.table_name}: nothing added.`
      : `Loaded ${out.records_loaded.toLocaleString("en")} rows of run ${out.run_id} into ${out.database}.${out.table_name}.`) +
    ` Query it with analyze_with_athena (table_name ${out.table_name}).`,
  run: (input) =>
    Effect.gen(function* () {
      const store = yield* ObjectStore
      const lakehouse = yield* Lakehouse
      const key = manifestKeyOf(yield* store.keyOf(input.s3_parquet_path))
      const manifest = yield* Effect.flatMap(readManifest(key), (m) => requireComplete(m, store.uri(key)))
      const result = yield* lakehouse.load(input.table_name, runToLoad(manifest), { create: input.create_if_not_exists, mode: input.mode })
      return {
        table_name: input.table_name,
        database: lakehouse.database,
        engine: lakehouse.engine,
        run_id: manifest.run_id,
        records_loaded: result.recordsLoaded,
        table_total_records: result.tableTotalRecords,
        already_loaded: result.alreadyLoaded,
        snapshot_id: result.snapshotId,
        table_location: result.location
      }
    })
})
