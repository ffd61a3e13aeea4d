/**
 * Storage faults, OpenID Provider, second factor and the writes that end sessions (sign-in and tokens:
 * test/faults-signin.test.ts; enrollment: test/faults-enrollment.test.ts). Steps under fault: the passkey finish of a
 * password + passkey sign-in; the passkey finish that carries `authz` (starts the provider session); authorize with a
 * live session and the resume step (issue the code); the token endpoint's authorization_code and refresh_token grants;
 * revocation and RP-initiated logout; system API deactivation and deletion of a user; self-service passkey delete and
 * rename. As in the other files, a clean run through the wrapped bindings (test/helpers/faults.ts) counts the step's
 * storage calls, then a fault is injected at every call k = 0..n-1, once before the call reaches storage and once after
 * it took effect (the answer lost on the way back). Properties, for every fault point:
 *   - the answer is 503 storage_unavailable with Retry-After, or the step's success when the failing call came after
 *     the commit and is best-effort clean-up (`bestEffort`); never another 5xx;
 *   - nothing partial: the watched tables (credentials, consumed_challenges, one_time_codes, audit_events and each
 *     scenario's `watch`: the oidc_* tables, users) changed not at all or exactly as in the clean run;
 *   - no token without its consumed challenge; no tokens with the code left usable; never two usable refresh tokens of
 *     one family; no deactivated or deleted user with a live provider session or refresh token;
 *   - the client's retry: the whole flow again from authorize (new code), and where a client naturally repeats the
 *     very request (the same code, the same refresh token, revoke, logout, the same PUT/DELETE) that repetition first,
 *     answered as ../shared/api.md says (a redeemed code or a rotated refresh token is invalid_grant and revokes the
 *     family: RFC 6749 §4.1.2 and §10.4).
 */
import { env } from "cloudflare:test";
import { calculatePKCECodeChallenge, randomPKCECodeVerifier } from "openid-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { b64url, sha256 } from "../src/crypto/bytes";
import { CLIENT_DEFAULTS } from "../src/domain/oidc";
import { insertClientFixture } from "./helpers/oidc-client";
import { SoftAuthenticator } from "./authenticator";
import { ORIGIN, systemToken, uid } from "./helpers/api";
import {
  challengeOf,
  consumed,
  enrolled,
  faultSweep,
  newUser,
  ok,
  PASSWORD,
  quietInjectedFaults,
  type Scenario,
  type SigninOptions,
  send,
  sysPath,
} from "./helpers/fault-sweep";
import { quietRequestLog } from "./helpers/fuzz";
import { enroll } from "./helpers/passkeys";
import { setup, userToken } from "./helpers/signin";

const { sweep, report } = faultSweep();
const REDIRECT = "http://localhost:3000/callback";
const AFTER_LOGOUT = "http://localhost:3000/signed-out";
const SCOPE = "openid profile email offline_access";
const OIDC_TABLES = ["oidc_sessions", "oidc_codes", "oidc_refresh_tokens", "oidc_consents"];
const hash = async (s: string) => b64url(await sha256(s));

let SYS: string;
/** A Smart workspace and pool with a trusted public client (PKCE, refresh tokens, a post-logout URI). */
let smart: { pool: string; wid: string; clientId: string };
/** A pool with password first factor and passkey second factor, and its workspace. */
let twoFactor: { pool: string; wid: string };

beforeAll(async () => {
  quietRequestLog();
  quietInjectedFaults();
  SYS = await systemToken();
  const s = await setup("smart");
  const clientId = uid("client");
  const now = Date.now();
  await insertClientFixture(env.DB, {
    ...CLIENT_DEFAULTS,
    tenantId: "default",
    workspaceId: s.wid,
    clientId,
    clientName: "App",
    secretHash: null,
    redirectUris: [REDIRECT],
    postLogoutRedirectUris: [AFTER_LOGOUT],
    grantTypes: ["authorization_code", "refresh_token"],
    tokenEndpointAuthMethod: "none",
    scopes: SCOPE.split(" "),
    trusted: true,
    createdAt: now,
    updatedAt: now,
  });
  smart = { ...s, clientId };
  twoFactor = await setup("classic", { authentication_mechanisms: ["password"], second_factor_authentication_mechanisms: ["webauthn"] });
});

afterAll(() => report("faults (oidc)"));

