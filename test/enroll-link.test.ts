/**
 * Enrollment links: /{tid}/{wid}/enroll (page) and /{tid}/{wid}/enroll/webauthn/options|complete (API), driven
 * through SELF.fetch with the software authenticator and codes read from the development outbox.
 */
import type { PublicKeyCredentialCreationOptionsJSON } from "@simplewebauthn/server";
import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { SoftAuthenticator } from "./authenticator";
import { call, expectError, json, ORIGIN, sys } from "./helpers/api";
import { begin, count, newPool, newUser, type CredentialJson } from "./helpers/passkeys";
import { finish, newWorkspace, options as signinOptions, type Tokens } from "./helpers/signin";

type Message = { to: string; purpose: string; code: string };
type CodeRow = { attempts: number; code_hash: string };

const linkOptions = (wid: string, body: Record<string, unknown>, tid = "default") =>
  call("POST", `/${tid}/${wid}/enroll/webauthn/options`, { body });
const linkComplete = (wid: string, body: Record<string, unknown>, tid = "default") =>
  call("POST", `/${tid}/${wid}/enroll/webauthn/complete`, { body });

/** Sends an enrollment code to the user (system API add/request) and returns it from the outbox. */
async function codeFor(pool: string, user: { id: string; email: string }): Promise<string> {
  const res = await sys("POST", `/pools/${pool}/user/webauthn/add/request`, { body: { userID: user.id } });
  expect(res.status, await res.clone().text()).toBe(204);
  const { messages } = await json<{ messages: Message[] }>(await sys("GET", "/outbox"));
  const m = messages.find((x) => x.to === user.email && x.purpose === "enroll_webauthn");
  expect(m, `a code for ${user.email}`).toBeDefined();
  return m!.code;
}

const codeRow = (userId: string) =>
  env.DB.prepare("SELECT attempts, code_hash FROM one_time_codes WHERE user_id = ?").bind(userId).first<CodeRow>();
const passkeys = (userId: string) => count("credentials", "user_id = ? AND type = 'webauthn'", userId);
const credentialRows = async (userId: string) =>
  (await env.DB.prepare("SELECT * FROM credentials WHERE user_id = ? ORDER BY id").bind(userId).all()).results;

async function expectOtpInvalid(res: Response): Promise<void> {
  const body = await expectError(res, 401, "otp_invalid");
  expect(body.details).toEqual({});
}

/** options with the right code, then the authenticator's answer. */
async function answer(wid: string, userId: string, code: string, auth = new SoftAuthenticator()) {
  const { publicKey } = await json<{ publicKey: PublicKeyCredentialCreationOptionsJSON }>(
    await linkOptions(wid, { user_id: userId, code }),
  );
  return { publicKey, credential: await auth.register(publicKey, { origin: ORIGIN }) };
}

/** A failure that stored no passkey (and changed no credential row) for any of these users. */
async function expectNothingStored(res: Response, before: Map<string, unknown[]>): Promise<void> {
  await expectOtpInvalid(res);
  for (const [userId, rows] of before) expect(await credentialRows(userId)).toEqual(rows);
}
const snapshot = async (...userIds: string[]) =>
  new Map(await Promise.all(userIds.map(async (id) => [id, await credentialRows(id)] as [string, unknown[]])));

describe("enrollment link: happy paths", () => {
  it("first admin: code from add/request, Smart passkey via /default/admin/enroll, then sign-in with scope identity", async () => {
    const admin = await newUser("admins");
    const code = await codeFor("admins", admin);
    const auth = new SoftAuthenticator();
    const { publicKey, credential } = await answer("admin", admin.id, code, auth);
    expect(publicKey.authenticatorSelection).toMatchObject({ residentKey: "required", requireResidentKey: true });
    expect(publicKey.rp.id).toBe("localhost");
    expect((await codeRow(admin.id))!.attempts).toBe(0); // options does not use the code up

    const res = await linkComplete("admin", { user_id: admin.id, code, credential });
    expect(res.status, await res.clone().text()).toBe(204);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(await codeRow(admin.id)).toBeNull();

    const details = await json<{ credentials: CredentialJson[] }>(await sys("GET", `/pools/admins/users/${admin.id}`));
    const [passkey] = details.credentials.filter((c) => c.type === "webauthn");
    expect(passkey).toMatchObject({ user_id: admin.id, user_pool_id: "admins", payload: { credential_id: credential.id } });
    expect(passkey!.discoverable_id).not.toBe("");
    const audit = await env.DB.prepare("SELECT actor FROM audit_events WHERE user_id = ? AND type = 'passkey.registered'")
      .bind(admin.id)
      .first<{ actor: string }>();
    expect(audit?.actor).toBe(`user:${admin.id}`);

    const opts = await signinOptions("admin");
    const tokens = await json<Tokens>(await finish("admin", opts.login_id, await auth.authenticate(opts.publicKey, { origin: ORIGIN })));
    expect(tokens.scope.split(" ")).toContain("identity");
  });

  it("a Classic workspace gets Classic options; a cancelled prompt can be retried (options twice, same code)", async () => {
    const pool = await newPool({ authentication_mechanisms: ["webauthn"] });
    const wid = await newWorkspace(["webauthn"], [pool]);
    const user = await newUser(pool);
    const code = await codeFor(pool, user);
    await answer(wid, user.id, code); // abandoned ceremony
    const { publicKey, credential } = await answer(wid, user.id, code);
    expect(publicKey.authenticatorSelection).toMatchObject({ residentKey: "discouraged" });
    const res = await linkComplete(wid, { user_id: user.id, code, credential });
    expect(res.status, await res.clone().text()).toBe(204);
    expect(await passkeys(user.id)).toBe(1);
    const row = await env.DB.prepare("SELECT discoverable_id, pool_id FROM credentials WHERE user_id = ? AND type = 'webauthn'")
      .bind(user.id)
      .first<{ discoverable_id: string; pool_id: string }>();
    expect(row).toEqual({ discoverable_id: "", pool_id: pool });
  });

  it("works for a user of the workspace's second pool", async () => {
    const first = await newPool();
    const second = await newPool();
    const wid = await newWorkspace(["usernameless_webauthn"], [first, second]);
    const user = await newUser(second);
    const code = await codeFor(second, user);
    const { credential } = await answer(wid, user.id, code);
    expect((await linkComplete(wid, { user_id: user.id, code, credential })).status).toBe(204);
    expect(await passkeys(user.id)).toBe(1);
  });
});

