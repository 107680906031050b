import { Duration, Effect, Layer, TestClock } from "effect"
import { describe, expect, layer } from "@effect/vitest"
import { configLayer, defaultSettings } from "../../../src/config.js"
import { newTableMetadata, schemaOf } from "../../../src/domain/iceberg.js"
import { make } from "../../../src/services/catalog/LocalIceberg.js"
import { DataEngine } from "../../../src/services/DataEngine.js"
import type { RunToLoad } from "../../../src/services/lakehouse/Lakehouse.js"
import { ObjectStore } from "../../../src/services/storage/ObjectStore.js"
import * as ObjectStoreMemory from "../../../src/testing/ObjectStoreMemory.js"

// The catalog over a store in memory: its metadata and caches, on the TestClock, without any load.
const services = Layer.mergeAll(ObjectStoreMemory.layer(), DataEngine.layer.pipe(Layer.provide(configLayer(defaultSettings))))

const put = (key: string, text: string) =>
  Effect.flatMap(ObjectStore, (store) => store.putBytes(key, new TextEncoder().encode(text), "text/plain"))

const emptyTable = JSON.stringify(newTableMetadata({ uuid: "u-1", location: "memory://objects/warehouse/db/t", schema: schemaOf([]), now: 0 }))
const nothingToLoad: RunToLoad = { statsDataId: "0000000001", runId: "r-1", columns: [], parts: [] }

layer(services)("the local Iceberg catalog", (it) => {
  describe("table lists", () => {
    it.effect("are used for 10 s, listed again after that or at once after a load here", () =>
      Effect.gen(function* () {
        const catalog = yield* make
        expect(yield* catalog.tables("lists")).toEqual([])
        yield* put("warehouse/lists/a/metadata/version-hint.text", "1")
        yield* TestClock.adjust(Duration.seconds(9))
        expect(yield* catalog.tables("lists")).toEqual([])
        yield* TestClock.adjust(Duration.seconds(2))
        expect(yield* catalog.tables("lists")).toEqual(["a"])

        // A load (even one refused) lists them again, with no time passing.
        yield* put("warehouse/lists/b/metadata/version-hint.text", "1")
        expect(yield* catalog.tables("lists")).toEqual(["a"])
        const refused = yield* Effect.flip(catalog.append("lists", "c", nothingToLoad, { create: false, mode: "append" }))
        expect(refused._tag).toBe("TableNotFound")
        expect(yield* catalog.tables("lists")).toEqual(["a", "b"])
      }))
  })

  describe("metadata", () => {
    it.effect("is read through its schema; a version is read once, a failed read is not remembered", () =>
      Effect.gen(function* () {
        const catalog = yield* make
        yield* put("warehouse/db/t/metadata/version-hint.text", "1")

        yield* put("warehouse/db/t/metadata/v1.metadata.json", "{ not json")
        const notJson = yield* Effect.flip(catalog.currentFiles("db", "t"))
        expect(notJson._tag).toBe("CatalogError")
        expect(notJson.message).toContain("metadata/v1.metadata.json is not Iceberg v2 metadata as this catalog writes it")

        yield* put("warehouse/db/t/metadata/v1.metadata.json", JSON.stringify({ ...JSON.parse(emptyTable), "format-version": 1 }))
        const v1 = yield* Effect.flip(catalog.currentFiles("db", "t"))
        expect(v1.message).toContain("(format-version: Expected 2, actual 1)")

        yield* put("warehouse/db/t/metadata/v1.metadata.json", emptyTable)
        const read = yield* catalog.currentFiles("db", "t")
        expect(read).toMatchObject({ files: [], records: 0, metadata: { "format-version": 2, "table-uuid": "u-1" } })

        // Committed versions never change: version 1 is not read again; version 2 is.
        yield* put("warehouse/db/t/metadata/v1.metadata.json", "{ not json")
        expect((yield* catalog.currentFiles("db", "t")).metadata["table-uuid"]).toBe("u-1")
        yield* put("warehouse/db/t/metadata/version-hint.text", "2")
        const v2 = yield* Effect.flip(catalog.currentFiles("db", "t"))
        expect(v2.message).toContain("metadata/v2.metadata.json")
      }))
  })
})
