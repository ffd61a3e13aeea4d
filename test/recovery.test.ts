/**
 * Recovery ("Lost your passkey?", issue 12): /{tid}/{wid}/recover/request, /recover/webauthn/options|complete, driven
 * through the Worker's entrypoint with the software authenticator; codes and notices from the development outbox.
 * Requests go through measuredPost, which waits for the work handed to waitUntil (the code is made and sent there).
 */
import type { PublicKeyCredentialCreationOptionsJSON, RegistrationResponseJSON } from "@simplewebauthn/server";
import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Messenger } from "../src/services/messenger";
import { requestRecovery } from "../src/services/recovery";
import { SoftAuthenticator } from "./authenticator";
import { call, expectError, json, ORIGIN, sys, uid } from "./helpers/api";
import { messagesTo, pendingAuthorization, publicClient } from "./helpers/hosted";
import { testWorkspaceCall } from "./helpers/call";
import { count, enroll, newPool, newUser } from "./helpers/passkeys";
import { finish, newWorkspace, options as signinOptions, type Tokens, verifyWithJwks } from "./helpers/signin";
import { type StorageCall, storageUse } from "./helpers/faults";
import { describeCalls, type Measured, measuredPost } from "./helpers/storage-use";

type Mode = "smart" | "classic";

const path = (wid: string, step: string) => `/default/${wid}/recover/${step}`;
const post = (wid: string, step: string, body: unknown) => measuredPost(path(wid, step), body);

/** The newest recovery code sent to the address. */
async function codeFor(to: string): Promise<string> {
  const m = (await messagesTo(to)).find((x) => x.purpose === "recover_webauthn");
  expect(m, `a recovery code for ${to}`).toBeDefined();
  return m!.code;
}

const passkeys = (userId: string) => count("credentials", "user_id = ? AND type = 'webauthn'", userId);
const codeRow = (userId: string) =>
  env.DB.prepare("SELECT attempts, purpose FROM one_time_codes WHERE user_id = ? AND purpose = 'recover_webauthn'")
    .bind(userId)
    .first<{ attempts: number; purpose: string }>();
const wrongOf = (code: string) => String((Number(code) + 1) % 10 ** code.length).padStart(code.length, "0");

/** A pool (recovery on by default) and a workspace over it in the mode. */
async function recoverySetup(mode: Mode, poolBody: Record<string, unknown> = {}) {
  const pool = await newPool({ authentication_mechanisms: ["webauthn"], ...poolBody });
  const wid = await newWorkspace([mode === "smart" ? "usernameless_webauthn" : "webauthn"], [pool]);
  return { pool, wid };
}

/** A user who had a passkey and lost it: registered through the system API, then deleted by an administrator. */
async function userWithoutPasskeys(pool: string, mode: Mode) {
  const user = await newUser(pool);
  const { credentials } = await enroll(new SoftAuthenticator(), pool, user.id, mode);
  for (const c of credentials) expect((await sys("DELETE", `/pools/${pool}/users/${user.id}/webauthn/${c.id}`)).status).toBe(204);
  expect(await passkeys(user.id)).toBe(0);
  return user;
}

async function requestCode(wid: string, address: string): Promise<Measured> {
  const m = await post(wid, "request", { address });
  expect(m.res.status, await m.res.clone().text()).toBe(204);
  return m;
}

/** options with the code, then the authenticator's answer. */
async function answer(wid: string, address: string, code: string, auth = new SoftAuthenticator()) {
  const m = await post(wid, "webauthn/options", { address, code });
  const { publicKey } = await json<{ publicKey: PublicKeyCredentialCreationOptionsJSON }>(m.res);
  return { publicKey, credential: await auth.register(publicKey, { origin: ORIGIN }), measured: m };
}

/** A code requested for the address, and the options got with it. */
async function codeAndOptions(wid: string, address: string) {
  await requestCode(wid, address);
  const code = await codeFor(address);
  const { publicKey } = await json<{ publicKey: PublicKeyCredentialCreationOptionsJSON }>(
    (await post(wid, "webauthn/options", { address, code })).res,
  );
  return { code, publicKey };
}

async function expectOtpInvalid(res: Response): Promise<void> {
  const body = await expectError(res, 401, "otp_invalid");
  expect(body.details).toEqual({});
}

