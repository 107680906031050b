import { Effect } from "effect"
import { describe, expect, it } from "@effect/vitest"
import { sanitizeFileName } from "../../src/domain/fileNames.js"
import { ObjectStore } from "../../src/services/storage/ObjectStore.js"
import { attachment } from "../../src/services/storage/S3.js"
import { pipelineContext } from "../support/pipeline.js"

/** Download names: kept as the user wrote them, sent as RFC 6266 + RFC 8187 say. */

/** RFC 8187 `ext-value`: charset '' then attr-chars and %XX only. */
const RFC8187_VALUE = /^UTF-8''(?:[A-Za-z0-9!#$&+\-.^_`|~]|%[0-9A-F]{2})*$/

describe("download names", () => {
  it("encodes filename* with RFC 8187's attr-chars: ' ( ) * percent-encoded, UTF-8 bytes as %XX", () => {
    const header = attachment("it's (draft) *1*.csv")
    expect(header).toBe(`attachment; filename="it's (draft) *1*.csv"; filename*=UTF-8''it%27s%20%28draft%29%20%2A1%2A.csv`)
    for (const name of ["人口（２０２０年）.csv", "a!b#c$d&e+f^g`h|i~j.csv", "x'y(z)*.csv", "tab\there.csv"]) {
      const value = attachment(name).split("; filename*=")[1]!
      expect(value, name).toMatch(RFC8187_VALUE)
      expect(decodeURIComponent(value.slice("UTF-8''".length)), name).toBe(name)
    }
    // The ASCII fallback: quotes and backslashes and anything not printable ASCII become _.
    expect(attachment('人口"x\\y.csv')).toMatch(/^attachment; filename="___x_y.csv"; /)
  })

  it("keeps full-width characters as written (no NFKC folding); only separators and reserved characters, full-width or not, are replaced", () => {
    expect(sanitizeFileName("人口（２０２０年）.csv", ".csv")).toBe("人口（２０２０年）.csv")
    expect(sanitizeFileName("ＧＤＰ速報", ".csv")).toBe("ＧＤＰ速報.csv")
    expect(sanitizeFileName("ａ／ｂ＼ｃ.csv", ".csv")).toBe("ｃ.csv") // full-width slashes still separate
    expect(sanitizeFileName("x＜y＞z：w？.csv", ".csv")).toBe("x_y_z_w_.csv")
    expect(sanitizeFileName("../../etc/passwd", ".csv")).toBe("passwd.csv")
    expect(sanitizeFileName("１００％", ".csv")).toBe("１００_.csv")
  })

  it.scopedLive("a presigned S3 download asks for that Content-Disposition", () =>
    Effect.gen(function* () {
      const { context } = yield* pipelineContext("aws")
      const store = yield* Effect.provide(ObjectStore, context)
      yield* store.putBytes("csv/x/人口.csv", new TextEncoder().encode("a\n"), "text/csv")
      const { url } = yield* store.downloadUrl("csv/x/人口.csv", { expiresInSeconds: 60, fileName: "人口（２０２０年）(1).csv" })
      expect(new URL(url).searchParams.get("response-content-disposition")).toBe(attachment("人口（２０２０年）(1).csv"))
      expect(attachment("人口（２０２０年）(1).csv")).toContain("filename*=UTF-8''%E4%BA%BA%E5%8F%A3%EF%BC%88%EF%BC%92%EF%BC%90%EF%BC%92%EF%BC%90%E5%B9%B4%EF%BC%89%281%29.csv")
    }))
})
