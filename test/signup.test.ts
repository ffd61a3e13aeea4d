/**
 * Passkey sign-up (issue 12 item 1): /{tid}/{wid}/signup/request, /webauthn/options, /webauthn/complete, driven through
 * SELF.fetch with the software authenticator; codes come from the development outbox.
 */
import type { PublicKeyCredentialCreationOptionsJSON, RegistrationResponseJSON } from "@simplewebauthn/server";
import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { SoftAuthenticator } from "./authenticator";
import { call, expectError, json, ORIGIN, sys, uid } from "./helpers/api";
import { send } from "./helpers/fault-sweep";
import { FaultPlan, faultyEnv } from "./helpers/faults";
import { messagesTo, pendingAuthorization, publicClient } from "./helpers/hosted";
import { count, newPool, newUser } from "./helpers/passkeys";
import { finish, newWorkspace, options as signinOptions, type Tokens, verifyWithJwks } from "./helpers/signin";
import { describeCalls, measuredPost } from "./helpers/storage-use";

type Creation = { publicKey: PublicKeyCredentialCreationOptionsJSON };

const SIGN_UP = { self_service: { sign_up: true } };

/** A pool that takes sign-ups (and its settings) and a workspace over it in the mode. */
async function signupWorkspace(mode: "smart" | "classic", poolBody: Record<string, unknown> = {}) {
  const pool = await newPool({ ...SIGN_UP, ...poolBody });
  const wid = await newWorkspace([mode === "smart" ? "usernameless_webauthn" : "webauthn"], [pool]);
  return { pool, wid };
}

const path = (wid: string, step: string) => `/default/${wid}/signup/${step}`;
const request = (wid: string, address: string) => call("POST", path(wid, "request"), { body: { address } });
const optionsRes = (wid: string, signup_id: string, code: string) =>
  call("POST", path(wid, "webauthn/options"), { body: { signup_id, code } });
const completeRes = (wid: string, body: Record<string, unknown>) => call("POST", path(wid, "webauthn/complete"), { body });

/** request, and the code the address received. */
async function requested(wid: string, address: string, typed = address): Promise<{ signup_id: string; code: string }> {
  const { signup_id } = await json<{ signup_id: string }>(await request(wid, typed));
  const [m] = await messagesTo(address);
  expect(m?.purpose).toBe("sign_up");
  return { signup_id, code: m!.code };
}

/** request, options with the right code, and the authenticator's answer. */
async function registered(wid: string, address: string, auth = new SoftAuthenticator(), typed = address) {
  const { signup_id, code } = await requested(wid, address, typed);
  const { publicKey } = await json<Creation>(await optionsRes(wid, signup_id, code));
  const credential = await auth.register(publicKey, { origin: ORIGIN });
  return { signup_id, code, publicKey, credential, auth };
}

const userIdsWith = async (pool: string, address: string) =>
  (
    await env.DB.prepare("SELECT user_id FROM identifiers WHERE pool_id = ? AND identifier_key = ?")
      .bind(pool, address.toLowerCase())
      .all<{ user_id: string }>()
  ).results.map((r) => r.user_id);

const signupRow = (id: string) =>
  env.DB.prepare("SELECT attempts, user_id FROM signups WHERE id = ?").bind(id).first<{ attempts: number; user_id: string }>();

type UserDetails = {
  id: string;
  identifiers: { identifier: string; type: string }[];
  verifiable_addresses: { address: string; type: string; verified: boolean }[];
  credentials: { type: string; discoverable_id: string; payload: { credential_id: string } }[];
};

