import { defineConfig } from "vitest/config";

// Browser tests: Node runs playwright-core against Debian's chromium and a `wrangler dev` started by globalSetup.
export default defineConfig({
  test: {
    include: ["test/e2e/**/*.e2e.ts"],
    environment: "node",
    globalSetup: ["./test/e2e/global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
