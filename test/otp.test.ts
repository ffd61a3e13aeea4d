import type { RegistrationResponseJSON } from "@simplewebauthn/server";
import { env } from "cloudflare:test";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { app } from "../src/app";
import { hmacHex, messengerFor, SIGNATURE_HEADER, type Messenger } from "../src/messenger";
import { takeCodeAttempt } from "../src/repo/codes";
import { codePolicy, generateCode, requestEnrollmentCode } from "../src/services/otp";
import { fromB64url, SoftAuthenticator } from "./authenticator";
import { basic, CLIENT, expectError, json, ORIGIN, sys, uid } from "./helpers/api";
import { begin, count, enroll, newPool, newUser, type CredentialJson, type Mode } from "./helpers/passkeys";

/** Production needs ISSUER_BASE_URL (issue 8), and its tokens carry that issuer: get them through the same env. */
const PROD = { ...env, ENVIRONMENT: "production", ISSUER_BASE_URL: "https://id.example.com" };
async function prodToken(tid: string): Promise<string> {
  const res = await app.request(
    `${ORIGIN}/${tid}/system/oauth2/token`,
    {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", authorization: basic(CLIENT.id, CLIENT.secret) },
      body: "grant_type=client_credentials&scope=identity",
    },
    PROD,
  );
  return (await json<{ access_token: string }>(res)).access_token;
}

/** A tenant of its own, so outbox counts are exact whatever other test files do. */
const TID = "otp-tests";
let pool = "";

type Message = { to: string; purpose: string; code: string; created_at: string };
type CodeRow = {
  tenant_id: string;
  pool_id: string;
  user_id: string;
  purpose: string;
  code_hash: string;
  attempts: number;
  expires_at: number;
  created_at: number;
};

const add = (action: "request" | "complete", body: unknown, p = pool) =>
  sys("POST", `/pools/${p}/user/webauthn/add/${action}`, { tid: TID, body });

async function outbox(tid = TID): Promise<Message[]> {
  return (await json<{ messages: Message[] }>(await sys("GET", "/outbox", { tid }))).messages;
}

/** The newest code sent to `to`. */
async function codeFor(to: string): Promise<string> {
  const m = (await outbox()).find((x) => x.to === to);
  expect(m, `a message to ${to}`).toBeDefined();
  return m!.code;
}

async function request(body: Record<string, string>, p = pool): Promise<void> {
  const res = await add("request", body, p);
  expect(res.status, await res.clone().text()).toBe(204);
}

const codeRow = (userId: string) => env.DB.prepare("SELECT * FROM one_time_codes WHERE user_id = ?").bind(userId).first<CodeRow>();
const passkeyCount = (userId: string) => count("credentials", "user_id = ? AND type = 'webauthn'", userId);

/** A registration response answering a create/begin issued for this user. */
async function registration(userId: string, mode: Mode = "classic", p = pool): Promise<RegistrationResponseJSON> {
  return new SoftAuthenticator().register(await begin(p, userId, mode, TID), { origin: ORIGIN });
}

async function expectOtpInvalid(res: Response): Promise<void> {
  const body = await expectError(res, 401, "otp_invalid");
  expect(body.error).toBe("the code or passkey could not be verified");
  expect(body.details).toEqual({});
  expect(res.headers.get("www-authenticate")).toBeNull();
}

/** A 401 that stored no passkey for any of these users. */
/** The error code that the last otp.failed event of the user recorded for a failed passkey. */
async function lastPasskeyFailure(userId: string): Promise<unknown> {
  const row = await env.DB.prepare(
    "SELECT details FROM audit_events WHERE user_id = ? AND type = 'otp.failed' ORDER BY created_at DESC, rowid DESC",
  )
    .bind(userId)
    .first<{ details: string }>();
  return row && (JSON.parse(row.details) as { error_code?: string }).error_code;
}

async function expectRejected(res: Response, ...userIds: string[]): Promise<void> {
  await expectOtpInvalid(res);
  for (const id of userIds) expect(await passkeyCount(id)).toBe(0);
}

