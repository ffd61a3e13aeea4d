import type { D1Migration } from "cloudflare:test";

// The test Worker's bindings: the generated Cloudflare.Env (worker-configuration.d.ts) and the migrations that
// vitest.config.ts passes to test/setup.ts.
declare global {
  namespace Cloudflare {
    interface Env {
      TEST_MIGRATIONS: D1Migration[];
    }
  }
}