describe("sign-up: happy paths", () => {
  it("Smart: email + code + passkey makes the account in one go, signs in, and the passkey then signs in with no username", async () => {
    const { pool, wid } = await signupWorkspace("smart");
    const address = `${uid("new")}@Example.com`;
    const { signup_id, code, publicKey, credential, auth } = await registered(wid, address, undefined, `  ${address} `);
    expect(publicKey.authenticatorSelection).toMatchObject({ residentKey: "required", requireResidentKey: true });
    expect(publicKey.user.name).toBe(address);
    expect(await userIdsWith(pool, address)).toEqual([]); // no account before the passkey is stored

    const res = await completeRes(wid, { signup_id, code, credential });
    expect(res.headers.get("cache-control")).toBe("no-store");
    const tokens = await json<Tokens & { continue_url?: string }>(res);
    expect(tokens).toMatchObject({ token_type: "Bearer", scope: "view_ss_profile manage_ss_profile" });
    expect(tokens.continue_url).toBeUndefined();
    const claims = await verifyWithJwks(tokens.access_token);
    const [userId] = await userIdsWith(pool, address);
    expect(claims).toMatchObject({ sub: userId, wid, pool_id: pool });
    expect(claims.amr).toEqual(["pop", "hwk", "user"]); // the software authenticator's passkey is device-bound by default

    const user = await json<UserDetails>(await sys("GET", `/pools/${pool}/users/${userId}`));
    expect(user.identifiers).toEqual([{ identifier: address, type: "email" }]);
    expect(user.verifiable_addresses).toEqual([expect.objectContaining({ address, type: "email", verified: true })]);
    expect(user.credentials).toHaveLength(1);
    expect(user.credentials[0]).toMatchObject({ type: "webauthn", payload: { credential_id: credential.id } });
    expect(user.credentials[0]!.discoverable_id).not.toBe("");
    expect(await signupRow(signup_id)).toBeNull();
    const created = await env.DB.prepare("SELECT pool_id, actor, details FROM audit_events WHERE user_id = ? AND type = 'user.created'")
      .bind(userId)
      .all<{ pool_id: string; actor: string; details: string }>();
    expect(created.results.map((r) => ({ ...r, details: JSON.parse(r.details) }))).toEqual([
      { pool_id: pool, actor: `user:${userId}`, details: { via: "sign_up", workspace_id: wid } },
    ]);

    // Signed out, back in with the one-tap passkey and no username.
    const opts = await signinOptions(wid, {});
    expect(opts.publicKey.allowCredentials ?? []).toEqual([]);
    const assertion = await auth.authenticate(opts.publicKey, { origin: ORIGIN });
    const again = await json<Tokens>(await finish(wid, opts.login_id, assertion));
    expect((await verifyWithJwks(again.access_token)).sub).toBe(userId);
  });

  it("Classic: a non-discoverable passkey, then Classic sign-in with the address", async () => {
    const { pool, wid } = await signupWorkspace("classic");
    const address = `${uid("classic")}@example.com`;
    const { signup_id, code, publicKey, credential, auth } = await registered(wid, address);
    expect(publicKey.authenticatorSelection).toMatchObject({ residentKey: "discouraged", requireResidentKey: false });
    const tokens = await json<Tokens>(await completeRes(wid, { signup_id, code, credential, scope: "openid view_ss_profile" }));
    expect(tokens.scope).toBe("openid view_ss_profile");
    const [userId] = await userIdsWith(pool, address);

    const opts = await signinOptions(wid, { identifier: address.toUpperCase() });
    expect(opts.publicKey.allowCredentials?.map((c) => c.id)).toEqual([credential.id]);
    const again = await json<Tokens>(await finish(wid, opts.login_id, await auth.authenticate(opts.publicKey, { origin: ORIGIN })));
    expect((await verifyWithJwks(again.access_token)).sub).toBe(userId);
  });

  it("a synced passkey reports swk; the first pool with sign-up on receives the user", async () => {
    const closed = await newPool({});
    const open = await newPool(SIGN_UP);
    const wid = await newWorkspace(["usernameless_webauthn"], [closed, open]);
    const address = `${uid("hw")}@example.com`;
    const { signup_id, code, publicKey } = await registered(wid, address);
    const credential = await new SoftAuthenticator().register(publicKey, { origin: ORIGIN, flags: { be: true, bs: true } });
    const tokens = await json<Tokens>(await completeRes(wid, { signup_id, code, credential }));
    expect((await verifyWithJwks(tokens.access_token)).amr).toEqual(["pop", "swk", "user"]);
    expect(await userIdsWith(open, address)).toHaveLength(1);
    expect(await userIdsWith(closed, address)).toEqual([]);
  });
});