describe("recovery: a user with no passkey left gets back in", () => {
  for (const mode of ["smart", "classic"] as const) {
    it(`${mode}: code to the verified address, new passkey, signed in; the token works and the passkey signs in`, async () => {
      const { pool, wid } = await recoverySetup(mode);
      const user = await userWithoutPasskeys(pool, mode);
      const config = await json<{ recovery: boolean }>(await call("GET", `/default/${wid}/login/config`));
      expect(config.recovery).toBe(true);

      await requestCode(wid, `  ${user.email.toUpperCase()} `); // normalised like identifiers
      const code = await codeFor(user.email);
      const auth = new SoftAuthenticator();
      const { publicKey, credential } = await answer(wid, user.email, code, auth);
      expect(publicKey.authenticatorSelection?.residentKey).toBe(mode === "smart" ? "required" : "discouraged");
      expect((await codeRow(user.id))!.attempts).toBe(0); // options does not use the code up

      const done = await post(wid, "webauthn/complete", { address: user.email, code, credential });
      const tokens = await json<Tokens & { continue_url?: string }>(done.res);
      expect(done.res.headers.get("cache-control")).toBe("no-store");
      expect(tokens).toMatchObject({ token_type: "Bearer", scope: "view_ss_profile manage_ss_profile" });
      expect(tokens.continue_url).toBeUndefined();
      const claims = await verifyWithJwks(tokens.access_token);
      expect(claims).toMatchObject({ sub: user.id, wid, pool_id: pool });
      // The software authenticator's passkey is device-bound (BE 0) and verifies the user.
      expect(claims.amr).toEqual(["pop", "hwk", "user"]);
      const me = await call("GET", `/default/${wid}/identity/v2/self/me`, { token: tokens.access_token });
      expect(me.status, await me.clone().text()).toBe(200);

      expect(await passkeys(user.id)).toBe(1);
      expect(await codeRow(user.id)).toBeNull(); // used up
      const entry = await env.DB.prepare("SELECT id, aaguid FROM credentials WHERE user_id = ? AND type = 'webauthn'")
        .bind(user.id)
        .first<{ id: string; aaguid: string }>();
      const events = await env.DB.prepare(
        "SELECT type, actor, pool_id, details FROM audit_events WHERE user_id = ? AND type IN ('passkey.recovered', 'passkey.registered') AND created_at >= ? ORDER BY type",
      )
        .bind(user.id, Date.parse(new Date().toISOString()) - 60_000)
        .all<{ type: string; actor: string; pool_id: string; details: string }>();
      const recovered = events.results.find((e) => e.type === "passkey.recovered");
      expect(recovered).toMatchObject({ actor: `user:${user.id}`, pool_id: pool });
      expect(JSON.parse(recovered!.details)).toEqual({ credential: entry!.id, aaguid: entry!.aaguid, mode, workspace_id: wid });
      const notices = (await messagesTo(user.email)).filter((m) => m.purpose === "passkey_recovered");
      expect(notices).toEqual([expect.objectContaining({ to: user.email, code: "" })]);

      const opts = await signinOptions(wid, mode === "classic" ? { identifier: user.email } : {});
      const again = await json<Tokens>(await finish(wid, opts.login_id, await auth.authenticate(opts.publicKey, { origin: ORIGIN })));
      expect((await verifyWithJwks(again.access_token)).sub).toBe(user.id);
    });
  }

  it("old passkeys stay; the code is sent to the stored address, and a new request replaces the live code", async () => {
    const { pool, wid } = await recoverySetup("smart");
    const user = await newUser(pool);
    await enroll(new SoftAuthenticator(), pool, user.id, "smart");
    await requestCode(wid, user.email);
    const first = await codeFor(user.email);
    await requestCode(wid, user.email);
    const second = await codeFor(user.email);
    if (first !== second) await expectOtpInvalid((await post(wid, "webauthn/options", { address: user.email, code: first })).res);
    const { credential } = await answer(wid, user.email, second);
    expect((await post(wid, "webauthn/complete", { address: user.email, code: second, credential })).res.status).toBe(200);
    expect(await passkeys(user.id)).toBe(2);
  });
});