describe("enrollment link: every failure is the same 401 otp_invalid and stores nothing", () => {
  it("wrong code: 401 at options and at complete, each counts an attempt; the right code still works", async () => {
    const user = await newUser("admins");
    const code = await codeFor("admins", user);
    const wrong = code === "00000000" ? "11111111" : "00000000";
    const before = await snapshot(user.id);

    await expectNothingStored(await linkOptions("admin", { user_id: user.id, code: wrong }), before);
    expect((await codeRow(user.id))!.attempts).toBe(1);
    const failed = await env.DB.prepare("SELECT details FROM audit_events WHERE user_id = ? AND type = 'otp.failed'")
      .bind(user.id)
      .first<{ details: string }>();
    expect(JSON.parse(failed!.details)).toEqual({ purpose: "enroll_webauthn", reason: "code" });

    const { credential } = await answer("admin", user.id, code);
    await expectNothingStored(await linkComplete("admin", { user_id: user.id, code: wrong, credential }), before);
    expect((await codeRow(user.id))!.attempts).toBe(2);

    expect((await linkComplete("admin", { user_id: user.id, code, credential })).status).toBe(204);
    expect(await passkeys(user.id)).toBe(1);
  });

  it("5 wrong codes at options kill the code: the right one is refused too", async () => {
    const user = await newUser("admins");
    const code = await codeFor("admins", user);
    const wrong = String((Number(code) + 1) % 1e8).padStart(8, "0");
    for (let i = 1; i <= 5; i++) {
      await expectOtpInvalid(await linkOptions("admin", { user_id: user.id, code: wrong }));
      expect((await codeRow(user.id))!.attempts).toBe(i);
    }
    const before = await snapshot(user.id);
    await expectNothingStored(await linkOptions("admin", { user_id: user.id, code }), before);
    expect((await codeRow(user.id))!.attempts).toBe(5);
  });

  it("a malformed code is a wrong code (401, attempt counted), not a 400", async () => {
    const user = await newUser("admins");
    await codeFor("admins", user);
    await expectOtpInvalid(await linkOptions("admin", { user_id: user.id, code: "not-a-code" }));
    expect((await codeRow(user.id))!.attempts).toBe(1);
  });

  it("a code sent to another user: 401, and neither user's code is touched", async () => {
    const a = await newUser("admins");
    const b = await newUser("admins");
    const codeA = await codeFor("admins", a);
    const before = await snapshot(a.id, b.id);

    await expectNothingStored(await linkOptions("admin", { user_id: b.id, code: codeA }), before);
    expect((await codeRow(a.id))!.attempts).toBe(0);
    expect(await codeRow(b.id)).toBeNull();

    // A registration answering A's own options, presented as B with A's code.
    const { credential } = await answer("admin", a.id, codeA);
    await expectNothingStored(await linkComplete("admin", { user_id: b.id, code: codeA, credential }), before);
    expect((await codeRow(a.id))!.attempts).toBe(0);
    expect((await linkComplete("admin", { user_id: a.id, code: codeA, credential })).status).toBe(204);
  });

  it("a user outside the workspace's pools: 401 at options and complete; the code stays untouched", async () => {
    const user = await newUser("default"); // pool default is not one of workspace admin's pools
    const code = await codeFor("default", user);
    const before = await snapshot(user.id);
    await expectNothingStored(await linkOptions("admin", { user_id: user.id, code }), before);
    const credential = await new SoftAuthenticator().register(await begin("default", user.id, "smart"), { origin: ORIGIN });
    await expectNothingStored(await linkComplete("admin", { user_id: user.id, code, credential }), before);
    expect(await codeRow(user.id)).toMatchObject({ attempts: 0 });
    // The same code works in a workspace that lists pool default.
    const { credential: ok } = await answer("default", user.id, code);
    expect((await linkComplete("default", { user_id: user.id, code, credential: ok })).status).toBe(204);
  });

  it("a used code is refused at options and complete; the user keeps exactly one passkey", async () => {
    const user = await newUser("admins");
    const code = await codeFor("admins", user);
    const { credential } = await answer("admin", user.id, code);
    expect((await linkComplete("admin", { user_id: user.id, code, credential })).status).toBe(204);
    const before = await snapshot(user.id);

    await expectNothingStored(await linkOptions("admin", { user_id: user.id, code }), before);
    const another = await new SoftAuthenticator().register(await begin("admins", user.id, "smart"), { origin: ORIGIN });
    await expectNothingStored(await linkComplete("admin", { user_id: user.id, code, credential: another }), before);
    expect(await passkeys(user.id)).toBe(1);
  });

  it("the right code with a credential for another user's ceremony: 401, and the code is used up", async () => {
    const a = await newUser("admins");
    const b = await newUser("admins");
    const codeA = await codeFor("admins", a);
    const codeB = await codeFor("admins", b);
    const { credential: forB } = await answer("admin", b.id, codeB);
    const before = await snapshot(a.id, b.id);
    await expectNothingStored(await linkComplete("admin", { user_id: a.id, code: codeA, credential: forB }), before);
    expect(await codeRow(a.id)).toBeNull();
  });

  it("no code requested, unknown user, unknown workspace or tenant, passkeys disabled: the same 401", async () => {
    const user = await newUser("admins");
    const before = await snapshot(user.id);
    await expectNothingStored(await linkOptions("admin", { user_id: user.id, code: "12345678" }), before);
    await expectOtpInvalid(await linkOptions("admin", { user_id: "no-such-user", code: "12345678" }));
    await expectOtpInvalid(await linkOptions("admin", { user_id: "not a valid id!", code: "12345678" }));
    await expectOtpInvalid(await linkOptions("no-such-workspace", { user_id: user.id, code: "12345678" }));
    await expectOtpInvalid(await linkOptions("admin", { user_id: user.id, code: "12345678" }, "other"));

    const pool = await newPool({ authentication_mechanisms: ["password"] });
    const wid = await newWorkspace(["password"], [pool]);
    const u = await newUser(pool);
    const code = await codeFor(pool, u);
    await expectOtpInvalid(await linkOptions(wid, { user_id: u.id, code }));
    expect(await passkeys(u.id)).toBe(0);
  });

  it("malformed JSON bodies are the contract's 400, other media types 415", async () => {
    await expectError(await call("POST", "/default/admin/enroll/webauthn/options", { body: { user_id: "x" } }), 400, "validation_failed");
    await expectError(
      await call("POST", "/default/admin/enroll/webauthn/complete", { body: { user_id: "x", code: "1" } }),
      400,
      "validation_failed",
    );
    await expectError(
      await call("POST", "/default/admin/enroll/webauthn/options", {
        rawBody: "user_id=x",
        headers: { "content-type": "application/x-www-form-urlencoded" },
      }),
      415,
      "unsupported_media_type",
    );
  });
});

