import { createExecutionContext, createScheduledController, env, waitOnExecutionContext } from "cloudflare:test";
import { expect, it } from "vitest";
import worker from "../src/index";
import { count, newUser } from "./helpers/passkeys";

it("the cron trigger purges expired consumed challenges and one-time codes, and keeps live ones", async () => {
  const now = Date.now();
  const user = await newUser();
  await env.DB.batch([
    env.DB.prepare(
      "INSERT INTO consumed_challenges (challenge, tenant_id, purpose, consumed_at, expires_at) VALUES ('purge-old', 'default', 'register', ?, ?), ('purge-live', 'default', 'register', ?, ?)",
    ).bind(now - 600_000, now - 1, now, now + 300_000),
    env.DB.prepare(
      "INSERT INTO one_time_codes (tenant_id, pool_id, user_id, purpose, code_hash, attempts, expires_at, created_at) VALUES ('default', 'default', ?, 'enroll_webauthn', 'h', 0, ?, ?)",
    ).bind(user.id, now - 1, now - 600_000),
  ]);
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ scheduledTime: now, cron: "*/15 * * * *" }), env, ctx);
  await waitOnExecutionContext(ctx);
  expect(await count("consumed_challenges", "challenge = 'purge-old'")).toBe(0);
  expect(await count("consumed_challenges", "challenge = 'purge-live'")).toBe(1);
  expect(await count("one_time_codes", "user_id = ?", user.id)).toBe(0);
});
