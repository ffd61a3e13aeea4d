/**
 * Storage budgets of the sign-in path (issue 11, items 1 and 5), counted through the Worker's real entrypoint
 * (test/helpers/storage-use.ts). Each world warms the isolate's caches first (workspace + pool configuration, the
 * tenant's signing keys, derived keys) with a complete sign-in; then one request is measured. `critical` is what ran
 * before the answer; `deferred` what was handed to waitUntil. docs/storage.md lists the same numbers.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { workspaceConfig } from "../src/repo/config-cache";
import { SoftAuthenticator } from "./authenticator";
import { expectError, json, ORIGIN, sys, uid } from "./helpers/api";
import { FaultPlan, faultyEnv, type StorageUse, storageUse } from "./helpers/faults";
import { pendingAuthorization, publicClient } from "./helpers/hosted";
import { enroll, newUser } from "./helpers/passkeys";
import { finish, options, type Options, optionsRes, password, setup } from "./helpers/signin";
import { describeCalls, type Measured, measuredFetch, measuredPost } from "./helpers/storage-use";

const PASSWORD = "correct horse battery staple";

interface Budget {
  d1RoundTrips: number;
  kvReads?: number;
  kvWrites?: number;
}

/** Exact numbers: D1 round trips, KV reads and writes as given, no KV delete or list before the answer. */
function expectUse(use: StorageUse, b: Budget) {
  const msg = describeCalls(use);
  expect(use.d1RoundTrips, msg).toBe(b.d1RoundTrips);
  expect(use.kvReads, msg).toBe(b.kvReads ?? 0);
  expect(use.kvWrites, msg).toBe(b.kvWrites ?? 0);
  expect(use.kvDeletes, msg).toBe(0);
  expect(use.kvLists, msg).toBe(0);
}

/** Nothing left for waitUntil either. */
const expectNoDeferred = (m: Measured) => expect(m.deferred.calls.length, describeCalls(m.deferred)).toBe(0);

/** A workspace with a user (password + passkey) whose caches are warm: one complete sign-in went through. */
async function world(mode: "smart" | "classic", poolBody: Record<string, unknown> = {}) {
  const { pool, wid } = await setup(mode, poolBody);
  const user = await newUser(pool, "default", { credentials: [{ type: "password", password: PASSWORD }] });
  const auth = new SoftAuthenticator();
  await enroll(auth, pool, user.id, mode);
  const body = mode === "smart" ? {} : { identifier: user.email };
  const first = await json<{ login_id?: string; access_token?: string }>(
    await password(wid, { identifier: user.email, password: PASSWORD }),
  );
  const warm = await options(wid, first.access_token ? body : { login_id: first.login_id });
  await json(await finish(wid, warm.login_id, await auth.authenticate(warm.publicKey, { origin: ORIGIN })));
  return { pool, wid, user, auth, body };
}

