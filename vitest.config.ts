import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "deploy/test/**/*.test.ts"],
    // Fails the run when a test left files in the checkout instead of a temp folder.
    globalSetup: ["test/support/checkoutClean.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000
  }
})