describe("enrollment link page", () => {
  it("GET /default/admin/enroll: HTML with the strict CSP, the code prefilled, the script and a sign-in link", async () => {
    const res = await SELF.fetch(`${ORIGIN}/default/admin/enroll?user=abc_DEF-1&code=12345678`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect(res.headers.get("cache-control")).toBe("no-store");
    const html = await res.text();
    expect(html).toMatch(/^<!DOCTYPE html>/);
    expect(html).toContain('src="/assets/js/enroll.js"');
    expect(html).toContain('data-user="abc_DEF-1"');
    expect(html).toContain('value="12345678"');
    expect(html).toContain('href="/default/admin/login"');
    expect(html).not.toMatch(/<script(?![^>]*src=)/);
    expect(html).not.toContain("style=");
  });

  it("an incomplete link says so without a form; an unknown workspace is 404; markup in the query is escaped", async () => {
    const incomplete = await (await SELF.fetch(`${ORIGIN}/default/admin/enroll?code=1234`)).text();
    expect(incomplete).toContain("incomplete");
    expect(incomplete).not.toContain("enroll-form");
    expect((await SELF.fetch(`${ORIGIN}/default/nope/enroll?user=a&code=1`)).status).toBe(404);
    const odd = await (await SELF.fetch(`${ORIGIN}/default/admin/enroll?user=a&code=%22%3E%3Cscript%3E`)).text();
    expect(odd).not.toContain("<script>");
    expect(odd).toContain('value=""');
  });
});
