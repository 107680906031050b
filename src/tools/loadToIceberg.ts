import { Effect, Schema } from "effect"
import { Identifier } from "../domain/sqlGuard.js"
import * as Tool from "../mcp/tool.js"
import { withDefault } from "../mcp/tool.js"
import { Lakehouse, runToLoad } from "../services/lakehouse/Lakehouse.js"
import { resolveRun, runReference, runReferenceFields } from "../pipeline/runReference.js"

const Input = Schema.Struct({
  table_name: Identifier.annotations({ description: "The Iceberg table: lower-case letters, digits and _.", examples: ["cpi_monthly"] }),
  s3_parquet_path: Schema.String.pipe(Schema.minLength(1)).annotations({
    description: "The run to load: its folder (storage.parquet_prefix of a fetch result) or manifest.json, as a storage key or URI. " +
      "A dataset folder or bare dataset id means its latest complete run.",
    examples: ["datasets/0003410379/20261126T031500123Z-a1b2c3/"]
  }),
  create_if_not_exists: withDefault(Schema.Boolean, true, "Create the table from the run's columns when it does not exist."),
  mode: withDefault(Schema.Literal("append", "replace"), "append", "append: add the run (a run already in the table adds nothing). replace: the table then holds only this run.")
})

const Output = Schema.Struct({
  table_name: Schema.String,
  database: Schema.String,
  engine: Schema.String,
  run_id: Schema.String,
  ...runReferenceFields,
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
    "Loads one complete run into an Iceberg table (Glue on aws, local otherwise): a snapshot per load, rows tagged with run_id, " +
    "idempotent per run. Creates the table from the run's columns if allowed; other columns are refused by name. " +
    "Result: rows loaded, table total, run. Next: analyze_with_athena with table_name.",
  input: Input,
  output: Output,
  task: { runsLong: "on aws" },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  summarize: (out) =>
    (out.run_note === null ? "" : `${out.run_note} `) +
    (out.already_loaded
      ? `The run was already in ${out.database}.${out.table_name}: nothing added.`
      : `Loaded ${out.records_loaded} rows of the run into ${out.database}.${out.table_name}.`) +
    " Next: analyze_with_athena.",
  summaryStates: ["run_note", "records_loaded", "database", "table_name"],
  run: (input) =>
    Effect.gen(function* () {
      const lakehouse = yield* Lakehouse
      const run = yield* resolveRun(input.s3_parquet_path)
      const manifest = run.manifest
      const result = yield* lakehouse.load(input.table_name, runToLoad(manifest), { create: input.create_if_not_exists, mode: input.mode })
      return {
        table_name: input.table_name,
        database: lakehouse.database,
        engine: lakehouse.engine,
        run_id: manifest.run_id,
        ...(yield* runReference(run)),
        records_loaded: result.recordsLoaded,
        table_total_records: result.tableTotalRecords,
        already_loaded: result.alreadyLoaded,
        snapshot_id: result.snapshotId,
        table_location: result.location
      }
    })
})