describe("sign-up: for an app (OpenID Connect)", () => {
  it("an authorization without a session → sign-up with authz → the session cookie, and the resume step issues the code", async () => {
    const { pool, wid } = await signupWorkspace("smart");
    const REDIRECT = "http://localhost:3000/callback";
    const clientId = await publicClient(wid, { redirect: REDIRECT, scopes: ["openid", "email"] });
    const get = (p: string, cookie?: string) =>
      SELF.fetch(`${ORIGIN}${p}`, { redirect: "manual", headers: { accept: "text/html", ...(cookie && { cookie }) } });
    const { login: toLogin, authz } = await pendingAuthorization(wid, { clientId, redirect: REDIRECT, scope: "openid email" });
    expect(authz).toBeTruthy();
    // The sign-in page offers sign-up, keeping authz.
    const page = await (await get(`${toLogin.pathname}${toLogin.search}`)).text();
    expect(page).toContain(`/default/${wid}/signup?authz=${authz}`);

    const { signup_id, code, credential } = await registered(wid, `${uid("app")}@example.com`);
    const res = await completeRes(wid, { signup_id, code, credential, authz });
    const body = await json<{ continue_url: string; providerSession?: unknown }>(res);
    expect(body.providerSession).toBeUndefined();
    expect(body.continue_url).toBe(`/default/${wid}/oauth2/authorize/resume?authz=${authz}`);
    const cookie = (res.headers.get("set-cookie") ?? "").split(";")[0]!;
    expect(cookie).toMatch(/^pe_session=/);
    const back = new URL((await get(body.continue_url, cookie)).headers.get("location")!, ORIGIN);
    expect(back.origin + back.pathname).toBe(REDIRECT);
    expect(back.searchParams.get("code")).toBeTruthy();
    expect(back.searchParams.get("state")).toBe("st");
    expect(await count("oidc_sessions", "pool_id = ?", pool)).toBe(1);
  });
});

