import { applyD1Migrations, env } from "cloudflare:test";
import seed from "../scripts/seed.sql?raw";

await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
const statements = seed
  .split(/;\s*$/m)
  .map((s) => s.replace(/^--.*$/gm, "").trim())
  .filter(Boolean);
await env.DB.batch(statements.map((s) => env.DB.prepare(s)));
await env.DB.prepare("INSERT OR IGNORE INTO tenants (id, name, created_at) VALUES ('other', 'Other tenant', 0)").run();