beforeAll(async () => {
  await env.DB.prepare("INSERT OR IGNORE INTO tenants (id, name, created_at) VALUES (?, 'OTP tests', 0)").bind(TID).run();
  pool = await newPool({}, TID);
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe("add/request and add/complete", () => {
  it("happy path (Classic, by userID): code in the outbox, passkey in Get User Details, code used up, audited", async () => {
    const user = await newUser(pool, TID);
    await request({ userID: user.id });
    const [message] = (await outbox()).filter((m) => m.to === user.email);
    expect(message).toMatchObject({ to: user.email, purpose: "enroll_webauthn", code: expect.stringMatching(/^[0-9]{8}$/) });
    expect(new Date(message!.created_at).toISOString()).toBe(message!.created_at);

    const response = await registration(user.id, "classic");
    const res = await add("complete", { userID: user.id, code: message!.code, new_web_authn: response });
    expect(res.status, await res.clone().text()).toBe(204);

    const details = await json<{ credentials: CredentialJson[] }>(await sys("GET", `/pools/${pool}/users/${user.id}`, { tid: TID }));
    const passkeys = details.credentials.filter((c) => c.type === "webauthn");
    expect(passkeys).toHaveLength(1);
    expect(passkeys[0]).toMatchObject({ user_id: user.id, discoverable_id: "", payload: { credential_id: response.id } });
    expect(await codeRow(user.id)).toBeNull();

    const events = (
      await env.DB.prepare("SELECT type, actor, details FROM audit_events WHERE user_id = ? ORDER BY created_at, type")
        .bind(user.id)
        .all<{ type: string; actor: string; details: string }>()
    ).results;
    expect(events.map((e) => [e.type, e.actor])).toEqual([
      ["otp.requested", "system:test-client"],
      ["passkey.registered", "system:test-client"],
    ]);
    expect(JSON.parse(events[0]!.details)).toEqual({ purpose: "enroll_webauthn", channel: "email" });
    expect(events[0]!.details).not.toContain(message!.code);
  });

  it("Smart, by identifier (case-insensitive): the passkey gets its discoverable_id", async () => {
    const user = await newUser(pool, TID);
    await request({ identifier: `  ${user.email.toUpperCase()} ` });
    const code = await codeFor(user.email);
    const res = await add("complete", { identifier: user.email.toUpperCase(), code, new_web_authn: await registration(user.id, "smart") });
    expect(res.status, await res.clone().text()).toBe(204);
    const handle = (await env.DB.prepare("SELECT user_handle FROM users WHERE id = ?").bind(user.id).first<{ user_handle: string }>())!
      .user_handle;
    const row = await env.DB.prepare("SELECT discoverable_id FROM credentials WHERE user_id = ? AND type = 'webauthn'")
      .bind(user.id)
      .first<{ discoverable_id: string }>();
    expect(row?.discoverable_id).toBe(handle);
  });

  it("by address: the code goes to that verified address (mobile here), and complete accepts the address", async () => {
    const email = `${uid("m")}@example.com`;
    const mobile = `+1415${String(Math.floor(Math.random() * 1e7)).padStart(7, "0")}`;
    const user = await newUser(pool, TID, {
      identifiers: [{ identifier: email, type: "email" }],
      verifiable_addresses: [
        { address: email, type: "email", verified: true },
        { address: mobile, type: "mobile", verified: true },
      ],
    });
    await request({ address: mobile });
    const code = await codeFor(mobile);
    expect((await outbox()).some((m) => m.to === email)).toBe(false);
    const audit = await env.DB.prepare("SELECT details FROM audit_events WHERE user_id = ? AND type = 'otp.requested'")
      .bind(user.id)
      .first<{ details: string }>();
    expect(JSON.parse(audit!.details)).toEqual({ purpose: "enroll_webauthn", channel: "mobile" });

    const res = await add("complete", { address: mobile, code, new_web_authn: await registration(user.id) });
    expect(res.status, await res.clone().text()).toBe(204);
    expect(await passkeyCount(user.id)).toBe(1);
  });

  it("delivery falls back to the first verified email, then mobile; unverified addresses never get a code", async () => {
    const unverified = `${uid("uv")}@example.com`;
    const verified = `${uid("v")}@example.com`;
    const a = await newUser(pool, TID, {
      identifiers: [{ identifier: unverified, type: "email" }],
      verifiable_addresses: [
        { address: unverified, type: "email", verified: false },
        { address: verified, type: "email", verified: true },
      ],
    });
    await request({ userID: a.id });
    expect((await outbox()).filter((m) => [unverified, verified].includes(m.to)).map((m) => m.to)).toEqual([verified]);

    const email = `${uid("e")}@example.com`;
    const mobile = `+1650${String(Math.floor(Math.random() * 1e7)).padStart(7, "0")}`;
    const b = await newUser(pool, TID, {
      identifiers: [{ identifier: email, type: "email" }],
      verifiable_addresses: [
        { address: email, type: "email", verified: false },
        { address: mobile, type: "mobile", verified: true },
      ],
    });
    // An unverified address does not name its user: nothing is sent, nothing stored.
    await request({ address: email });
    expect(await codeRow(b.id)).toBeNull();
    await request({ identifier: email });
    expect((await outbox()).filter((m) => [email, mobile].includes(m.to)).map((m) => m.to)).toEqual([mobile]);
  });

  it("unknown users and addresses, users without a verified address, inactive users: 204, nothing sent, nothing stored", async () => {
    const before = (await outbox()).length;
    const email = `${uid("nv")}@example.com`;
    const noAddress = await newUser(pool, TID, {
      identifiers: [{ identifier: email, type: "email" }],
      verifiable_addresses: [{ address: email, type: "email", verified: false }],
    });
    const inactive = await newUser(pool, TID, { status: "inactive" });
    await request({ userID: "no-such-user" });
    await request({ identifier: "nobody@example.com" });
    await request({ address: "nobody@example.com" });
    await request({ userID: noAddress.id });
    await request({ identifier: email });
    await request({ userID: inactive.id });
    expect((await outbox()).length).toBe(before);
    expect(await count("one_time_codes", "pool_id = ? AND user_id IN (?, ?)", pool, noAddress.id, inactive.id)).toBe(0);
    expect(await count("audit_events", "user_id IN (?, ?)", noAddress.id, inactive.id)).toBe(0);
  });

  it("a user of another pool is unknown here; an unknown pool is 404", async () => {
    const otherPool = await newPool({}, TID);
    const user = await newUser(otherPool, TID);
    const before = (await outbox()).length;
    await request({ userID: user.id });
    await request({ identifier: user.email });
    expect((await outbox()).length).toBe(before);
    await expectError(await add("request", { userID: user.id }, "no-such-pool"), 404, "not_found");
  });

  it("the body needs exactly one of address, identifier, userID (else 400); complete needs a code of digits", async () => {
    await expectError(await add("request", {}), 400, "validation_failed");
    await expectError(await add("request", { userID: "a", identifier: "b@example.com" }), 400, "validation_failed");
    await expectError(await add("request", { userID: "not an id!" }), 400, "validation_failed");
    const user = await newUser(pool, TID);
    const response = await registration(user.id);
    await expectError(await add("complete", { code: "12345678", new_web_authn: response }), 400, "validation_failed");
    await expectError(
      await add("complete", { userID: user.id, address: user.email, code: "12345678", new_web_authn: response }),
      400,
      "validation_failed",
    );
    await expectError(await add("complete", { userID: user.id, code: "abcdefgh", new_web_authn: response }), 400, "validation_failed");
    await expectError(await add("complete", { userID: user.id, code: "12345678" }), 400, "validation_failed");
    expect(await passkeyCount(user.id)).toBe(0);
  });

  it("only an HMAC of the code is stored; length and TTL follow the pool's otp_settings", async () => {
    const user = await newUser(pool, TID);
    const t0 = Date.now();
    await request({ userID: user.id });
    const code = await codeFor(user.email);
    const row = (await codeRow(user.id))!;
    expect(row).toMatchObject({ tenant_id: TID, pool_id: pool, purpose: "enroll_webauthn", attempts: 0 });
    expect(row.code_hash).not.toContain(code);
    expect(row.code_hash).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const raw = (await env.DB.prepare("SELECT * FROM one_time_codes WHERE user_id = ?").bind(user.id).raw()).flat().map(String);
    expect(raw.some((v) => v.includes(code))).toBe(false);
    expect(row.expires_at - row.created_at).toBe(600_000);
    expect(row.created_at).toBeGreaterThanOrEqual(t0);

    const short = await newPool({ otp_settings: { enroll_webauthn: { length: 6, ttl: "2m" } } }, TID);
    const u6 = await newUser(short, TID);
    await request({ userID: u6.id }, short);
    expect(await codeFor(u6.email)).toMatch(/^[0-9]{6}$/);
    const row6 = (await codeRow(u6.id))!;
    expect(row6.expires_at - row6.created_at).toBe(120_000);
    const res = await add(
      "complete",
      { userID: u6.id, code: await codeFor(u6.email), new_web_authn: await registration(u6.id, "classic", short) },
      short,
    );
    expect(res.status, await res.clone().text()).toBe(204);
  });

  it("a second request replaces the first code: the old code is refused, the new one works", async () => {
    const user = await newUser(pool, TID);
    await request({ userID: user.id });
    const first = await codeFor(user.email);
    await request({ userID: user.id });
    const codes = (await outbox()).filter((m) => m.to === user.email).map((m) => m.code);
    expect(codes).toHaveLength(2);
    expect(codes[1]).toBe(first);
    const second = codes[0]!;
    if (second === first) return; // one chance in 10^8

    await expectRejected(await add("complete", { userID: user.id, code: first, new_web_authn: await registration(user.id) }), user.id);
    const res = await add("complete", { userID: user.id, code: second, new_web_authn: await registration(user.id) });
    expect(res.status, await res.clone().text()).toBe(204);
  });

  it("a new request resets the attempts", async () => {
    const user = await newUser(pool, TID);
    await request({ userID: user.id });
    const wrong = (c: string) => String((Number(c) + 1) % 1e8).padStart(8, "0");
    await expectRejected(
      await add("complete", { userID: user.id, code: wrong(await codeFor(user.email)), new_web_authn: await registration(user.id) }),
      user.id,
    );
    expect((await codeRow(user.id))!.attempts).toBe(1);
    await request({ userID: user.id });
    expect((await codeRow(user.id))!.attempts).toBe(0);
  });

  it("a wrong code is 401, counts an attempt and is audited as otp.failed; the right code still works", async () => {
    const user = await newUser(pool, TID);
    await request({ userID: user.id });
    const code = await codeFor(user.email);
    const wrong = String((Number(code) + 1) % 1e8).padStart(8, "0");
    await expectRejected(await add("complete", { userID: user.id, code: wrong, new_web_authn: await registration(user.id) }), user.id);
    expect((await codeRow(user.id))!.attempts).toBe(1);
    const failed = await env.DB.prepare("SELECT actor, details FROM audit_events WHERE user_id = ? AND type = 'otp.failed'")
      .bind(user.id)
      .all<{ actor: string; details: string }>();
    expect(failed.results).toHaveLength(1);
    expect(failed.results[0]!.actor).toBe("system:test-client");
    expect(JSON.parse(failed.results[0]!.details)).toEqual({ purpose: "enroll_webauthn", reason: "code" });

    const res = await add("complete", { userID: user.id, code, new_web_authn: await registration(user.id) });
    expect(res.status, await res.clone().text()).toBe(204);
  });

  it("after 5 wrong codes the code is dead: the right one is refused too", async () => {
    const user = await newUser(pool, TID);
    await request({ userID: user.id });
    const code = await codeFor(user.email);
    const response = await registration(user.id);
    for (let i = 1; i <= 5; i++) {
      const wrong = String((Number(code) + i) % 1e8).padStart(8, "0");
      await expectRejected(await add("complete", { userID: user.id, code: wrong, new_web_authn: response }), user.id);
      expect((await codeRow(user.id))!.attempts).toBe(i);
    }
    await expectRejected(await add("complete", { userID: user.id, code, new_web_authn: response }), user.id);
    expect((await codeRow(user.id))!.attempts).toBe(5);
    expect(await count("audit_events", "user_id = ? AND type = 'otp.failed'", user.id)).toBe(6);
  });

  it("20 parallel wrong guesses compare at most 5 times: the code dies and the right one is refused", async () => {
    // A pool whose per-user daily limit is out of the way, so only the per-code limit is at work.
    const lax = await newPool({ limits: { otp_failures_per_day: 1000 } }, TID);
    const user = await newUser(lax, TID);
    expect((await sys("POST", `/pools/${lax}/user/webauthn/add/request`, { tid: TID, body: { userID: user.id } })).status).toBe(204);
    const code = await codeFor(user.email);
    const response = await registration(user.id, "classic", lax);
    const guesses = Array.from({ length: 20 }, (_, i) => String((Number(code) + i + 1) % 1e8).padStart(8, "0"));
    const results = await Promise.all(
      guesses.map((g) =>
        sys("POST", `/pools/${lax}/user/webauthn/add/complete`, { tid: TID, body: { userID: user.id, code: g, new_web_authn: response } }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(guesses.map(() => 401));
    expect((await codeRow(user.id))!.attempts).toBe(5);
    const right = await sys("POST", `/pools/${lax}/user/webauthn/add/complete`, {
      tid: TID,
      body: { userID: user.id, code, new_web_authn: response },
    });
    await expectOtpInvalid(right);
    expect(await passkeyCount(user.id)).toBe(0);
  });

  it("a code's attempts are one conditional statement: of 20 parallel takes exactly 5 get the hash to compare", async () => {
    const user = await newUser(pool, TID);
    await request({ userID: user.id });
    const k = { tenantId: TID, poolId: pool, userId: user.id, purpose: "enroll_webauthn" };
    const taken = await Promise.all(Array.from({ length: 20 }, () => takeCodeAttempt(env.DB, k, Date.now())));
    expect(taken.filter((h) => h !== null)).toHaveLength(5);
    expect((await codeRow(user.id))!.attempts).toBe(5);
  });

  it("an expired code is refused", async () => {
    const user = await newUser(pool, TID);
    await request({ userID: user.id });
    const code = await codeFor(user.email);
    await env.DB.prepare("UPDATE one_time_codes SET expires_at = ? WHERE user_id = ?")
      .bind(Date.now() - 1, user.id)
      .run();
    await expectRejected(await add("complete", { userID: user.id, code, new_web_authn: await registration(user.id) }), user.id);
  });

  it("a used code is refused the second time", async () => {
    const user = await newUser(pool, TID);
    await request({ userID: user.id });
    const code = await codeFor(user.email);
    expect((await add("complete", { userID: user.id, code, new_web_authn: await registration(user.id) })).status).toBe(204);
    const res = await add("complete", { userID: user.id, code, new_web_authn: await registration(user.id) });
    await expectOtpInvalid(res);
    expect(await passkeyCount(user.id)).toBe(1);
  });

  it("the right code with a response to another user's create/begin is 401, and the code is used up", async () => {
    const alice = await newUser(pool, TID);
    const bob = await newUser(pool, TID);
    await request({ userID: alice.id });
    const code = await codeFor(alice.email);
    await expectRejected(await add("complete", { userID: alice.id, code, new_web_authn: await registration(bob.id) }), alice.id, bob.id);
    expect(await codeRow(alice.id)).toBeNull();
    const failed = await env.DB.prepare("SELECT details FROM audit_events WHERE user_id = ? AND type = 'otp.failed'")
      .bind(alice.id)
      .first<{ details: string }>();
    expect(JSON.parse(failed!.details)).toEqual({ purpose: "enroll_webauthn", reason: "passkey", error_code: "registration_failed" });
    // Single use: even a good response for alice does not revive the code.
    await expectRejected(await add("complete", { userID: alice.id, code, new_web_authn: await registration(alice.id) }), alice.id);
  });

  it("a response that fails WebAuthn verification (wrong origin) is 401", async () => {
    const user = await newUser(pool, TID);
    await request({ userID: user.id });
    const code = await codeFor(user.email);
    const response = await new SoftAuthenticator().register(await begin(pool, user.id, "classic", TID), { origin: "https://evil.example" });
    await expectRejected(await add("complete", { userID: user.id, code, new_web_authn: response }), user.id);
    expect(await lastPasskeyFailure(user.id)).toBe("registration_failed");
    expect(await codeRow(user.id)).toBeNull();
  });

  it("capacity reached and an already registered passkey are the same 401", async () => {
    const one = await newPool({ limits: { webauthn_credentials_capacity: 1 } }, TID);
    const user = await newUser(one, TID);
    const auth = new SoftAuthenticator();
    await enroll(auth, one, user.id, "classic", {}, TID);
    await request({ userID: user.id }, one);
    const res = await add(
      "complete",
      { userID: user.id, code: await codeFor(user.email), new_web_authn: await registration(user.id, "classic", one) },
      one,
    );
    await expectOtpInvalid(res);
    expect(await passkeyCount(user.id)).toBe(1);
    expect(await lastPasskeyFailure(user.id)).toBe("credential_limit_reached");

    const other = await newUser(pool, TID);
    const first = await enroll(auth, pool, other.id, "classic", {}, TID);
    await request({ userID: other.id });
    const again = await auth.register(await begin(pool, other.id, "classic", TID), {
      origin: ORIGIN,
      credentialId: fromB64url(first.response.rawId),
    });
    await expectOtpInvalid(await add("complete", { userID: other.id, code: await codeFor(other.email), new_web_authn: again }));
    expect(await passkeyCount(other.id)).toBe(1);
    expect(await lastPasskeyFailure(other.id)).toBe("credential_exists");
  });

  it("two parallel completes with the same right code and two valid registrations: exactly one succeeds", async () => {
    const user = await newUser(pool, TID);
    await request({ userID: user.id });
    const code = await codeFor(user.email);
    const [r1, r2] = [await registration(user.id), await registration(user.id)];
    const results = await Promise.all([r1, r2].map((r) => add("complete", { userID: user.id, code, new_web_authn: r })));
    expect(results.map((r) => r.status).sort()).toEqual([204, 401]);
    await expectOtpInvalid(results.find((r) => r.status === 401)!);
    expect(await passkeyCount(user.id)).toBe(1);
    expect(await lastPasskeyFailure(user.id)).toBeUndefined();
    expect(
      (
        await env.DB.prepare("SELECT details FROM audit_events WHERE user_id = ? AND type = 'otp.failed'")
          .bind(user.id)
          .first<{ details: string }>()
      )?.details,
    ).toBe(JSON.stringify({ purpose: "enroll_webauthn", reason: "code" }));
  });

  it("an unknown user or a user without a code is the same 401", async () => {
    const user = await newUser(pool, TID);
    const response = await registration(user.id);
    await expectRejected(await add("complete", { userID: "no-such-user", code: "12345678", new_web_authn: response }), user.id);
    await expectRejected(await add("complete", { identifier: "nobody@example.com", code: "12345678", new_web_authn: response }), user.id);
    await expectRejected(await add("complete", { userID: user.id, code: "12345678", new_web_authn: response }), user.id);
  });
});

describe("development outbox", () => {
  it("lists only this tenant's messages, newest first", async () => {
    const user = await newUser(pool, TID);
    await request({ userID: user.id });
    await request({ userID: user.id });
    const mine = (await outbox()).filter((m) => m.to === user.email);
    expect(mine).toHaveLength(2);
    expect(mine[0]!.created_at >= mine[1]!.created_at).toBe(true);
    expect((await outbox("default")).some((m) => m.to === user.email)).toBe(false);
  });

  it("is 404 outside development", async () => {
    const token = await prodToken(TID);
    const res = await app.request(`${ORIGIN}/api/identity/${TID}/system/outbox`, { headers: { authorization: `Bearer ${token}` } }, PROD);
    await expectError(res, 404, "not_found");
  });
});

describe("webhook messenger (production)", () => {
  const hook = { ...PROD, OTP_WEBHOOK_URL: "https://hooks.example/otp", OTP_WEBHOOK_SECRET: "whsec-test-0123456789" };

  it("POSTs the JSON body with a verifiable HMAC-SHA256 signature", async () => {
    const seen: Request[] = [];
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
      seen.push(new Request(input, init));
      return new Response(null, { status: 202 });
    });
    const now = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
    await messengerFor(hook).send({ tenantId: TID, to: "ada@example.com", purpose: "enroll_webauthn", code: "01234567" }, now);

    expect(seen).toHaveLength(1);
    const req = seen[0]!;
    expect(req.method).toBe("POST");
    expect(req.url).toBe(hook.OTP_WEBHOOK_URL);
    expect(req.headers.get("content-type")).toBe("application/json");
    const body = await req.text();
    expect(JSON.parse(body)).toEqual({
      tenant_id: TID,
      to: "ada@example.com",
      purpose: "enroll_webauthn",
      code: "01234567",
      created_at: "2026-01-02T03:04:05.678Z",
    });

    const sig = req.headers.get(SIGNATURE_HEADER)!;
    const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(sig);
    expect(m).not.toBeNull();
    expect(Number(m![1])).toBe(Math.floor(now / 1000));
    // Verify as a receiver would: HMAC over "<t>.<raw body>" with the shared secret.
    const key = await crypto.subtle.importKey(
      "raw",
      new TextEncoder().encode(hook.OTP_WEBHOOK_SECRET),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["verify"],
    );
    const mac = new Uint8Array(m![2]!.match(/../g)!.map((h) => parseInt(h, 16)));
    expect(await crypto.subtle.verify("HMAC", key, mac, new TextEncoder().encode(`${m![1]}.${body}`))).toBe(true);
    expect(await crypto.subtle.verify("HMAC", key, mac, new TextEncoder().encode(`${m![1]}.${body.replace("01234567", "01234568")}`))).toBe(
      false,
    );
    expect(m![2]).toBe(await hmacHex(hook.OTP_WEBHOOK_SECRET, `${m![1]}.${body}`));
  });

  it("a failing webhook throws from send(), but add/request still answers 204 and keeps the code", async () => {
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    const fetchSpy = vi.spyOn(globalThis, "fetch").mockImplementation(async () => new Response("nope", { status: 500 }));
    await expect(
      messengerFor(hook).send({ tenantId: TID, to: "x@example.com", purpose: "enroll_webauthn", code: "1" }, Date.now()),
    ).rejects.toThrow(/500/);

    const user = await newUser(pool, TID);
    const token = await prodToken(TID);
    const res = await app.request(
      `${ORIGIN}/api/identity/${TID}/system/pools/${pool}/user/webauthn/add/request`,
      {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ userID: user.id }),
      },
      hook,
    );
    expect(res.status).toBe(204);
    expect(fetchSpy).toHaveBeenCalledTimes(2);
    expect(await codeRow(user.id)).not.toBeNull();
    expect((await outbox()).some((m) => m.to === user.email)).toBe(false);

    fetchSpy.mockImplementation(async () => {
      throw new Error("connection refused");
    });
    await requestEnrollmentCode(hook, { tenantId: TID, poolId: pool }, { userID: user.id }, "test", Date.now());
  });

  it("without OTP_WEBHOOK_URL (or its secret) nothing is delivered, with a warning, and add/request is still 204", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const fetchSpy = vi.spyOn(globalThis, "fetch");
    const user = await newUser(pool, TID);
    const token = await prodToken(TID);
    for (const e of [PROD, { ...hook, OTP_WEBHOOK_SECRET: undefined }]) {
      const res = await app.request(
        `${ORIGIN}/api/identity/${TID}/system/pools/${pool}/user/webauthn/add/request`,
        {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: JSON.stringify({ userID: user.id }),
        },
        e,
      );
      expect(res.status).toBe(204);
    }
    expect(fetchSpy).not.toHaveBeenCalled();
    expect(warn).toHaveBeenCalledTimes(2);
    expect(warn.mock.calls.flat().join(" ")).not.toMatch(/[0-9]{8}/);
  });

  it("a messenger that throws does not fail the request", async () => {
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    const user = await newUser(pool, TID);
    const broken: Messenger = {
      send: async () => {
        throw new Error("down");
      },
    };
    await expect(
      requestEnrollmentCode(env, { tenantId: TID, poolId: pool }, { userID: user.id }, "test", Date.now(), broken),
    ).resolves.toBeUndefined();
    expect(await codeRow(user.id)).not.toBeNull();
  });
});

describe("code generation", () => {
  it("makes codes of exactly the requested length, digits only, with every digit reachable", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const c = generateCode(8);
      expect(c).toMatch(/^[0-9]{8}$/);
      for (const d of c) seen.add(d);
    }
    expect(seen.size).toBe(10);
    expect(generateCode(10)).toMatch(/^[0-9]{10}$/);
  });

  it("falls back to the defaults for missing or malformed settings", () => {
    expect(codePolicy({ otpSettings: { enroll_webauthn: { length: 6, ttl: "90s" } } })).toEqual({ length: 6, ttlSeconds: 90 });
    expect(codePolicy({ otpSettings: { enroll_webauthn: { length: 3, ttl: "soon" } } })).toEqual({ length: 8, ttlSeconds: 600 });
  });
});