describe("passkey sign-in", () => {
  for (const mode of ["smart", "classic"] as const) {
    it(`${mode}: options ${mode === "smart" ? "0 D1" : "1 D1 (classicTarget)"} + 1 KV write; finish 2 D1 + 1 KV read, no clean-up`, async () => {
      const w = await world(mode);
      const o = await measuredPost(`/default/${w.wid}/login/webauthn/options`, w.body);
      const opts = await json<Options>(o.res);
      expectUse(o.critical, { d1RoundTrips: mode === "smart" ? 0 : 1, kvWrites: 1 });
      expectNoDeferred(o);

      const credential = await w.auth.authenticate(opts.publicKey, { origin: ORIGIN });
      const f = await measuredPost(`/default/${w.wid}/login/webauthn/finish`, { login_id: opts.login_id, credential });
      expect(await json(f.res)).toHaveProperty("access_token");
      // The credential with everything its checks need (one read), then the commit batch; the login record is left to
      // its TTL (its challenge is consumed in D1).
      expectUse(f.critical, { d1RoundTrips: 2, kvReads: 1 });
      expect(f.critical.d1Statements, describeCalls(f.critical)).toBe(4); // 1 read + consume, update, audit
      expectNoDeferred(f);
    });
  }

  it("finish with a pending OIDC authorization: the same 2 D1 round trips, the provider session in the commit batch; +1 KV read", async () => {
    const w = await world("smart");
    const { authz } = await pendingAuthorization(w.wid, {
      clientId: await publicClient(w.wid, { redirect: "https://app.example.com/cb", scopes: ["openid"] }),
      redirect: "https://app.example.com/cb",
      scope: "openid",
    });
    const opts = await options(w.wid, w.body);
    const credential = await w.auth.authenticate(opts.publicKey, { origin: ORIGIN });
    const f = await measuredPost(`/default/${w.wid}/login/webauthn/finish`, { login_id: opts.login_id, credential, authz });
    expect(await json(f.res)).toHaveProperty("continue_url");
    // The pending authorization is read beside the sign-in transaction; the session row joins the commit batch.
    expectUse(f.critical, { d1RoundTrips: 2, kvReads: 2 });
    expect(f.critical.d1Statements, describeCalls(f.critical)).toBe(5); // 1 read + consume, update, audit, session
    expectNoDeferred(f);
  });

  it("Classic options for an unknown identifier (a decoy) cost what a real user's cost", async () => {
    const w = await world("classic");
    const o = await measuredPost(`/default/${w.wid}/login/webauthn/options`, { identifier: `${uid("nobody")}@example.com` });
    await json(o.res);
    expectUse(o.critical, { d1RoundTrips: 1, kvWrites: 1 });
  });

  it("second factor: password 3 D1 + 1 KV write; options {login_id} 1 D1 + 1 KV read + 1 KV write; finish 2 D1 + 1 KV read", async () => {
    const w = await world("classic", { authentication_mechanisms: ["password"], second_factor_authentication_mechanisms: ["webauthn"] });
    const p = await measuredPost(`/default/${w.wid}/login/password`, { identifier: w.user.email, password: PASSWORD });
    const first = await json<{ login_id: string; next: string[] }>(p.res);
    expect(first.next).toEqual(["webauthn"]);
    // The user with its password hash and passkeys; the lockout counter's slot taken, then given back (D1, atomic).
    expectUse(p.critical, { d1RoundTrips: 3, kvWrites: 1 });

    const o = await measuredPost(`/default/${w.wid}/login/webauthn/options`, { login_id: first.login_id });
    const opts = await json<Options>(o.res);
    expectUse(o.critical, { d1RoundTrips: 1, kvReads: 1, kvWrites: 1 });

    const credential = await w.auth.authenticate(opts.publicKey, { origin: ORIGIN });
    const f = await measuredPost(`/default/${w.wid}/login/webauthn/finish`, { login_id: opts.login_id, credential });
    expect(await json(f.res)).toHaveProperty("access_token");
    expectUse(f.critical, { d1RoundTrips: 2, kvReads: 1 });
    expectNoDeferred(f);
  });
});

describe("password sign-in", () => {
  it("one factor: 3 D1 round trips (the user; the lockout counter's slot taken and given back), no KV", async () => {
    const w = await world("smart");
    const p = await measuredPost(`/default/${w.wid}/login/password`, { identifier: w.user.email, password: PASSWORD });
    expect(await json(p.res)).toHaveProperty("access_token");
    expectUse(p.critical, { d1RoundTrips: 3 });
    expectNoDeferred(p);
  });
});