// ---------- the OpenID Provider's steps, each one request with the given bindings ----------

type Tokens = { access_token: string; id_token: string; refresh_token?: string };
const html = (cookie?: string): Record<string, string> => ({ accept: "text/html", ...(cookie ? { cookie } : {}) });
const w = (rest: string) => `/default/${smart.wid}/${rest}`;

async function authorizeRes(b: Cloudflare.Env, verifier: string, cookie?: string) {
  const query = new URLSearchParams({
    client_id: smart.clientId,
    redirect_uri: REDIRECT,
    response_type: "code",
    scope: SCOPE,
    state: "st",
    nonce: "n",
    code_challenge: await calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
  });
  return send(b, "GET", w(`oauth2/authorize?${query}`), { headers: html(cookie) });
}

const location = (res: Response) => new URL(res.headers.get("location") ?? "/", ORIGIN);

/** Authorize without a session: the pending authorization's id (the sign-in page's `authz`). */
async function pending(verifier: string): Promise<string> {
  const res = await authorizeRes(env, verifier);
  expect(res.status).toBe(302);
  return location(res).searchParams.get("authz")!;
}

/** Options and an assertion for a Smart sign-in (clean bindings). */
async function assertion(auth: SoftAuthenticator) {
  const o = await ok<SigninOptions>(await send(env, "POST", w("login/webauthn/options"), { body: {} }));
  return { loginId: o.login_id, credential: await auth.authenticate(o.publicKey, { origin: ORIGIN }) };
}

const finishWithAuthz = (b: Cloudflare.Env, a: { loginId: string; credential: unknown }, authz: string) =>
  send(b, "POST", w("login/webauthn/finish"), { body: { login_id: a.loginId, credential: a.credential, authz } });

const cookieOf = (res: Response) => (res.headers.get("set-cookie") ?? "").split(";")[0]!;
const resumeRes = (b: Cloudflare.Env, authz: string, cookie: string) =>
  send(b, "GET", w(`oauth2/authorize/resume?authz=${authz}`), { headers: html(cookie) });

/** The code of a redirect to the client, or null. */
const codeOf = (res: Response) => (res.status === 302 ? location(res).searchParams.get("code") : null);

const tokenRes = (b: Cloudflare.Env, form: Record<string, string>) =>
  send(b, "POST", w("oauth2/token"), { form: { client_id: smart.clientId, ...form } });
const codeGrant = (b: Cloudflare.Env, code: string, verifier: string) =>
  tokenRes(b, { grant_type: "authorization_code", code, redirect_uri: REDIRECT, code_verifier: verifier });
const refreshGrant = (b: Cloudflare.Env, refreshToken: string) => tokenRes(b, { grant_type: "refresh_token", refresh_token: refreshToken });
const revokeRes = (b: Cloudflare.Env, token: string) =>
  send(b, "POST", w("oauth2/revoke"), { form: { client_id: smart.clientId, token, token_type_hint: "refresh_token" } });
const logoutRes = (b: Cloudflare.Env, idToken: string, cookie: string) =>
  send(
    b,
    "GET",
    w(`oidc/logout?${new URLSearchParams({ id_token_hint: idToken, post_logout_redirect_uri: AFTER_LOGOUT, state: "bye" })}`),
    { headers: html(cookie) },
  );

/** A user of the Smart pool with a passkey, signed in through the provider up to a live session (clean bindings). */
async function signedIn() {
  const e = await enrolled(smart.pool, "smart");
  const verifier = randomPKCECodeVerifier();
  const authz = await pending(verifier);
  const res = await finishWithAuthz(env, await assertion(e.auth), authz);
  await ok(res);
  return { ...e, verifier, authz, cookie: cookieOf(res) };
}

/** The whole flow, from authorize without a session to the tokens (clean bindings). */
async function wholeFlow(auth: SoftAuthenticator) {
  const verifier = randomPKCECodeVerifier();
  const authz = await pending(verifier);
  const res = await finishWithAuthz(env, await assertion(auth), authz);
  const { continue_url } = await ok<{ continue_url: string }>(res);
  expect(continue_url).toContain(authz);
  const cookie = cookieOf(res);
  const code = codeOf(await resumeRes(env, authz, cookie));
  expect(code, "resume redirects with a code").toBeTruthy();
  const tokens = await ok<Tokens>(await codeGrant(env, code!, verifier));
  expect(tokens.refresh_token).toBeTruthy();
  return { cookie, tokens };
}

