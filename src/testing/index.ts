/**
 * `estat-mcp/testing`: estat-mcp on mocked layers, for embedders' tests and `estat-mcp --mock`.
 * e-Stat in memory (the live client over the same e-Stat model as the project's fake HTTP server)
 * with sample tables the project computes itself; storage and the lakehouse are the local ones
 * under a temp DATA_DIR (the lakehouse reads files). `ObjectStoreMemory` is ObjectStore in memory,
 * for code that needs storage and no lakehouse.
 */
export * as EStatMemory from "./EStatMemory.js"
export * as ObjectStoreMemory from "./ObjectStoreMemory.js"
export { MOCK_APP_ID, mockTables } from "./EStatMemory.js"
export { type EStatAnswer, type EStatApi, isDataRequest, isEndpoint, makeEStatApi, type Quirks } from "./estat/api.js"
export { makeCatalog } from "./estat/catalog.js"
export { classes, cubeTable } from "./estat/cube.js"
export { generatedSum, generatedTable, type GeneratedTableOptions } from "./estat/generated.js"
export type { FakeCell, FakeClass, FakeDimension, FakeTable, FakeTableInfo } from "./estat/model.js"
export { largeSampleShape, sampleTableIds, sampleTables } from "./estat/samples.js"
export { callTool, servicesLayer } from "./services.js"