describe("sign-up: no enumeration, no second account", () => {
  it("an address with an account gets the same answers, a notice instead of a code, and cannot complete", async () => {
    const { pool, wid } = await signupWorkspace("smart");
    const owner = await newUser(pool);
    const fresh = `${uid("fresh")}@example.com`;
    const a = await json<{ signup_id: string }>(await request(wid, owner.email.toUpperCase()));
    const b = await json<{ signup_id: string }>(await request(wid, fresh));
    expect(Object.keys(a)).toEqual(["signup_id"]);
    expect(a.signup_id).toHaveLength(b.signup_id.length);

    const toOwner = await messagesTo(owner.email.toUpperCase());
    expect(toOwner).toEqual([expect.objectContaining({ purpose: "sign_up_existing_account", code: "" })]);
    const [toFresh] = await messagesTo(fresh);

    // Every later step fails like a wrong code, even with the code of another sign-up.
    await expectError(await optionsRes(wid, a.signup_id, toFresh!.code), 401, "otp_invalid");
    await expectError(await optionsRes(wid, b.signup_id, "00000000"), 401, "otp_invalid");
    expect((await signupRow(a.signup_id))!.attempts).toBe(1);
    expect((await signupRow(b.signup_id))!.attempts).toBe(1);

    // A registration made for the other sign-up cannot be completed on this one.
    const { publicKey } = await json<Creation>(await optionsRes(wid, b.signup_id, toFresh!.code));
    const credential = await new SoftAuthenticator().register(publicKey, { origin: ORIGIN });
    await expectError(await completeRes(wid, { signup_id: a.signup_id, code: toFresh!.code, credential }), 400, "registration_failed");
    expect(await userIdsWith(pool, owner.email)).toEqual([owner.id]);
  });

  it("an address verified by a user of another pool of the workspace counts as taken", async () => {
    const other = await newPool({});
    const open = await newPool(SIGN_UP);
    const wid = await newWorkspace(["usernameless_webauthn"], [other, open]);
    const owner = await newUser(other);
    await json(await request(wid, owner.email));
    expect(await messagesTo(owner.email)).toEqual([expect.objectContaining({ purpose: "sign_up_existing_account" })]);
  });

  it("five wrong codes kill the code; every failure is the same 401", async () => {
    const { wid } = await signupWorkspace("smart");
    const address = `${uid("wrong")}@example.com`;
    const { signup_id, code } = await requested(wid, address);
    const wrong = code === "00000000" ? "11111111" : "00000000";
    for (let i = 0; i < 5; i++) {
      const body = await expectError(await optionsRes(wid, signup_id, wrong), 401, "otp_invalid");
      expect(body.details).toEqual({});
    }
    await expectError(await optionsRes(wid, signup_id, code), 401, "otp_invalid");
    await expectError(await optionsRes(wid, "no-such-signup", code), 401, "otp_invalid");
    expect((await signupRow(signup_id))!.attempts).toBe(5);
  });

  it("wrong codes count per address and day (the pool's otp_failures_per_day): then 429 even for the right code", async () => {
    const { wid } = await signupWorkspace("smart", { limits: { otp_failures_per_day: 2 } });
    const address = `${uid("daily")}@example.com`;
    const first = await requested(wid, address);
    await expectError(await optionsRes(wid, first.signup_id, "99999999x"), 401, "otp_invalid");
    await expectError(await optionsRes(wid, first.signup_id, "99999999y"), 401, "otp_invalid");
    const res = await optionsRes(wid, first.signup_id, first.code);
    await expectError(res.clone(), 429, "rate_limited");
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
  });

  it("requests per address are limited by the pool's otp_requests_per_hour, for new and existing addresses alike", async () => {
    const { pool, wid } = await signupWorkspace("smart", { limits: { otp_requests_per_hour: 1 } });
    const owner = await newUser(pool);
    for (const address of [`${uid("lim")}@example.com`, owner.email]) {
      await json(await request(wid, address));
      const res = await request(wid, address.toUpperCase());
      await expectError(res.clone(), 429, "rate_limited");
      expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
      expect(await messagesTo(address)).toHaveLength(1);
    }
  });

  it("parallel completes of one sign-up make exactly one account", async () => {
    const { pool, wid } = await signupWorkspace("smart");
    const address = `${uid("race")}@example.com`;
    const { signup_id, code, credential } = await registered(wid, address);
    // A second registration of the same sign-up (another options call, another authenticator).
    const { publicKey } = await json<Creation>(await optionsRes(wid, signup_id, code));
    const other = await new SoftAuthenticator().register(publicKey, { origin: ORIGIN });
    const results = await Promise.all([
      completeRes(wid, { signup_id, code, credential }),
      completeRes(wid, { signup_id, code, credential }),
      completeRes(wid, { signup_id, code, credential: other }),
    ]);
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 401, 401]);
    const users = await userIdsWith(pool, address);
    expect(users).toHaveLength(1);
    expect(await count("credentials", "user_id = ? AND type = 'webauthn'", users[0])).toBe(1);
    expect(await count("audit_events", "user_id = ? AND type = 'user.created'", users[0])).toBe(1);
    // And later: the same answer.
    await expectError(await completeRes(wid, { signup_id, code, credential }), 401, "otp_invalid");
  });

  it("a complete that read the sign-up before another committed it makes nothing and audits nothing", async () => {
    // The interleaving the parallel test above meets only under load, made certain: the loser's reads run, its commit
    // batch waits until the winner's complete has landed, then runs against the consumed sign-up.
    const { pool, wid } = await signupWorkspace("smart");
    const address = `${uid("late")}@example.com`;
    const { signup_id, code, credential } = await registered(wid, address);
    const { publicKey } = await json<Creation>(await optionsRes(wid, signup_id, code));
    const other = await new SoftAuthenticator().register(publicKey, { origin: ORIGIN });
    let release = () => {};
    const held = new Promise<void>((r) => {
      release = r;
    });
    const plan = FaultPlan.holdNth("d1", 1, undefined, held); // the 2nd D1 round trip: the commit batch
    const loser = send(faultyEnv(env, plan), "POST", path(wid, "webauthn/complete"), { body: { signup_id, code, credential: other } });
    await json(await completeRes(wid, { signup_id, code, credential }));
    release();
    await expectError(await loser, 401, "otp_invalid");
    expect(plan.calls.filter((c) => c.kind === "d1").map((c) => c.op)).toEqual(["batch", "batch"]);
    const users = await userIdsWith(pool, address);
    expect(users).toHaveLength(1);
    expect(await count("credentials", "user_id = ? AND type = 'webauthn'", users[0])).toBe(1);
    expect(await count("audit_events", "user_id = ? AND type = 'user.created'", users[0])).toBe(1);
  });

  it("an identifier taken meanwhile (an administrator made the user) fails cleanly with no second account", async () => {
    const { pool, wid } = await signupWorkspace("smart");
    const address = `${uid("late")}@example.com`;
    const { signup_id, code, credential } = await registered(wid, address);
    const admin = await json<{ id: string }>(
      await sys("POST", `/pools/${pool}/users`, { body: { identifiers: [{ identifier: address, type: "email" }] } }),
      201,
    );
    await expectError(await completeRes(wid, { signup_id, code, credential }), 409, "identifier_taken");
    expect(await userIdsWith(pool, address)).toEqual([admin.id]);
    expect(await count("credentials", "credential_id = ?", credential.id)).toBe(0);
  });
});

