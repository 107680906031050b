import { describe, expect, it } from "@effect/vitest"
import { makeEStatApi } from "../../src/testing/estat/api.js"
import { makeCatalog } from "../../src/testing/estat/catalog.js"
import { FAKE_APP_ID, generatedTable, startFakeEStat } from "../fakes/estatServer.js"

/**
 * Benchmarks keep the fake's data pages (`cacheDataPages`): a kept page must answer what a page
 * made afresh answers, byte for byte, whichever flags ask for it and however often.
 */
const table = generatedTable({ id: "0009100014", categories: 4, areas: 5, months: 30 })
const NOW = Date.parse("2026-11-30T10:00:00Z")
const query = (extra: Record<string, string>) =>
  new URLSearchParams({ appId: FAKE_APP_ID, statsDataId: table.info.id, limit: "250", ...extra })
const asked = [
  query({ startPosition: "1" }),
  query({ startPosition: "251", metaGetFlg: "N", annotationGetFlg: "Y", replaceSpChars: "0", lang: "J" }),
  query({ startPosition: "251", metaGetFlg: "Y" }),
  query({ startPosition: "501", cntGetFlg: "N" }),
  query({ startPosition: "1", cntGetFlg: "Y" }),
  query({ startPosition: "551" })
]
const bytesOf = (pieces: ReadonlyArray<string | Uint8Array>) =>
  Buffer.concat(pieces.map((piece) => (typeof piece === "string" ? Buffer.from(piece) : piece)))

describe("the fake's kept data pages", () => {
  it("answer as pages made afresh, in their pieces and whole, the first time and after", () => {
    const fresh = makeEStatApi({ tables: makeCatalog([table]).values(), appIds: [FAKE_APP_ID] })
    const kept = makeEStatApi({ tables: makeCatalog([table]).values(), appIds: [FAKE_APP_ID], cacheDataPages: true })
    for (const round of [1, 2]) {
      for (const params of asked) {
        const expected = fresh.answer("getStatsData", params, NOW)
        const answer = kept.answer("getStatsData", params, NOW)
        expect(answer.httpStatus, `${params} (round ${round})`).toBe(expected.httpStatus)
        expect(answer.body, `${params} (round ${round})`).toBe(expected.body)
        expect(bytesOf(answer.pieces ?? [answer.body]).equals(Buffer.from(expected.body)), `${params} (round ${round})`).toBe(true)
      }
    }
    // A kept page is sent in pieces (its VALUE's bytes as they were kept), a count whole.
    expect(kept.answer("getStatsData", asked[1]!, NOW).pieces).toHaveLength(3)
    expect(kept.answer("getStatsData", asked[4]!, NOW).pieces).toBeUndefined()
  })

  it("go over HTTP with the length and bytes of a page made afresh", async () => {
    const fresh = await startFakeEStat({ tables: [table] })
    const kept = await startFakeEStat({ tables: [table], cacheDataPages: true })
    try {
      for (const params of asked.slice(0, 3)) {
        const [a, b] = await Promise.all([fresh, kept].map((fake) => fetch(`${fake.baseUrl}/json/getStatsData?${params}`)))
        const [bodyA, bodyB] = await Promise.all([a!.text(), b!.text()])
        // RESULT's DATE is the time of the answer: the two fakes may answer a millisecond apart.
        const undated = (body: string) => body.replace(/"DATE":"[^"]*"/, "")
        expect(undated(bodyB)).toBe(undated(bodyA))
        expect(Number(b!.headers.get("content-length"))).toBe(Buffer.byteLength(bodyB))
      }
    } finally {
      await Promise.all([fresh.close(), kept.close()])
    }
  })
})