describe("configuration reads", () => {
  const APP = "https://app.example.com";

  it("GET /login/config: no storage at all with a warm cache, with or without a cross-origin Origin", async () => {
    const w = await setup("smart", { passkey_settings: { relying_party_id: "example.com", relying_party_origins: [APP] } });
    const path = `/default/${w.wid}/login/config`;
    const cold = await measuredFetch(path);
    await json(cold.res);
    expect(cold.critical.d1RoundTrips, describeCalls(cold.critical)).toBe(1); // the miss: one batch
    for (const origin of [undefined, ORIGIN, APP, "https://other.example.org"]) {
      const m = await measuredFetch(path, { headers: origin ? { origin } : {} });
      await json(m.res);
      expectUse(m.critical, { d1RoundTrips: 0 });
      expect(m.res.headers.get("access-control-allow-origin"), origin).toBe(origin === APP ? APP : null);
    }
  });

  it("CORS of token, revocation and userinfo (the OIDC clients' redirect-URI origins): no extra D1 read", async () => {
    const { wid } = await setup("smart");
    const spa = `https://${uid("spa")}.example`;
    await json(
      await sys("POST", `/workspaces/${wid}/clients`, {
        body: { client_name: "SPA", redirect_uris: [`${spa}/cb`], token_endpoint_auth_method: "none" },
      }),
      201,
    );
    const form = (headers: Record<string, string>) => ({
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
      body: "grant_type=refresh_token",
    });
    for (const path of ["oauth2/token", "oauth2/revoke", "userinfo"]) {
      const url = `/default/${wid}/${path}`;
      await (await measuredFetch(url, form({ origin: spa }))).res.arrayBuffer(); // warm
      const plain = await measuredFetch(url, form({}));
      await plain.res.arrayBuffer();
      const cross = await measuredFetch(url, form({ origin: spa }));
      await cross.res.arrayBuffer();
      expect(cross.res.headers.get("access-control-allow-origin"), path).toBe(spa);
      expect(cross.critical.d1RoundTrips, `${path}\n${describeCalls(cross.critical)}`).toBe(plain.critical.d1RoundTrips);
      const pre = await measuredFetch(url, { method: "OPTIONS", headers: { origin: spa, "access-control-request-method": "POST" } });
      expect(pre.res.status, path).toBe(204);
      expectUse(pre.critical, { d1RoundTrips: 0 });
    }
  });
});

describe("configuration cache", () => {
  it("a change through the system API applies at once in this isolate", async () => {
    const w = await world("smart");
    expect((await options(w.wid)).publicKey.userVerification).toBe("required");
    await json(await sys("PUT", `/pools/${w.pool}`, { body: { passkey_settings: { user_verification: "preferred" } } }));
    expect((await options(w.wid)).publicKey.userVerification).toBe("preferred");
    await json(await sys("PUT", `/workspaces/${w.wid}`, { body: { authentication_mechanisms: ["password"] } }));
    await expectError(await optionsRes(w.wid), 400, "method_not_enabled");
  });

  it("another isolate's change (a direct D1 write) applies within TTL.config (30 s), judged by the caller's now", async () => {
    const { wid } = await setup("smart");
    const plan = new FaultPlan();
    const db = faultyEnv(env, plan).DB;
    const t0 = Date.now();
    const at = async (ms: number) => (await workspaceConfig(db, "default", wid, t0 + ms))?.workspace.name;
    const before = await at(0);
    await env.DB.prepare("UPDATE workspaces SET name = 'renamed elsewhere' WHERE tenant_id = 'default' AND id = ?").bind(wid).run();
    expect(await at(29_999)).toBe(before);
    expect(await at(-1)).toBe("renamed elsewhere"); // a clock before the entry's: stale too
    expect(await at(30_000)).toBe("renamed elsewhere");
    expect(storageUse(plan.calls).d1RoundTrips, describeCalls(storageUse(plan.calls))).toBe(3);
  });

  it("an unknown workspace is not cached; its misses read configuration through a D1 session (a replica may answer)", async () => {
    const sessions: (string | undefined)[] = [];
    const db = {
      withSession: (constraint?: string) => {
        sessions.push(constraint);
        return env.DB.withSession(constraint);
      },
    } as unknown as D1Database;
    const wid = uid("ws");
    expect(await workspaceConfig(db, "default", wid, Date.now())).toBeUndefined();
    expect(await workspaceConfig(db, "default", wid, Date.now())).toBeUndefined();
    expect(sessions).toEqual(["first-unconstrained", "first-unconstrained"]);
  });
});