describe("recovery: an app's sign-in (OpenID Connect)", () => {
  it("with authz: continue_url and the provider session cookie; the authorization resumes to the app with a code", async () => {
    const { pool, wid } = await recoverySetup("smart");
    const user = await userWithoutPasskeys(pool, "smart");
    const redirect = "http://localhost:3000/callback";
    const clientId = await publicClient(wid, { redirect, scopes: ["openid"] });
    const { authz } = await pendingAuthorization(wid, { clientId, redirect, scope: "openid" });
    expect(authz).toBeTruthy();

    await requestCode(wid, user.email);
    const code = await codeFor(user.email);
    const { credential } = await answer(wid, user.email, code);
    const done = await post(wid, "webauthn/complete", { address: user.email, code, credential, authz });
    const body = await json<{ continue_url?: string; providerSession?: unknown }>(done.res);
    expect(body.providerSession).toBeUndefined();
    expect(body.continue_url).toBe(`/default/${wid}/oauth2/authorize/resume?authz=${authz}`);
    const cookie = (done.res.headers.get("set-cookie") ?? "").split(";")[0]!;
    expect(cookie).toMatch(/=/);
    const back = await SELF.fetch(`${ORIGIN}${body.continue_url}`, { redirect: "manual", headers: { cookie, accept: "text/html" } });
    expect(back.status).toBe(302);
    const to = new URL(back.headers.get("location")!);
    expect(to.origin + to.pathname).toBe(redirect);
    expect(to.searchParams.get("code")).toBeTruthy();
  });
});

