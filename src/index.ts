import { app } from "./app";
import type { Env } from "./env";
import { purgeExpired } from "./repo/maintenance";

export default {
  fetch: app.fetch,
  async scheduled(_controller: ScheduledController, env: Env, ctx: ExecutionContext) {
    ctx.waitUntil(purgeExpired(env.DB, Date.now()).then((n) => console.log("purged", n)));
  },
} satisfies ExportedHandler<Env>;