// ---------- what the stored rows say ----------

const n = async (sql: string, ...binds: unknown[]) =>
  (await env.DB.prepare(sql)
    .bind(...binds)
    .first<{ n: number }>())!.n;
const codeRow = async (code: string) =>
  env.DB.prepare("SELECT consumed_at, family_id FROM oidc_codes WHERE code_hash = ?")
    .bind(await hash(code))
    .first<{ consumed_at: number | null; family_id: string | null }>();
const familyOf = async (refreshToken: string) =>
  (
    await env.DB.prepare("SELECT family_id FROM oidc_refresh_tokens WHERE token_hash = ?")
      .bind(await hash(refreshToken))
      .first<{ family_id: string }>()
  )?.family_id;
const liveInFamily = (family: string) =>
  n("SELECT count(*) AS n FROM oidc_refresh_tokens WHERE family_id = ? AND revoked_at IS NULL AND rotated_at IS NULL", family);
const liveOfUser = async (userId: string) => ({
  sessions: await n("SELECT count(*) AS n FROM oidc_sessions WHERE user_id = ?", userId),
  refresh: await n("SELECT count(*) AS n FROM oidc_refresh_tokens WHERE user_id = ? AND revoked_at IS NULL AND rotated_at IS NULL", userId),
  codes: await n("SELECT count(*) AS n FROM oidc_codes WHERE user_id = ?", userId),
});
const userStatus = async (userId: string) =>
  (await env.DB.prepare("SELECT status FROM users WHERE id = ?").bind(userId).first<{ status: string }>())?.status;

/** What the repeated requests of the retries met (reported with the sweep's line). */
const repeats: Record<string, Record<string, number>> = {};
const tally = (scenario: string, outcome: string) => {
  repeats[scenario] ??= {};
  repeats[scenario][outcome] = (repeats[scenario][outcome] ?? 0) + 1;
};
afterAll(() => {
  for (const [s, o] of Object.entries(repeats)) console.log(`faults (oidc): ${s}, the client's repeated request: ${JSON.stringify(o)}`);
});