describe("recovery: request gives nobody away", () => {
  it("unknown, unverified and recovery-off addresses get the answer and storage use of a real user, and nothing is sent", async () => {
    const on = await newPool({ authentication_mechanisms: ["webauthn"] });
    const off = await newPool({ authentication_mechanisms: ["webauthn"], self_service: { recovery: false } });
    const wid = await newWorkspace(["usernameless_webauthn"], [on, off]);
    const real = await newUser(on);
    const unverifiedEmail = `${uid("unv")}@example.com`;
    await newUser(on, "default", { verifiable_addresses: [{ address: unverifiedEmail, type: "email", verified: false }] });
    const offUser = await newUser(off);
    const unknown = `${uid("nobody")}@example.com`;

    await call("GET", `/default/${wid}/login/config`); // the configuration cache is warm for every request below
    const answers: Record<string, Measured> = {};
    for (const [name, address] of [
      ["real", real.email],
      ["unknown", unknown],
      ["unverified", unverifiedEmail],
      ["recovery off", offUser.email],
    ] as const) {
      answers[name] = await requestCode(wid, address);
    }
    // Every storage call of the request, critical or handed to waitUntil (the code's work, which the answer does not
    // wait for, may start before the answer is returned): the answer's own calls come first and are the same for all.
    const all = (m: Measured) => [...m.critical.calls, ...m.deferred.calls].map((c) => `${c.kind} ${c.op} ${c.detail}`);
    const shape = async (m: Measured) => ({
      status: m.res.status,
      body: await m.res.clone().text(),
      headers: ["cache-control", "content-type", "content-length", "retry-after", "vary"].map((h) => m.res.headers.get(h)),
      calls: all(m).slice(0, 2),
    });
    const expected = await shape(answers.real!);
    expect(expected.calls[0]).toMatch(/^d1 all SELECT .* FROM verifiable_addresses/);
    expect(expected.calls[1]).toMatch(/^d1 first INSERT INTO rate_counters/);
    // The code's work: the code and its audit event in one batch, then the message (development outbox).
    expect(all(answers.real!).slice(2)).toEqual(["d1 batch 2 statements", expect.stringMatching(/^d1 run insert into "outbox"/)]);
    for (const name of ["unknown", "unverified", "recovery off"]) {
      expect(await shape(answers[name]!), name).toEqual(expected);
      expect(all(answers[name]!), name).toHaveLength(2);
    }
    await codeFor(real.email);
    for (const to of [unknown, unverifiedEmail, offUser.email]) expect(await messagesTo(to)).toEqual([]);
    expect(await codeRow(offUser.id)).toBeNull();
  });

  it("a failed delivery changes nothing in the answer (the messenger runs after it)", async () => {
    const { pool, wid } = await recoverySetup("smart");
    const user = await newUser(pool);
    let sent!: () => void;
    const attempted = new Promise<void>((resolve) => {
      sent = resolve;
    });
    const failing: Messenger = {
      send: async () => {
        sent();
        throw new Error("webhook down");
      },
    };
    await expect(requestRecovery(testWorkspaceCall(wid), { address: user.email }, failing)).resolves.toBeUndefined();
    await attempted; // the code was made and handed to the failing messenger
    expect((await codeRow(user.id))?.attempts).toBe(0);
  });

  it("an address verified by two users of the workspace's recovery pools names nobody", async () => {
    const a = await newPool();
    const b = await newPool();
    const wid = await newWorkspace(["usernameless_webauthn"], [a, b]);
    const email = `${uid("shared")}@example.com`;
    const extra = { verifiable_addresses: [{ address: email, type: "email", verified: true }] };
    await newUser(a, "default", { identifiers: [{ identifier: email, type: "email" }], ...extra });
    await newUser(b, "default", { identifiers: [{ identifier: email, type: "email" }], ...extra });
    await requestCode(wid, email);
    expect(await messagesTo(email)).toEqual([]);
  });

  it("requests per user per hour: 429 with Retry-After, for a real address and for nobody alike", async () => {
    const { pool, wid } = await recoverySetup("smart", { limits: { otp_requests_per_hour: 1 } });
    const user = await newUser(pool);
    for (const address of [user.email, `${uid("nobody")}@example.com`]) {
      await requestCode(wid, address);
      const res = (await post(wid, "request", { address })).res;
      const body = await expectError(res, 429, "rate_limited");
      expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
      expect(body.details).toMatchObject({ limit: "otp_requests" });
    }
  });

  it("a workspace without recovery (pool setting off, or no passkeys) is 404 on every step and its config says so", async () => {
    const { wid } = await recoverySetup("smart", { self_service: { recovery: false } });
    const pool = await newPool({ authentication_mechanisms: ["password"] });
    const noPasskeys = await newWorkspace(["password"], [pool]);
    for (const w of [wid, noPasskeys, "no-such-workspace"]) {
      for (const [step, body] of [
        ["request", { address: "a@example.com" }],
        ["webauthn/options", { address: "a@example.com", code: "1" }],
      ] as const) {
        await expectError((await post(w, step, body)).res, 404, "not_found");
      }
    }
    expect((await json<{ recovery: boolean }>(await call("GET", `/default/${wid}/login/config`))).recovery).toBe(false);
  });

  it("a pool that asks for a second factor offers no recovery (it would sign in with the new passkey alone)", async () => {
    const { wid, pool } = await recoverySetup("smart", { second_factor_authentication_mechanisms: ["password"] });
    expect((await json<{ recovery: boolean }>(await call("GET", `/default/${wid}/login/config`))).recovery).toBe(false);
    await expectError((await post(wid, "request", { address: "a@example.com" })).res, 404, "not_found");
    // Turned on after the second factor goes: then it is offered.
    await json(await sys("PUT", `/pools/${pool}`, { body: { second_factor_authentication_mechanisms: [] } }));
    expect((await json<{ recovery: boolean }>(await call("GET", `/default/${wid}/login/config`))).recovery).toBe(true);
  });

  it("bad input: 400 validation_failed, 415 without JSON; never a 500", async () => {
    const { wid } = await recoverySetup("smart");
    await expectError((await post(wid, "request", {})).res, 400, "validation_failed");
    await expectError((await post(wid, "request", { address: 7 })).res, 400, "validation_failed");
    await expectError(
      (await post(wid, "webauthn/complete", { address: "a@example.com", code: "1", credential: {} })).res,
      400,
      "validation_failed",
    );
    await expectError(
      await call("POST", path(wid, "request"), { rawBody: "address=a", headers: { "content-type": "text/plain" } }),
      415,
      "unsupported_media_type",
    );
  });
});

