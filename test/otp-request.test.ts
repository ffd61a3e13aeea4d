/**
 * One-time code enrollment (add/request, add/complete): requesting a code. Also test/otp-complete.test.ts and
 * test/otp-delivery.test.ts; shared helpers: test/helpers/otp.ts.
 */
import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { expectError, json, sys, uid } from "./helpers/api";
import { codeRow, expectRejected, otpHelpers, otpTenant, passkeyCount } from "./helpers/otp";
import { count, newPool, newUser, type CredentialJson } from "./helpers/passkeys";

/** A tenant of its own, so outbox counts are exact whatever other test files do. */
const TID = "otp-tests";
let pool = "";
const { add, outbox, codeFor, request, registration } = otpHelpers(TID, () => pool);

beforeAll(async () => {
  pool = await otpTenant(TID);
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
});
