import type { AppConfig } from "../config.js"
import type { Tool } from "../mcp/tool.js"
import type { DataEngine } from "../services/DataEngine.js"
import type { EStat } from "../services/estat/EStat.js"
import type { Lakehouse } from "../services/lakehouse/Lakehouse.js"
import type { PageWriter } from "../services/pageWriter/PageWriter.js"
import type { RunSlots } from "../services/RunSlots.js"
import type { ObjectStore } from "../services/storage/ObjectStore.js"
import type { FileSystem } from "@effect/platform"
import { analyzeWithAthena } from "./analyzeWithAthena.js"
import { applyKeywordSuggestions } from "./applyKeywordSuggestions.js"
import { downloadCsvFromS3 } from "./downloadCsvFromS3.js"
import { fetchDatasetAuto } from "./fetchDatasetAuto.js"
import { fetchDatasetFiltered } from "./fetchDatasetFiltered.js"
import { fetchLargeDatasetComplete } from "./fetchLargeDatasetComplete.js"
import { loadToIceberg } from "./loadToIceberg.js"
import { saveDatasetAsCsv } from "./saveDatasetAsCsv.js"
import { transformToParquet } from "./transformToParquet.js"
import { searchEstatData } from "./searchEstatData.js"

/** The services the registered tools need, all provided by Layers. */
export type ToolRequirements = EStat | AppConfig | ObjectStore | DataEngine | PageWriter | RunSlots | Lakehouse | FileSystem.FileSystem

/** The ten tools this server offers. */
export const tools: ReadonlyArray<Tool<ToolRequirements>> = [
  searchEstatData,
  applyKeywordSuggestions,
  fetchDatasetAuto,
  fetchLargeDatasetComplete,
  fetchDatasetFiltered,
  transformToParquet,
  loadToIceberg,
  analyzeWithAthena,
  saveDatasetAsCsv,
  downloadCsvFromS3
]