describe("recovery: the code's limits", () => {
  it("wrong codes at options count; 5 kill the code (the right one is refused too); audited as otp.failed", async () => {
    const { pool, wid } = await recoverySetup("smart");
    const user = await userWithoutPasskeys(pool, "smart");
    await requestCode(wid, user.email);
    const code = await codeFor(user.email);
    for (let i = 1; i <= 5; i++) {
      await expectOtpInvalid((await post(wid, "webauthn/options", { address: user.email, code: wrongOf(code) })).res);
      expect((await codeRow(user.id))!.attempts).toBe(i);
    }
    await expectOtpInvalid((await post(wid, "webauthn/options", { address: user.email, code })).res);
    const failed = await env.DB.prepare("SELECT details FROM audit_events WHERE user_id = ? AND type = 'otp.failed'")
      .bind(user.id)
      .first<{ details: string }>();
    expect(JSON.parse(failed!.details)).toEqual({ purpose: "recover_webauthn", reason: "code" });
    expect(await passkeys(user.id)).toBe(0);
  });

  it("a wrong code at complete is 401 and stores nothing; an enrollment code does not recover", async () => {
    const { pool, wid } = await recoverySetup("smart");
    const user = await userWithoutPasskeys(pool, "smart");
    await requestCode(wid, user.email);
    const code = await codeFor(user.email);
    const { credential } = await answer(wid, user.email, code);
    await expectOtpInvalid((await post(wid, "webauthn/complete", { address: user.email, code: wrongOf(code), credential })).res);
    expect((await codeRow(user.id))!.attempts).toBe(1);
    // A code of another purpose (add/request's enroll_webauthn) is not a recovery code.
    expect((await sys("POST", `/pools/${pool}/user/webauthn/add/request`, { body: { userID: user.id } })).status).toBe(204);
    const enrollCode = (await messagesTo(user.email)).find((m) => m.purpose === "enroll_webauthn")!.code;
    if (enrollCode !== code) {
      await expectOtpInvalid((await post(wid, "webauthn/complete", { address: user.email, code: enrollCode, credential })).res);
    }
    expect(await passkeys(user.id)).toBe(0);
  });

  it("a failed registration is 400 registration_failed, stores nothing, and uses the code up", async () => {
    const { pool, wid } = await recoverySetup("smart");
    const user = await userWithoutPasskeys(pool, "smart");
    const { code, publicKey } = await codeAndOptions(wid, user.email);
    const bad = await new SoftAuthenticator().register(publicKey, { origin: "https://evil.example" });
    await expectError(
      (await post(wid, "webauthn/complete", { address: user.email, code, credential: bad })).res,
      400,
      "registration_failed",
    );
    expect(await passkeys(user.id)).toBe(0);
    expect(await codeRow(user.id)).toBeNull();
    await expectOtpInvalid((await post(wid, "webauthn/options", { address: user.email, code })).res);
  });

  it("a response to another user's options (or to none) does not recover the address's account", async () => {
    const { pool, wid } = await recoverySetup("smart");
    const victim = await userWithoutPasskeys(pool, "smart");
    const attacker = await userWithoutPasskeys(pool, "smart");
    await requestCode(wid, attacker.email);
    const { credential } = await answer(wid, attacker.email, await codeFor(attacker.email));
    // The attacker's options and credential, the victim's address: no code of the victim is right.
    await expectOtpInvalid((await post(wid, "webauthn/complete", { address: victim.email, code: "12345678", credential })).res);
    await expectOtpInvalid((await post(wid, "webauthn/complete", { address: `${uid("n")}@example.com`, code: "1", credential })).res);
    expect(await passkeys(victim.id)).toBe(0);
    // Even with the victim's right code, the attacker's options do not register for the victim: the code is used up.
    await requestCode(wid, victim.email);
    const victimCode = await codeFor(victim.email);
    await expectError(
      (await post(wid, "webauthn/complete", { address: victim.email, code: victimCode, credential })).res,
      400,
      "registration_failed",
    );
    expect(await codeRow(victim.id)).toBeNull();
    expect(await passkeys(victim.id)).toBe(0);
    expect(await passkeys(attacker.id)).toBe(0);
  });

  it("two parallel completes with the same options make one passkey", async () => {
    const { pool, wid } = await recoverySetup("smart");
    const user = await userWithoutPasskeys(pool, "smart");
    const { code, publicKey } = await codeAndOptions(wid, user.email);
    const responses: RegistrationResponseJSON[] = await Promise.all(
      [new SoftAuthenticator(), new SoftAuthenticator()].map((a) => a.register(publicKey, { origin: ORIGIN })),
    );
    const results = await Promise.all(
      responses.map((credential) => post(wid, "webauthn/complete", { address: user.email, code, credential })),
    );
    expect(results.map((r) => r.res.status).sort()).toEqual([200, expect.any(Number)]);
    expect(results.filter((r) => r.res.status === 200)).toHaveLength(1);
    expect(await passkeys(user.id)).toBe(1);
    expect(await count("audit_events", "user_id = ? AND type = 'passkey.recovered'", user.id)).toBe(1);
  });
});

