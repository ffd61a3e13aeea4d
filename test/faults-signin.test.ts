/**
 * Storage faults, sign-in and tokens (enrollment: test/faults-enrollment.test.ts). For each ceremony step and each
 * write (Smart and Classic sign-in options/finish, password sign-in, token endpoint; in the other file system
 * enrollment begin/complete, self-service add, one-time code request/complete), a clean run through the wrapped
 * bindings (test/helpers/faults.ts) counts the step's storage calls; then a fault is injected at every call index k =
 * 0..n-1 in turn, once before the call reaches storage and once after it took effect (the answer lost on the way
 * back). Properties, for every fault point:
 *   - the answer is 503 storage_unavailable with Retry-After, or the step's success when the failing call came
 *     after the step's commit and is best-effort clean-up (listed per scenario in `bestEffort`); never another 5xx;
 *   - nothing partial: the rows of credentials, consumed_challenges, one_time_codes and audit_events changed either
 *     not at all or exactly as in the clean run (rows added/removed per table);
 *   - no credential and no token without its consumed challenge;
 *   - a retry of the WHOLE ceremony afterwards (fresh options/begin, fresh code) succeeds.
 * The Worker is driven through its real entrypoint with the wrapped env (dispatch in test/helpers/fuzz.ts).
 */
import { env } from "cloudflare:test";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { basic, CLIENT, ORIGIN, uid } from "./helpers/api";
import {
  challengeOf,
  consumed,
  enrolled,
  faultSweep,
  type SigninOptions,
  newUser,
  ok,
  PASSWORD,
  quietInjectedFaults,
  type Scenario,
  send,
  signIn,
} from "./helpers/fault-sweep";
import { quietRequestLog } from "./helpers/fuzz";
import { newPool } from "./helpers/passkeys";
import { newWorkspace } from "./helpers/signin";

const { sweep, report } = faultSweep();
let classicWid: string;
let classicPool: string;

beforeAll(async () => {
  quietRequestLog();
  quietInjectedFaults();
  classicPool = await newPool({ authentication_mechanisms: ["webauthn", "password"] });
  classicWid = await newWorkspace(["webauthn", "password"], [classicPool]);
});

afterAll(() => report("faults (sign-in)"));

describe("storage faults at every call of every ceremony step", { timeout: 300_000 }, () => {
  const results: Record<string, string[]> = {};
  const check = async <C>(s: Scenario<C>) => {
    results[s.name] = await sweep(s);
    expect(results[s.name]).toEqual([]);
  };

  for (const mode of ["smart", "classic"] as const) {
    it(`${mode} sign-in: options and finish`, async () => {
      const wid = mode === "smart" ? "default" : classicWid;
      const pool = mode === "smart" ? "default" : classicPool;
      const body = (email: string) => (mode === "smart" ? {} : { identifier: email });
      await check({
        name: `${mode} sign-in options`,
        prepare: async () => enrolled(pool, mode),
        step: (c, b) => send(b, "POST", `/default/${wid}/login/webauthn/options`, { body: body(c.user.email) }),
        success: 200,
        retry: async (c) =>
          void (await ok<{ access_token: string }>(await signIn(env, wid, c.auth, mode === "smart" ? undefined : c.user.email))),
      });
      await check({
        name: `${mode} sign-in finish`,
        prepare: async () => {
          const e = await enrolled(pool, mode);
          const o = await ok<SigninOptions>(
            await send(env, "POST", `/default/${wid}/login/webauthn/options`, { body: body(e.user.email) }),
          );
          return { ...e, o, assertion: await e.auth.authenticate(o.publicKey, { origin: ORIGIN }) };
        },
        step: (c, b) =>
          send(b, "POST", `/default/${wid}/login/webauthn/finish`, { body: { login_id: c.o.login_id, credential: c.assertion } }),
        success: 200,
        committed: async (c, res) => {
          expect(res).toHaveProperty("access_token");
          expect(await consumed(challengeOf(c.assertion)), "a token only with its consumed challenge").toBe(1);
        },
        retry: async (c) =>
          void (await ok<{ access_token: string }>(await signIn(env, wid, c.auth, mode === "smart" ? undefined : c.user.email))),
        // No clean-up after the commit: the login record (transaction + challenge, one KV key) is left to its TTL.
      });
    });
  }

  it("password sign-in", async () => {
    const login = (b: Cloudflare.Env, email: string) =>
      send(b, "POST", "/default/default/login/password", { body: { identifier: email, password: PASSWORD } });
    await check({
      name: "password sign-in",
      prepare: async () => ({ user: await newUser("default", true) }),
      step: (c, b) => login(b, c.user.email),
      success: 200,
      committed: async (_c, res) => expect(res).toHaveProperty("access_token"),
      retry: async (c) => void (await ok<{ access_token: string }>(await login(env, c.user.email))),
    });
  });

  it("token endpoint (client credentials)", async () => {
    const token = (b: Cloudflare.Env, tid: string) =>
      send(b, "POST", `/${tid}/system/oauth2/token`, {
        form: { grant_type: "client_credentials", scope: "identity" },
        headers: { authorization: basic(CLIENT.id, CLIENT.secret) },
      });
    await check({
      name: "token endpoint",
      // A tenant per fault point: counters and signing keys start fresh, as on a tenant's first day.
      prepare: async () => {
        const tid = uid("ft");
        await env.DB.prepare("INSERT INTO tenants (id, name, created_at) VALUES (?, 'faults', 0)").bind(tid).run();
        return { tid };
      },
      step: (c, b) => token(b, c.tid),
      success: 200,
      committed: async (_c, res) => expect(res).toHaveProperty("access_token"),
      retry: async (c) => void (await ok<{ access_token: string }>(await token(env, c.tid))),
    });
  });
});
