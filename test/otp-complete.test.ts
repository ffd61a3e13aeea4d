/**
 * One-time code enrollment (add/request, add/complete): completing with a code. Also test/otp-request.test.ts and
 * test/otp-delivery.test.ts; shared helpers: test/helpers/otp.ts.
 */
import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { counterKeys } from "../src/domain/limits";
import { codeCheckStmts, codeOutcome, userOfPool } from "../src/repo/codes";
import { readCounter } from "../src/repo/counters";
import { wrongCodeCounter } from "../src/services/limits";
import { fromB64url, SoftAuthenticator } from "./authenticator";
import { ORIGIN, sys } from "./helpers/api";
import { codeRow, expectOtpInvalid, expectRejected, lastPasskeyFailure, otpHelpers, otpTenant, passkeyCount } from "./helpers/otp";
import { begin, count, enroll, newPool, newUser } from "./helpers/passkeys";

/** A tenant of its own, so outbox counts are exact whatever other test files do. */
const TID = "otp-complete-tests";
let pool = "";
const { add, codeFor, request, registration } = otpHelpers(TID, () => pool);
const counter = (key: string) => readCounter(env.DB, { tenantId: TID, key }, Date.now());

beforeAll(async () => {
  pool = await otpTenant(TID);
});

describe("add/request and add/complete", () => {
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

  it("a code's check is conditional statements of one batch: of 20 parallel wrong checks exactly 5 take an attempt, of 20 right ones exactly 1 consumes", async () => {
    const lax = await newPool({ limits: { otp_failures_per_day: 1000 } }, TID);
    const user = await newUser(lax, TID);
    expect((await sys("POST", `/pools/${lax}/user/webauthn/add/request`, { tid: TID, body: { userID: user.id } })).status).toBe(204);
    const stored = (await codeRow(user.id))!;
    const run = async (given: string, mode: "check" | "consume") => {
      const c = codeCheckStmts(env.DB, {
        tenantId: TID,
        userId: user.id,
        purpose: "enroll_webauthn",
        subject: userOfPool(TID, lax, user.id),
        given,
        mode,
        counter: wrongCodeCounter(user.id),
        actor: "test",
        failed: { purpose: "enroll_webauthn", reason: "code" },
        now: Date.now(),
      });
      const results = await env.DB.batch([...c.head, ...c.tail]);
      return codeOutcome(results.slice(0, c.head.length), results.slice(c.head.length)).kind;
    };
    // Checking the right code without consuming it changes nothing.
    expect(await Promise.all(Array.from({ length: 3 }, () => run(stored.code_hash, "check")))).toEqual(["right", "right", "right"]);
    expect((await codeRow(user.id))!.attempts).toBe(0);
    const consumed = await Promise.all(Array.from({ length: 20 }, () => run(stored.code_hash, "consume")));
    expect(consumed.filter((k) => k === "right")).toHaveLength(1);
    expect(await codeRow(user.id)).toBeNull();

    expect((await sys("POST", `/pools/${lax}/user/webauthn/add/request`, { tid: TID, body: { userID: user.id } })).status).toBe(204);
    const outcomes = await Promise.all(Array.from({ length: 20 }, () => run("not-the-hash", "consume")));
    expect(outcomes).toEqual(outcomes.map(() => "wrong"));
    expect((await codeRow(user.id))!.attempts).toBe(5);
    // 19 consume attempts of a used code and 20 wrong ones: every one counted against the user, each audited.
    expect(await counter(counterKeys.otpFailuresUser(user.id))).toMatchObject({ count: 39, refused: 0 });
    expect(await count("audit_events", "user_id = ? AND type = 'otp.failed'", user.id)).toBe(39);
  });

  it("20 parallel completes with one right code and 20 valid registrations: exactly one passkey is stored", async () => {
    const lax = await newPool({ limits: { otp_failures_per_day: 1000 } }, TID);
    const user = await newUser(lax, TID);
    expect((await sys("POST", `/pools/${lax}/user/webauthn/add/request`, { tid: TID, body: { userID: user.id } })).status).toBe(204);
    const code = await codeFor(user.email);
    const responses = await Promise.all(Array.from({ length: 20 }, () => registration(user.id, "classic", lax)));
    const results = await Promise.all(
      responses.map((r) =>
        sys("POST", `/pools/${lax}/user/webauthn/add/complete`, { tid: TID, body: { userID: user.id, code, new_web_authn: r } }),
      ),
    );
    expect(results.map((r) => r.status).sort()).toEqual([204, ...Array(19).fill(401)]);
    for (const r of results.filter((x) => x.status === 401)) await expectOtpInvalid(r);
    expect(await passkeyCount(user.id)).toBe(1);
    expect(await codeRow(user.id)).toBeNull();
    // Only the winner's challenge is consumed: the losers' batches wrote nothing but their wrong-code counts.
    const challenges = responses.map(
      (r) => (JSON.parse(new TextDecoder().decode(fromB64url(r.response.clientDataJSON))) as { challenge: string }).challenge,
    );
    const used = await env.DB.prepare(
      `SELECT count(*) AS n FROM consumed_challenges WHERE challenge IN (${challenges.map(() => "?").join(", ")})`,
    )
      .bind(...challenges)
      .first<{ n: number }>();
    expect(used!.n).toBe(1);
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