describe("sign-up: refusals", () => {
  it("404 when no pool of the workspace takes sign-ups, the workspace has no passkeys, or it is unknown", async () => {
    const closed = await newPool({});
    const off = await newWorkspace(["usernameless_webauthn"], [closed]);
    const open = await newPool(SIGN_UP);
    const noPasskeys = await newWorkspace(["password"], [open]);
    for (const wid of [off, noPasskeys, "no-such-workspace"]) {
      await expectError(await request(wid, "ada@example.com"), 404, "not_found");
      await expectError(await optionsRes(wid, "x", "1"), 404, "not_found");
    }
    const config = await json<{ sign_up: boolean }>(await call("GET", `/default/${off}/login/config`));
    expect(config.sign_up).toBe(false);
  });

  it("a failed registration answers 400, stores nothing and leaves the code usable", async () => {
    const { pool, wid } = await signupWorkspace("smart");
    const address = `${uid("fail")}@example.com`;
    const { signup_id, code, publicKey } = await registered(wid, address);
    const auth = new SoftAuthenticator();
    const bad = await auth.register(publicKey, { origin: "https://evil.example" });
    const users = await count("users", "pool_id = ?", pool);
    await expectError(await completeRes(wid, { signup_id, code, credential: bad }), 400, "registration_failed");
    expect(await count("users", "pool_id = ?", pool)).toBe(users);
    expect(await count("credentials", "credential_id = ?", bad.id)).toBe(0);
    expect((await signupRow(signup_id))!.attempts).toBe(0);

    // A wrong code with a good registration: 401, counted, nothing stored.
    const good = await auth.register(publicKey, { origin: ORIGIN });
    const wrong = code === "00000000" ? "11111111" : "00000000";
    await expectError(await completeRes(wid, { signup_id, code: wrong, credential: good }), 401, "otp_invalid");
    expect(await count("users", "pool_id = ?", pool)).toBe(users);
    expect((await signupRow(signup_id))!.attempts).toBe(1);
    await json(await completeRes(wid, { signup_id, code, credential: good }));
    expect(await count("users", "pool_id = ?", pool)).toBe(users + 1);
  });

  it("malformed input is 400: not an email, lone surrogates, missing fields", async () => {
    const { wid } = await signupWorkspace("smart");
    for (const address of ["not-an-email", "a@b", "ada\u0000@example.com", "\ud800@example.com", ""]) {
      await expectError(await request(wid, address), 400, "validation_failed");
    }
    await expectError(await call("POST", path(wid, "request"), { body: {} }), 400, "validation_failed");
    await expectError(await completeRes(wid, { signup_id: "x", code: "1" }), 400, "validation_failed");
    await expectError(
      await call("POST", path(wid, "request"), { rawBody: "address=a", headers: { "content-type": "text/plain" } }),
      415,
      "unsupported_media_type",
    );
  });
});