describe("storage faults at every call of the OpenID Provider and session-ending steps", { timeout: 600_000 }, () => {
  const results: Record<string, string[]> = {};
  const check = async <C>(s: Scenario<C>) => {
    results[s.name] = await sweep(s);
    expect(results[s.name]).toEqual([]);
  };

  it("second factor: the passkey finish after a password", async () => {
    const wid = twoFactor.wid;
    const passwordStep = async (email: string) =>
      ok<{ login_id: string; next: string[] }>(
        await send(env, "POST", `/default/${wid}/login/password`, { body: { identifier: email, password: PASSWORD } }),
      );
    const secondFactor = async (user: { email: string }, auth: SoftAuthenticator) => {
      const first = await passwordStep(user.email);
      expect(first.next).toEqual(["webauthn"]);
      const o = await ok<SigninOptions>(
        await send(env, "POST", `/default/${wid}/login/webauthn/options`, { body: { login_id: first.login_id } }),
      );
      return { loginId: o.login_id, credential: await auth.authenticate(o.publicKey, { origin: ORIGIN }) };
    };
    const finish = (b: Cloudflare.Env, a: { loginId: string; credential: unknown }) =>
      send(b, "POST", `/default/${wid}/login/webauthn/finish`, { body: { login_id: a.loginId, credential: a.credential } });
    await check({
      name: "second-factor passkey finish",
      prepare: async () => {
        const user = await newUser(twoFactor.pool, true);
        const auth = new SoftAuthenticator();
        await enroll(auth, twoFactor.pool, user.id, "classic");
        return { user, auth, a: await secondFactor(user, auth) };
      },
      step: (c, b) => finish(b, c.a),
      success: 200,
      committed: async (c, res) => {
        expect(res).toHaveProperty("access_token");
        expect(
          await consumed(challengeOf(c.a.credential as { response: { clientDataJSON: string } })),
          "a token only with its consumed challenge",
        ).toBe(1);
      },
      retry: async (c) => void (await ok<{ access_token: string }>(await finish(env, await secondFactor(c.user, c.auth)))),
    });
  });

  it("OIDC: the sign-in finish with authz (starts the provider session)", async () => {
    await check({
      name: "sign-in finish with authz",
      prepare: async () => {
        const e = await enrolled(smart.pool, "smart");
        const verifier = randomPKCECodeVerifier();
        return { ...e, authz: await pending(verifier), a: await assertion(e.auth) };
      },
      step: (c, b) => finishWithAuthz(b, c.a, c.authz),
      success: 200,
      watch: OIDC_TABLES,
      committed: async (c, res) => {
        expect(res).toHaveProperty("access_token");
        expect(res).toHaveProperty("continue_url");
        expect(await consumed(challengeOf(c.a.credential)), "a token and a session only with the consumed challenge").toBe(1);
        expect((await liveOfUser(c.user.id)).sessions).toBe(1);
      },
      retry: async (c) => void (await wholeFlow(c.auth)),
      // The provider session is stored in the assertion's commit batch (src/services/signin.ts passkeyFinish `admit`):
      // a fault anywhere leaves nothing, or the whole sign-in with its session (a lost answer after the commit).
    });
  });

  it("OIDC: authorize with a live session, and the resume step (issue the code)", async () => {
    const codeStored = async (res: Response) => {
      const code = codeOf(res);
      expect(code, "a redirect with a code").toBeTruthy();
      expect((await codeRow(code!))?.consumed_at).toBeNull();
    };
    await check({
      name: "authorize with a session",
      prepare: async () => ({ ...(await signedIn()), verifier: randomPKCECodeVerifier() }),
      step: async (c, b) => {
        const res = await authorizeRes(b, c.verifier, c.cookie);
        if (res.status === 302) await codeStored(res.clone());
        return res;
      },
      success: 302,
      watch: OIDC_TABLES,
      retry: async (c) => void (await wholeFlow(c.auth)),
    });
    await check({
      name: "authorize resume",
      prepare: signedIn,
      step: async (c, b) => {
        const res = await resumeRes(b, c.authz, c.cookie);
        if (res.status === 302) await codeStored(res.clone());
        return res;
      },
      success: 302,
      watch: OIDC_TABLES,
      retry: async (c) => void (await wholeFlow(c.auth)),
    });
  });

  it("OIDC: token endpoint, authorization_code", async () => {
    await check({
      name: "token (authorization_code)",
      prepare: async () => {
        const s = await signedIn();
        const code = codeOf(await resumeRes(env, s.authz, s.cookie));
        expect(code).toBeTruthy();
        return { ...s, code: code! };
      },
      step: (c, b) => codeGrant(b, c.code, c.verifier),
      success: 200,
      watch: OIDC_TABLES,
      committed: async (c, res) => {
        const t = res as Tokens;
        expect(t.refresh_token).toBeTruthy();
        expect((await codeRow(c.code))?.consumed_at, "tokens only with the code consumed").not.toBeNull();
        expect(await liveInFamily((await familyOf(t.refresh_token!))!)).toBe(1);
      },
      retry: async (c) => {
        // The client repeats its token request with the same code: a code the failed request did not consume still
        // works; one it consumed (its answer lost) is a replay: invalid_grant, and the family it started is revoked.
        const row = await codeRow(c.code);
        const again = await tokenRes(env, {
          grant_type: "authorization_code",
          code: c.code,
          redirect_uri: REDIRECT,
          code_verifier: c.verifier,
        });
        const text = await again.text();
        if (row?.consumed_at == null) {
          expect(again.status, `an unconsumed code still redeems: ${text}`).toBe(200);
          tally("token (authorization_code)", "same code redeemed (200)");
        } else {
          expect(again.status, text).toBe(400);
          expect(JSON.parse(text)).toMatchObject({ error: "invalid_grant" });
          expect(await liveInFamily((await codeRow(c.code))!.family_id!), "the replay revoked what the lost answer issued").toBe(0);
          tally("token (authorization_code)", "same code replayed (400 invalid_grant, family revoked)");
        }
        await wholeFlow(c.auth);
      },
    });
  });

  it("OIDC: token endpoint, refresh_token", async () => {
    await check({
      name: "token (refresh_token)",
      prepare: async () => {
        const e = await enrolled(smart.pool, "smart");
        const f = await wholeFlow(e.auth);
        return { ...e, refresh: f.tokens.refresh_token!, family: (await familyOf(f.tokens.refresh_token!))! };
      },
      step: (c, b) => refreshGrant(b, c.refresh),
      success: 200,
      watch: OIDC_TABLES,
      committed: async (c, res) => {
        const t = res as Tokens;
        expect(await familyOf(t.refresh_token!)).toBe(c.family);
        expect(await liveInFamily(c.family), "one usable refresh token per family").toBe(1);
      },
      retry: async (c) => {
        expect(await liveInFamily(c.family), "never two usable refresh tokens of one family").toBeLessThanOrEqual(1);
        // The client holds only the token it presented. Not rotated (fault before the batch committed): it still works.
        // Rotated (the answer lost): reuse detection revokes the family; the user signs in again.
        const rotated = await n(
          "SELECT count(*) AS n FROM oidc_refresh_tokens WHERE token_hash = ? AND rotated_at IS NOT NULL",
          await hash(c.refresh),
        );
        const again = await refreshGrant(env, c.refresh);
        const text = await again.text();
        if (!rotated) {
          expect(again.status, `an unrotated token still refreshes: ${text}`).toBe(200);
          tally("token (refresh_token)", "same token refreshed (200)");
        } else {
          expect(again.status, text).toBe(400);
          expect(JSON.parse(text)).toMatchObject({ error: "invalid_grant" });
          expect(await liveInFamily(c.family), "reuse revoked the family, the lost successor included").toBe(0);
          tally("token (refresh_token)", "rotated token reused (400 invalid_grant, family revoked; the user signs in again)");
        }
        await wholeFlow(c.auth);
      },
    });
  });

  it("OIDC: revocation and logout", async () => {
    await check({
      name: "revocation",
      prepare: async () => {
        const e = await enrolled(smart.pool, "smart");
        const f = await wholeFlow(e.auth);
        return { ...e, refresh: f.tokens.refresh_token!, family: (await familyOf(f.tokens.refresh_token!))! };
      },
      step: (c, b) => revokeRes(b, c.refresh),
      success: 200,
      watch: OIDC_TABLES,
      committed: async (c) => expect(await liveInFamily(c.family)).toBe(0),
      retry: async (c) => {
        await ok(await revokeRes(env, c.refresh));
        expect(await liveInFamily(c.family), "a repeated revocation revokes").toBe(0);
        await wholeFlow(c.auth);
      },
    });
    await check({
      name: "logout",
      prepare: async () => {
        const e = await enrolled(smart.pool, "smart");
        return { ...e, ...(await wholeFlow(e.auth)) };
      },
      step: (c, b) => logoutRes(b, c.tokens.id_token, c.cookie),
      success: 302,
      watch: OIDC_TABLES,
      committed: async (c) => expect(await liveOfUser(c.user.id)).toEqual({ sessions: 0, refresh: 0, codes: 0 }),
      retry: async (c) => {
        const again = await logoutRes(env, c.tokens.id_token, c.cookie);
        expect(again.status).toBe(302);
        expect(location(again).searchParams.get("state")).toBe("bye");
        expect(await liveOfUser(c.user.id), "after the repeated logout nothing of the session is live").toEqual({
          sessions: 0,
          refresh: 0,
          codes: 0,
        });
        await wholeFlow(c.auth);
      },
    });
  });

  it("system API: user deactivation and deletion end the sessions", async () => {
    const prepare = async () => {
      const e = await enrolled(smart.pool, "smart");
      await wholeFlow(e.auth);
      return e;
    };
    const userPath = (userId: string) => sysPath(`/pools/${smart.pool}/users/${userId}`);
    const deactivate = (b: Cloudflare.Env, userId: string) =>
      send(b, "PUT", userPath(userId), { token: SYS, body: { status: "inactive" } });
    await check({
      name: "user deactivation",
      prepare,
      step: (c, b) => deactivate(b, c.user.id),
      success: 200,
      watch: [...OIDC_TABLES, "users"],
      committed: async (c) => {
        expect(await userStatus(c.user.id)).toBe("inactive");
        expect(await liveOfUser(c.user.id)).toEqual({ sessions: 0, refresh: 0, codes: 0 });
      },
      retry: async (c) => {
        const live = await liveOfUser(c.user.id);
        if ((await userStatus(c.user.id)) === "inactive")
          expect(live, "an inactive user has no live session or refresh token").toEqual({ sessions: 0, refresh: 0, codes: 0 });
        await ok(await deactivate(env, c.user.id));
        expect(await liveOfUser(c.user.id)).toEqual({ sessions: 0, refresh: 0, codes: 0 });
      },
    });
    await check({
      name: "user deletion",
      prepare,
      step: (c, b) => send(b, "DELETE", userPath(c.user.id), { token: SYS }),
      success: 204,
      watch: [...OIDC_TABLES, "users", "identifiers", "verifiable_addresses"],
      committed: async (c) => {
        expect(await userStatus(c.user.id)).toBeUndefined();
        expect(await liveOfUser(c.user.id)).toEqual({ sessions: 0, refresh: 0, codes: 0 });
      },
      retry: async (c) => {
        const again = await send(env, "DELETE", userPath(c.user.id), { token: SYS });
        expect([204, 404], await again.text()).toContain(again.status);
        expect(await userStatus(c.user.id)).toBeUndefined();
        expect(await liveOfUser(c.user.id)).toEqual({ sessions: 0, refresh: 0, codes: 0 });
      },
    });
  });

  it("system API: deleting a user's last passkey ends the sessions", async () => {
    const passkeyPath = (userId: string, id: string) => sysPath(`/pools/${smart.pool}/users/${userId}/webauthn/${id}`);
    const onlyPasskey = async (userId: string) =>
      (await env.DB.prepare("SELECT id FROM credentials WHERE user_id = ? AND type = 'webauthn'").bind(userId).first<{ id: string }>())?.id;
    await check({
      name: "system passkey delete (the last one)",
      prepare: async () => {
        const e = await enrolled(smart.pool, "smart");
        await wholeFlow(e.auth);
        return { ...e, id: (await onlyPasskey(e.user.id))! };
      },
      step: (c, b) => send(b, "DELETE", passkeyPath(c.user.id, c.id), { token: SYS }),
      success: 204,
      watch: OIDC_TABLES,
      committed: async (c) => {
        expect(await onlyPasskey(c.user.id)).toBeUndefined();
        expect(await liveOfUser(c.user.id)).toEqual({ sessions: 0, refresh: 0, codes: 0 });
      },
      retry: async (c) => {
        if ((await onlyPasskey(c.user.id)) === undefined)
          expect(await liveOfUser(c.user.id), "a user without a passkey has no live session or refresh token").toEqual({
            sessions: 0,
            refresh: 0,
            codes: 0,
          });
        const again = await send(env, "DELETE", passkeyPath(c.user.id, c.id), { token: SYS });
        expect([204, 404], await again.text()).toContain(again.status);
        expect(await liveOfUser(c.user.id)).toEqual({ sessions: 0, refresh: 0, codes: 0 });
      },
    });
  });

  it("self-service: passkey delete and rename", async () => {
    const selfPath = (id: string) => `/default/${smart.wid}/identity/v2/self/webauthn/${id}`;
    const prepare = async () => {
      const e = await enrolled(smart.pool, "smart");
      const second = await enroll(new SoftAuthenticator(), smart.pool, e.user.id, "smart");
      const token = await userToken({ wid: smart.wid, pool: smart.pool, userId: e.user.id });
      const id = second.credentials.find((p) => p.payload.credential_id === second.response.id)!.id;
      return { ...e, token, id };
    };
    const passkey = (id: string) => env.DB.prepare("SELECT name FROM credentials WHERE id = ?").bind(id).first<{ name: string | null }>();
    await check({
      name: "self-service passkey delete",
      prepare,
      step: (c, b) => send(b, "DELETE", selfPath(c.id), { token: c.token }),
      success: 204,
      committed: async (c) => expect(await passkey(c.id)).toBeNull(),
      retry: async (c) => {
        const again = await send(env, "DELETE", selfPath(c.id), { token: c.token });
        expect([204, 404], await again.text()).toContain(again.status);
        expect(await passkey(c.id)).toBeNull();
      },
    });
    await check({
      name: "self-service passkey rename",
      prepare,
      step: (c, b) => send(b, "PUT", `${selfPath(c.id)}/name`, { token: c.token, body: { name: "Laptop" } }),
      success: 204,
      committed: async (c) => expect((await passkey(c.id))?.name).toBe("Laptop"),
      retry: async (c) => {
        await ok(await send(env, "PUT", `${selfPath(c.id)}/name`, { token: c.token, body: { name: "Laptop" } }), 204);
        expect((await passkey(c.id))?.name).toBe("Laptop");
      },
    });
  });
});
