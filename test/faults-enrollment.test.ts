/**
 * Storage faults, enrollment (sign-in and tokens: test/faults-signin.test.ts). For each ceremony step and each write
 * (system enrollment begin/complete, self-service add, one-time code request/complete; in the other file Smart and
 * Classic sign-in options/finish, password sign-in, token endpoint), a clean run through the wrapped bindings
 * (test/helpers/faults.ts) counts the step's storage calls; then a fault is injected at every call index k = 0..n-1 in
 * turn, once before the call reaches storage and once after it took effect (the answer lost on the way back).
 * Properties, for every fault point:
 *   - the answer is 503 storage_unavailable with Retry-After, or the step's success when the failing call came
 *     after the step's commit and is best-effort clean-up (listed per scenario in `bestEffort`); never another 5xx;
 *   - nothing partial: the rows of credentials, consumed_challenges, one_time_codes and audit_events changed either
 *     not at all or exactly as in the clean run (rows added/removed per table);
 *   - no credential and no token without its consumed challenge;
 *   - a retry of the WHOLE ceremony afterwards (fresh options/begin, fresh code) succeeds.
 * The Worker is driven through its real entrypoint with the wrapped env (dispatch in test/helpers/fuzz.ts).
 */
import type { PublicKeyCredentialCreationOptionsJSON } from "@simplewebauthn/server";
import { env } from "cloudflare:test";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SoftAuthenticator } from "./authenticator";
import { ORIGIN, systemToken } from "./helpers/api";
import {
  beginPath,
  codeFor,
  completePath,
  consumed,
  enrolled,
  faultSweep,
  newUser,
  ok,
  quietInjectedFaults,
  type Scenario,
  send,
  sysPath,
} from "./helpers/fault-sweep";
import { quietRequestLog } from "./helpers/fuzz";
import { userToken } from "./helpers/signin";

const { sweep, report } = faultSweep();
let SYS: string;

beforeAll(async () => {
  quietRequestLog();
  quietInjectedFaults();
  SYS = await systemToken();
});

afterAll(() => report("faults (enrollment)"));

// ---------- the ceremonies ----------

interface Registration {
  user: { id: string; email: string };
  options: PublicKeyCredentialCreationOptionsJSON;
  response: Awaited<ReturnType<SoftAuthenticator["register"]>>;
}

const registrationScenarios = (mode: "smart" | "classic"): [Scenario<{ user: { id: string; email: string } }>, Scenario<Registration>] => {
  const retry = async (userId: string) => {
    const { publicKey } = await ok<{ publicKey: PublicKeyCredentialCreationOptionsJSON }>(
      await send(env, "POST", beginPath("default", userId, mode), { token: SYS }),
    );
    await ok(
      await send(env, "POST", completePath("default", userId, mode), {
        token: SYS,
        body: await new SoftAuthenticator().register(publicKey, { origin: ORIGIN }),
      }),
    );
  };
  return [
    {
      name: `system enrollment begin (${mode})`,
      prepare: async () => ({ user: await newUser() }),
      step: (c, b) => send(b, "POST", beginPath("default", c.user.id, mode), { token: SYS }),
      success: 200,
      retry: (c) => retry(c.user.id),
    },
    {
      name: `system enrollment complete (${mode})`,
      prepare: async () => {
        const user = await newUser();
        const { publicKey } = await ok<{ publicKey: PublicKeyCredentialCreationOptionsJSON }>(
          await send(env, "POST", beginPath("default", user.id, mode), { token: SYS }),
        );
        return { user, options: publicKey, response: await new SoftAuthenticator().register(publicKey, { origin: ORIGIN }) };
      },
      step: (c, b) => send(b, "POST", completePath("default", c.user.id, mode), { token: SYS, body: c.response }),
      success: 200,
      committed: async (c) => expect(await consumed(c.options.challenge), "the new credential's challenge is consumed").toBe(1),
      retry: (c) => retry(c.user.id),
    },
  ];
};