describe("recovery: storage budgets", () => {
  it("options: 2 D1 round trips and 1 KV write; complete: 2 D1 round trips and 1 KV read, the notice deferred", async () => {
    const { pool, wid } = await recoverySetup("smart");
    const user = await userWithoutPasskeys(pool, "smart");
    await requestCode(wid, user.email);
    const code = await codeFor(user.email);
    await post(wid, "webauthn/options", { address: user.email, code }); // warms the configuration cache
    const { credential, measured: options } = await answer(wid, user.email, code);
    expect(options.critical.d1RoundTrips, describeCalls(options.critical)).toBe(2);
    expect([options.critical.kvReads, options.critical.kvWrites], describeCalls(options.critical)).toEqual([0, 1]);
    expect(options.deferred.calls).toEqual([]);

    const done = await post(wid, "webauthn/complete", { address: user.email, code, credential });
    expect(done.res.status, await done.res.clone().text()).toBe(200);
    // The notice is handed to waitUntil (the answer does not wait for it), though it may start before the answer returns.
    const notice = (c: StorageCall) => c.kind === "d1" && c.detail.startsWith('insert into "outbox"');
    const answerUse = storageUse(done.critical.calls.filter((c) => !notice(c)));
    expect(answerUse.d1RoundTrips, describeCalls(done.critical)).toBeLessThanOrEqual(2);
    expect([answerUse.kvReads, answerUse.kvWrites, answerUse.kvDeletes], describeCalls(done.critical)).toEqual([1, 0, 0]);
    expect([...done.critical.calls, ...done.deferred.calls].filter(notice)).toHaveLength(1);
    expect(done.deferred.calls.filter((c) => !notice(c))).toEqual([]);
  });
});

describe("recovery: the hosted page", () => {
  const page = (wid: string, qs = "") => call("GET", `/default/${wid}/recover${qs}`, { headers: { accept: "text/html" } });
  const signinPage = (wid: string, qs = "") => call("GET", `/default/${wid}/login${qs}`, { headers: { accept: "text/html" } });

  it("offered: the sign-in page links to it (keeping authz and return_to), and it links back", async () => {
    const { wid } = await recoverySetup("smart");
    const html = await (await signinPage(wid, "?return_to=%2Fx")).text();
    expect(html).toContain(`href="/default/${wid}/recover?return_to=%2Fx"`);
    expect(html).toContain("Lost your passkey?");
    const res = await page(wid, "?return_to=%2Fx");
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("content-security-policy")).toBeTruthy();
    const body = await res.text();
    expect(body).toContain('<label for="address">Email address</label>');
    expect(body).toContain('src="/assets/js/recover.js"');
    expect(body).toContain(`href="/default/${wid}/login?return_to=%2Fx"`);
  });

  it("with recovery off for the pool, the sign-in page has no link and the page is 404", async () => {
    const { wid } = await recoverySetup("smart", { self_service: { recovery: false } });
    expect(await (await signinPage(wid)).text()).not.toContain("/recover");
    const res = await page(wid);
    expect(res.status).toBe(404);
    expect(await res.text()).toContain("There is no recovery page at this address.");
    expect((await page("no-such-workspace")).status).toBe(404);
  });

  it("a browser's GET of an API path gets the JSON 404, not the page", async () => {
    const { wid } = await recoverySetup("smart");
    const res = await call("GET", `/default/${wid}/recover/request`, { headers: { accept: "text/html" } });
    await expectError(res, 404, "not_found");
  });
});
