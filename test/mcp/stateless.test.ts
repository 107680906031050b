import { Either, Option } from "effect"
import { describe, expect, it } from "@effect/vitest"
import { decodeHeaderValue } from "../../src/http/statelessHttp.js"
import { claimsStateless, missingCapabilities, parentSpanOf, readEnvelope } from "../../src/mcp/stateless.js"

/** The 2026-07-28 envelope, trace context and header encoding, each read from hostile input. */

const VERSION_KEY = "io.modelcontextprotocol/protocolVersion"
const CAPABILITIES_KEY = "io.modelcontextprotocol/clientCapabilities"

describe("parentSpanOf (W3C traceparent)", () => {
  it("reads a version-00 traceparent, sampled or not", () => {
    const sampled = parentSpanOf("00-0af7651916cd43dd8448eb211c80319c-00f067aa0ba902b7-01")
    expect(Option.map(sampled, (s) => [s.traceId, s.spanId, s.sampled])).toEqual(Option.some(["0af7651916cd43dd8448eb211c80319c", "00f067aa0ba902b7", true]))
    expect(Option.map(parentSpanOf("00-0af7651916cd43dd8448eb211c80319c-00f067aa0ba902b7-00"), (s) => s.sampled)).toEqual(Option.some(false))
  })

  const invalid = [
    undefined,
    "",
    "garbage",
    "ff-0af7651916cd43dd8448eb211c80319c-00f067aa0ba902b7-01", // version ff is forbidden
    "00-00000000000000000000000000000000-00f067aa0ba902b7-01", // all-zero trace id
    "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01", // all-zero span id
    "00-0AF7651916CD43DD8448EB211C80319C-00f067aa0ba902b7-01", // upper case
    "00-0af7651916cd43dd8448eb211c80319-00f067aa0ba902b7-01", // short trace id
    "00-0af7651916cd43dd8448eb211c80319c-00f067aa0ba902b7-01-extra",
    "00-0af7651916cd43dd8448eb211c80319c-00f067aa0ba902b7-01\n00-1",
    `00-${"a".repeat(10_000)}-00f067aa0ba902b7-01`
  ]
  for (const value of invalid) {
    it(`ignores ${JSON.stringify(value)?.slice(0, 60)}`, () => {
      expect(parentSpanOf(value)).toEqual(Option.none())
    })
  }
})

describe("missingCapabilities (-32021)", () => {
  it("names what the declared capabilities lack, down to a required sub-capability", () => {
    expect(missingCapabilities({}, {})).toEqual(Option.none())
    expect(missingCapabilities({ sampling: {} }, { sampling: { tools: {} }, roots: {} })).toEqual(Option.none())
    expect(missingCapabilities({ sampling: {}, roots: {} }, { roots: {} })).toEqual(Option.some({ sampling: {} }))
    expect(missingCapabilities({ elicitation: { form: {} } }, { elicitation: { url: {} } })).toEqual(Option.some({ elicitation: { form: {} } }))
  })

  it("treats a declaration that is not an object as declaring nothing", () => {
    expect(missingCapabilities({ sampling: {} }, { sampling: true })).toEqual(Option.some({ sampling: {} }))
    expect(missingCapabilities({ sampling: {} }, [])).toEqual(Option.some({ sampling: {} }))
    expect(missingCapabilities({ sampling: {} }, undefined)).toEqual(Option.some({ sampling: {} }))
  })
})

describe("decodeHeaderValue (Mcp-Name)", () => {
  it("passes plain values through and decodes the =?base64?…?= form as UTF-8", () => {
    expect(decodeHeaderValue("search_estat_data")).toEqual(Option.some("search_estat_data"))
    expect(decodeHeaderValue(`=?base64?${Buffer.from("人口（２０２０年）").toString("base64")}?=`)).toEqual(Option.some("人口（２０２０年）"))
    expect(decodeHeaderValue("=?base64??=")).toEqual(Option.some(""))
  })

  for (const broken of ["=?base64?Y*91bnQ?=", "=?base64?Y291bnQ?=", "=?base64?/w==?=", "=?base64?Y291bnQ=?=?="]) {
    it(`refuses the broken form ${broken}`, () => {
      expect(decodeHeaderValue(broken)).toEqual(Option.none())
    })
  }
})

describe("the envelope", () => {
  it("a claim naming a session revision stays session traffic; any other claim, even malformed, is stateless", () => {
    expect(claimsStateless({ _meta: { [VERSION_KEY]: "2025-11-25" } })).toBe(false)
    expect(claimsStateless({ _meta: {} })).toBe(false)
    expect(claimsStateless(undefined)).toBe(false)
    expect(claimsStateless({ _meta: { [VERSION_KEY]: "2026-07-28" } })).toBe(true)
    expect(claimsStateless({ _meta: { [VERSION_KEY]: "2099-01-01" } })).toBe(true)
    expect(claimsStateless({ _meta: { [VERSION_KEY]: 20260728 } })).toBe(true)
  })

  it("names the first key that is missing or malformed", () => {
    const refused = (meta: unknown) => Either.match(readEnvelope({ _meta: meta }), { onLeft: (e) => [e._tag, e.message], onRight: () => ["accepted"] })
    expect(refused({ [VERSION_KEY]: "2026-07-28", [CAPABILITIES_KEY]: {} })).toEqual(["accepted"])
    expect(refused({ [VERSION_KEY]: "2026-07-28" })[1]).toContain(CAPABILITIES_KEY)
    expect(refused({ [VERSION_KEY]: "2026-07-28", [CAPABILITIES_KEY]: [] })[1]).toContain(CAPABILITIES_KEY)
    expect(refused({ [VERSION_KEY]: 1, [CAPABILITIES_KEY]: {} })[1]).toContain(VERSION_KEY)
    expect(refused({ [VERSION_KEY]: "2026-07-28", [CAPABILITIES_KEY]: {}, "io.modelcontextprotocol/clientInfo": { name: "x" } })[1]).toContain("clientInfo")
    expect(refused({ [VERSION_KEY]: "2026-07-28", [CAPABILITIES_KEY]: {}, progressToken: {} })[1]).toContain("progressToken")
    expect(refused({ [VERSION_KEY]: "2025-06-18", [CAPABILITIES_KEY]: {} })[0]).toBe("UnsupportedProtocolVersion")
    expect(refused("not an object")[1]).toContain(VERSION_KEY)
  })
})
