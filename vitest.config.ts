import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

export default defineConfig(async () => {
  const migrations = await readD1Migrations("./migrations");
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          bindings: {
            TEST_MIGRATIONS: migrations,
            ENVIRONMENT: "development",
            SYSTEM_CLIENT_ID: "test-client",
            SYSTEM_CLIENT_SECRET: "test-secret-0123456789",
            KEY_ENCRYPTION_SECRET: "test-key-encryption-secret-0123456789",
          },
        },
      }),
    ],
    test: {
      include: ["test/**/*.test.ts"],
      exclude: ["test/e2e/**", "node_modules/**"],
      setupFiles: ["./test/setup.ts"],
      // Time limits only guard against hangs (nothing asserts a duration); a loaded 2-core machine needs headroom.
      testTimeout: 30_000,
      // The per-request JSON log line (src/http/log.ts, tested in test/request-log.test.ts) would drown the report.
      onConsoleLog: (log: string) => !log.startsWith('{"request_id"'),
    },
  };
});