describe("sign-up: the hosted page", () => {
  const page = (wid: string, qs = "") => SELF.fetch(`${ORIGIN}/default/${wid}/signup${qs}`, { headers: { accept: "text/html" } });

  it("renders the address step with its script, keeps authz and return_to on the way back to sign-in; 404 when off", async () => {
    const { wid } = await signupWorkspace("smart");
    const res = await page(wid, "?authz=abc&return_to=%2Fx&other=1");
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("content-security-policy")).toMatch(/default-src 'none'/);
    const html = await res.text();
    expect(html).toContain('<script type="module" src="/assets/js/signup.js"></script>');
    expect(html).toContain('<label for="email">Email address</label>');
    expect(html).toContain(`href="/default/${wid}/login?authz=abc&amp;return_to=%2Fx"`);

    const off = await newWorkspace(["usernameless_webauthn"], [await newPool({})]);
    const closed = await page(off);
    expect(closed.status).toBe(404);
    expect(await closed.text()).toContain("There is no sign-up page at this address.");
  });
});

describe("sign-up: storage round trips", () => {
  it("request: one D1 batch (the message not awaited); options: 2 D1 + 1 KV write; complete: 2 D1 round trips and 1 KV read", async () => {
    const { wid } = await signupWorkspace("smart");
    await call("GET", `/default/${wid}/login/config`); // the workspace's configuration in the isolate's cache
    const address = `${uid("budget")}@example.com`;
    const req = await measuredPost(path(wid, "request"), { address });
    const { signup_id } = await json<{ signup_id: string }>(req.res);
    // One batch, then the message: handed to waitUntil (the answer does not wait for it), here the development
    // outbox's insert, which starts before the answer and so counts here (in production: a webhook, no D1).
    expect(describeCalls(req.critical).split("\n")).toEqual([
      expect.stringMatching(/^d1 batch 7 statements/),
      expect.stringMatching(/^d1 run insert into "outbox"/),
    ]);
    expect(req.critical.kvReads + req.critical.kvWrites).toBe(0);
    const [m] = await messagesTo(address);

    const opts = await measuredPost(path(wid, "webauthn/options"), { signup_id, code: m!.code });
    const { publicKey } = await json<Creation>(opts.res);
    expect({ d1: opts.critical.d1RoundTrips, kvWrites: opts.critical.kvWrites }, describeCalls(opts.critical)).toEqual({
      d1: 2,
      kvWrites: 1,
    });

    const credential: RegistrationResponseJSON = await new SoftAuthenticator().register(publicKey, { origin: ORIGIN });
    const done = await measuredPost(path(wid, "webauthn/complete"), { signup_id, code: m!.code, credential });
    await json(done.res);
    const c = done.critical;
    expect({ d1: c.d1RoundTrips, kvReads: c.kvReads, kvWrites: c.kvWrites }, describeCalls(c)).toEqual({ d1: 2, kvReads: 1, kvWrites: 0 });
  });
});