describe("storage faults at every call of every ceremony step", { timeout: 300_000 }, () => {
  const results: Record<string, string[]> = {};
  const check = async <C>(s: Scenario<C>) => {
    results[s.name] = await sweep(s);
    expect(results[s.name]).toEqual([]);
  };

  it("system API enrollment, Smart: begin and complete", async () => {
    const [b, c] = registrationScenarios("smart");
    await check(b);
    await check(c);
  });

  it("system API enrollment, Classic: complete", async () => {
    await check(registrationScenarios("classic")[1]);
  });

  it("self-service add (Smart workspace): begin and complete", async () => {
    const selfPath = (p: string) => `/default/default/identity/v2/self/usernameless-webauthn/create${p}`;
    const tokenFor = (userId: string) => userToken({ wid: "default", pool: "default", userId });
    const retry = async (token: string) => {
      const { publicKey } = await ok<{ publicKey: PublicKeyCredentialCreationOptionsJSON }>(
        await send(env, "POST", selfPath("/begin"), { token }),
      );
      await ok(
        await send(env, "POST", selfPath("/complete"), {
          token,
          body: await new SoftAuthenticator().register(publicKey, { origin: ORIGIN }),
        }),
      );
    };
    await check({
      name: "self-service begin",
      prepare: async () => ({ token: await tokenFor((await enrolled("default", "smart")).user.id) }),
      step: (c, b) => send(b, "POST", selfPath("/begin"), { token: c.token }),
      success: 200,
      retry: (c) => retry(c.token),
    });
    await check({
      name: "self-service complete",
      prepare: async () => {
        const token = await tokenFor((await enrolled("default", "smart")).user.id);
        const { publicKey } = await ok<{ publicKey: PublicKeyCredentialCreationOptionsJSON }>(
          await send(env, "POST", selfPath("/begin"), { token }),
        );
        return { token, options: publicKey, response: await new SoftAuthenticator().register(publicKey, { origin: ORIGIN }) };
      },
      step: (c, b) => send(b, "POST", selfPath("/complete"), { token: c.token, body: c.response }),
      success: 200,
      committed: async (c) => expect(await consumed(c.options.challenge)).toBe(1),
      retry: (c) => retry(c.token),
    });
  });

  it("one-time code enrollment: request and complete", async () => {
    const request = (b: Cloudflare.Env, userId: string) =>
      send(b, "POST", sysPath("/pools/default/user/webauthn/add/request"), { token: SYS, body: { userID: userId } });
    const completeWithCode = async (b: Cloudflare.Env, userId: string, code: string, response: unknown) =>
      send(b, "POST", sysPath("/pools/default/user/webauthn/add/complete"), {
        token: SYS,
        body: { userID: userId, code, new_web_authn: response },
      });
    const whole = async (user: { id: string; email: string }) => {
      await ok(await request(env, user.id), 204);
      const code = await codeFor(user.email);
      const { publicKey } = await ok<{ publicKey: PublicKeyCredentialCreationOptionsJSON }>(
        await send(env, "POST", beginPath("default", user.id, "smart"), { token: SYS }),
      );
      await ok(await completeWithCode(env, user.id, code, await new SoftAuthenticator().register(publicKey, { origin: ORIGIN })), 204);
    };
    await check({
      name: "code request",
      prepare: async () => ({ user: await newUser() }),
      step: (c, b) => request(b, c.user.id),
      success: 204,
      retry: (c) => whole(c.user),
      // The code is stored (and audited) in one batch first; delivery through the development outbox comes after
      // and a failed delivery is logged, not answered (the caller learns nothing either way).
      bestEffort: (call) => call.kind === "d1" && /INSERT INTO "?outbox"?/i.test(call.detail),
    });
    await check({
      name: "code complete",
      prepare: async () => {
        const user = await newUser();
        await ok(await request(env, user.id), 204);
        const code = await codeFor(user.email);
        const { publicKey } = await ok<{ publicKey: PublicKeyCredentialCreationOptionsJSON }>(
          await send(env, "POST", beginPath("default", user.id, "smart"), { token: SYS }),
        );
        return { user, code, options: publicKey, response: await new SoftAuthenticator().register(publicKey, { origin: ORIGIN }) };
      },
      step: (c, b) => completeWithCode(b, c.user.id, c.code, c.response),
      success: 204,
      committed: async (c) => expect(await consumed(c.options.challenge)).toBe(1),
      retry: (c) => whole(c.user),
      // No partial state is allowed: the code is checked and consumed in the same batch as the challenge and the
      // passkey (src/repo/codes.ts codeCheckStmts gating src/repo/credentials.ts registerPasskey), so a storage
      // failure anywhere leaves the code as it was (live, its attempts untouched) and nothing stored.
    });
  });
});
