import { describe, expect, it } from "@effect/vitest"
import { hostAllowed } from "../../src/http/security.js"

describe("hostAllowed (DNS-rebinding protection)", () => {
  it("a server bound to loopback answers loopback names only, whatever it answered just before", () => {
    const verdicts = ["localhost:3000", "attacker.example:3000", "attacker.example:3000", "localhost:3000", "127.0.0.1:3000", "attacker.example", "[::1]:3000", "localhost.attacker.example"]
      .map((host) => hostAllowed(host, "127.0.0.1"))
    expect(verdicts).toEqual([true, false, false, true, true, false, true, false])
    expect(hostAllowed(undefined, "127.0.0.1")).toBe(false)
  })

  it("a server bound elsewhere (behind a load balancer) accepts any Host", () => {
    expect(hostAllowed("attacker.example", "0.0.0.0")).toBe(true)
  })
})
