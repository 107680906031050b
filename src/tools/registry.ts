import type { AppConfig } from "../config.js"
import type { Tool } from "../mcp/tool.js"
import type { DataEngine } from "../services/DataEngine.js"
import type { EStat } from "../services/EStat.js"
import type { RunSlots } from "../services/RunSlots.js"
import type { ObjectStore } from "../services/storage/ObjectStore.js"
import type { FileSystem } from "@effect/platform"
import { applyKeywordSuggestions } from "./applyKeywordSuggestions.js"
import { downloadCsvFromS3 } from "./downloadCsvFromS3.js"
import { fetchDatasetAuto } from "./fetchDatasetAuto.js"
import { fetchDatasetFiltered } from "./fetchDatasetFiltered.js"
import { fetchLargeDatasetComplete } from "./fetchLargeDatasetComplete.js"
import { saveDatasetAsCsv } from "./saveDatasetAsCsv.js"
import { transformToParquet } from "./transformToParquet.js"
import { searchEstatData } from "./searchEstatData.js"

/** The services the registered tools need, all provided by Layers. */
export type ToolRequirements = EStat | AppConfig | ObjectStore | DataEngine | RunSlots | FileSystem.FileSystem

/**
 * The tools this server offers. Only finished tools are listed: the others of the ten
 * (lakehouse) join as their issues land.
 */
export const tools: ReadonlyArray<Tool<ToolRequirements>> = [
  searchEstatData,
  applyKeywordSuggestions,
  fetchDatasetAuto,
  fetchLargeDatasetComplete,
  fetchDatasetFiltered,
  transformToParquet,
  saveDatasetAsCsv,
  downloadCsvFromS3
]
