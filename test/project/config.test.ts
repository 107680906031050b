import { ConfigProvider, Effect } from "effect"
import { describe, expect, it } from "@effect/vitest"
import { appSettingsConfig, userDataDir } from "../../src/config.js"

describe("DATA_DIR", () => {
  it("defaults to the user's data folder on each platform, never to the working directory", () => {
    expect(userDataDir({}, "linux", "/home/ann")).toBe("/home/ann/.local/share/estat-mcp")
    expect(userDataDir({ XDG_DATA_HOME: "/srv/xdg" }, "linux", "/home/ann")).toBe("/srv/xdg/estat-mcp")
    expect(userDataDir({ XDG_DATA_HOME: "relative/xdg" }, "linux", "/home/ann")).toBe("/home/ann/.local/share/estat-mcp")
    expect(userDataDir({}, "darwin", "/Users/ann")).toBe("/Users/ann/Library/Application Support/estat-mcp")
    expect(userDataDir({ LOCALAPPDATA: "C:\\Users\\ann\\AppData\\Local" }, "win32", "C:\\Users\\ann")).toBe("C:\\Users\\ann\\AppData\\Local\\estat-mcp")
    expect(userDataDir({}, "win32", "C:\\Users\\ann")).toBe("C:\\Users\\ann\\AppData\\Local\\estat-mcp")
  })

  it.effect("is the user's data folder when unset, and what it says when set", () =>
    Effect.gen(function* () {
      const unset = yield* Effect.withConfigProvider(appSettingsConfig, ConfigProvider.fromMap(new Map()))
      expect(unset.dataDir).toBe(userDataDir())
      const set = yield* Effect.withConfigProvider(appSettingsConfig, ConfigProvider.fromMap(new Map([["DATA_DIR", "/var/lib/estat"]])))
      expect(set.dataDir).toBe("/var/lib/estat")
    }))
})
