/**
 * Rejections of passkey enrollment through the system API: duplicates and capacity, passkey names, another user's,
 * pool's or tenant's passkey. Every test asserts the HTTP status, the contract's error body (expectError) and that
 * nothing was stored (snapshot before / expectUnchanged after). Where a rejection could also pass for an unrelated
 * reason, the test checks `details.reason` loosely and/or runs a positive control that differs from the rejected
 * request only in the property under test. The other parts: test/enroll-rejections-*.test.ts; shared helpers:
 * test/helpers/enroll-rejections.ts.
 */
import { describe, expect, it } from "vitest";
import { b64url, fromB64url, SoftAuthenticator } from "./authenticator";
import { expectError, json, ORIGIN, sys } from "./helpers/api";
import { answer, passkeysOf } from "./helpers/enroll-rejections";
import { begin, complete, count, enroll, expectUnchanged, newPool, newUser, snapshot, type CredentialJson } from "./helpers/passkeys";

describe("enrollment rejections: duplicates and capacity", () => {
  it("13a. the same credential id registered again for the same user is 409 credential_exists; the row is untouched", async () => {
    const user = await newUser();
    const { response } = await enroll(new SoftAuthenticator(), "default", user.id, "smart");
    const before = await snapshot(user.id);
    expect(before.passkeys).toBe(1);
    // The soft authenticator ignores excludeCredentials, as a malicious or buggy client would.
    const again = await answer("default", user.id, "smart", { credentialId: fromB64url(response.id) });
    expect(again.options.excludeCredentials?.map((c) => c.id)).toEqual([response.id]);
    await expectError(await complete("default", user.id, "smart", again.response), 409, "credential_exists");
    await expectUnchanged(user.id, before);
  });

  it("13b. the same credential id for another user of the same tenant (same pool or another pool) is 409 credential_exists", async () => {
    const owner = await newUser();
    const { response } = await enroll(new SoftAuthenticator(), "default", owner.id, "smart");
    const ownerBefore = await snapshot(owner.id);
    const otherPool = await newPool();
    for (const [pool, other] of [
      ["default", await newUser()],
      [otherPool, await newUser(otherPool)],
    ] as const) {
      const { response: dup } = await answer(pool, other.id, "smart", { credentialId: fromB64url(response.id) });
      const before = await snapshot(other.id);
      await expectError(await complete(pool, other.id, "smart", dup), 409, "credential_exists");
      await expectUnchanged(other.id, before);
    }
    await expectUnchanged(owner.id, ownerBefore);
  });

  it("14. a third enrollment in a pool of capacity 2 is 409 credential_limit_reached", async () => {
    const pool = await newPool({ limits: { webauthn_credentials_capacity: 2 } });
    const user = await newUser(pool);
    const auth = new SoftAuthenticator();
    await enroll(auth, pool, user.id, "smart");
    await enroll(auth, pool, user.id, "smart");
    const { response } = await answer(pool, user.id, "smart");
    const before = await snapshot(user.id);
    expect(before.passkeys).toBe(2);
    await expectError(await complete(pool, user.id, "smart", response), 409, "credential_limit_reached");
    await expectUnchanged(user.id, before);
  });

  it("15. 20 parallel completes of one challenge: exactly one 200, nineteen 400 registration_failed, one row", async () => {
    const user = await newUser();
    const options = await begin("default", user.id, "smart");
    const responses = await Promise.all(Array.from({ length: 20 }, () => new SoftAuthenticator().register(options, { origin: ORIGIN })));
    const results = await Promise.all(responses.map((r) => complete("default", user.id, "smart", r)));
    const ok = results.filter((r) => r.status === 200);
    expect(results.map((r) => r.status).sort()).toEqual([200, ...Array<number>(19).fill(400)]);
    for (const r of results.filter((x) => x.status !== 200)) await expectError(r, 400, "registration_failed");
    const { credentials } = await json<{ credentials: CredentialJson[] }>(ok[0]!);
    expect(credentials).toHaveLength(1);
    expect(await count("credentials", "user_id = ? AND type = 'webauthn'", user.id)).toBe(1);
    expect(await count("audit_events", "user_id = ? AND type = 'passkey.registered'", user.id)).toBe(1);
    expect(responses.map((r) => r.id)).toContain(credentials[0]!.payload.credential_id);
  });

  it("16. parallel registrations never exceed capacity: capacity 3, 10 parallel completes → 3 stored, 7 × 409", async () => {
    const pool = await newPool({ limits: { webauthn_credentials_capacity: 3 } });
    const user = await newUser(pool);
    const answers = await Promise.all(Array.from({ length: 10 }, () => answer(pool, user.id, "smart")));
    const results = await Promise.all(answers.map((a) => complete(pool, user.id, "smart", a.response)));
    expect(results.map((r) => r.status).sort()).toEqual([200, 200, 200, ...Array<number>(7).fill(409)]);
    for (const r of results.filter((x) => x.status !== 200)) await expectError(r, 409, "credential_limit_reached");
    expect(await count("credentials", "user_id = ? AND type = 'webauthn'", user.id)).toBe(3);
    expect(await count("audit_events", "user_id = ? AND type = 'passkey.registered'", user.id)).toBe(3);
    expect(await passkeysOf(pool, user.id)).toHaveLength(3);
  });

  it("16b. the same credential id completed in parallel for two users and twice for one user: one row each time, the rest 409 credential_exists", async () => {
    const [a, b] = [await newUser(), await newUser()];
    const credentialId = crypto.getRandomValues(new Uint8Array(32));
    const attempts = [
      { user: a, ...(await answer("default", a.id, "smart", { credentialId })) },
      { user: a, ...(await answer("default", a.id, "smart", { credentialId })) },
      { user: b, ...(await answer("default", b.id, "smart", { credentialId })) },
      { user: b, ...(await answer("default", b.id, "smart", { credentialId })) },
    ];
    const results = await Promise.all(attempts.map((x) => complete("default", x.user.id, "smart", x.response)));
    expect(results.map((r) => r.status).sort()).toEqual([200, 409, 409, 409]);
    for (const r of results.filter((x) => x.status !== 200)) await expectError(r, 409, "credential_exists");
    expect(await count("credentials", "tenant_id = 'default' AND credential_id = ?", b64url(credentialId))).toBe(1);
    expect(await count("credentials", "user_id IN (?, ?)", a.id, b.id)).toBe(1);
    expect(await count("audit_events", "user_id IN (?, ?) AND type = 'passkey.registered'", a.id, b.id)).toBe(1);
  });
});

describe("enrollment rejections: passkey names", () => {
  async function named() {
    const user = await newUser();
    const { credentials } = await enroll(new SoftAuthenticator(), "default", user.id, "smart");
    const passkey = credentials[0]!;
    expect((await sys("PUT", `/pools/default/users/${user.id}/webauthn/${passkey.id}/name`, { body: { name: "Original" } })).status).toBe(
      204,
    );
    return { user, passkey };
  }

  const badNames: [string, string][] = [
    ["a control character", "a\u0007b"],
    ["NUL", "a\u0000b"],
    ["DEL", "a\u007fb"],
    ["a C1 control", "a\u0085b"],
    ["a bidi override", "abc\u202Eexe"],
    ["a bidi embedding", "\u202Ax"],
    ["an isolate", "\u2066x"],
    ["a right-to-left mark", "x\u200Fy"],
    ["a lone high surrogate (ill-formed UTF-16)", "ab\uD800"],
    ["a lone low surrogate (ill-formed UTF-16)", "a\uDC00b"],
    ["the empty string", ""],
    ["whitespace only", "   "],
    ["65 characters", "a".repeat(65)],
    ["65 characters after NFC", "e\u0301".repeat(65)],
  ];

  it.each(badNames)("17. a name with %s is 400 validation_failed and the name is unchanged", async (_label, name) => {
    const { user, passkey } = await named();
    const before = await snapshot(user.id);
    const body = await expectError(
      await sys("PUT", `/pools/default/users/${user.id}/webauthn/${passkey.id}/name`, { body: { name } }),
      400,
      "validation_failed",
    );
    expect((body.details.fields as { field: string }[]).map((f) => f.field)).toEqual(["name"]);
    await expectUnchanged(user.id, before);
    expect((await passkeysOf("default", user.id))[0]!.name).toBe("Original");
  });

  it.each([
    ["64 characters", "a".repeat(64), "a".repeat(64)],
    ["64 characters after trimming", `  ${"b".repeat(64)}  `, "b".repeat(64)],
    ["64 characters after NFC (128 code points before)", "e\u0301".repeat(64), "\u00e9".repeat(64)],
    ["a trimmed, NFC-normalised Café", "  Cafe\u0301  ", "Caf\u00e9"],
    ["64 astral characters (surrogate pairs)", "\u{1F511}".repeat(64), "\u{1F511}".repeat(64)],
  ])("17. positive control: %s is accepted and stored normalised", async (_label, name, stored) => {
    const { user, passkey } = await named();
    expect((await sys("PUT", `/pools/default/users/${user.id}/webauthn/${passkey.id}/name`, { body: { name } })).status).toBe(204);
    expect((await passkeysOf("default", user.id))[0]!.name).toBe(stored);
  });
});

describe("enrollment rejections: another user's, pool's or tenant's passkey", () => {
  async function victim() {
    const user = await newUser();
    const { credentials } = await enroll(new SoftAuthenticator(), "default", user.id, "smart");
    return { user, passkey: credentials[0]! };
  }

  it("18a. rename and delete through another user's path in the same pool are 404; the passkey is untouched", async () => {
    const { user, passkey } = await victim();
    const mallory = await newUser();
    await enroll(new SoftAuthenticator(), "default", mallory.id, "smart"); // mallory has passkeys of her own
    const [before, malloryBefore] = [await snapshot(user.id), await snapshot(mallory.id)];
    for (const ref of [passkey.id, passkey.payload.credential_id]) {
      await expectError(
        await sys("PUT", `/pools/default/users/${mallory.id}/webauthn/${ref}/name`, { body: { name: "pwned" } }),
        404,
        "not_found",
      );
      await expectError(await sys("DELETE", `/pools/default/users/${mallory.id}/webauthn/${ref}`), 404, "not_found");
    }
    await expectUnchanged(user.id, before);
    await expectUnchanged(mallory.id, malloryBefore);
  });

  it("18b. rename and delete through another pool's path are 404; the passkey is untouched", async () => {
    const { user, passkey } = await victim();
    const pool = await newPool();
    const stranger = await newUser(pool);
    const before = await snapshot(user.id);
    for (const path of [`/pools/${pool}/users/${user.id}`, `/pools/${pool}/users/${stranger.id}`]) {
      for (const ref of [passkey.id, passkey.payload.credential_id]) {
        await expectError(await sys("PUT", `${path}/webauthn/${ref}/name`, { body: { name: "pwned" } }), 404, "not_found");
        await expectError(await sys("DELETE", `${path}/webauthn/${ref}`), 404, "not_found");
      }
    }
    await expectUnchanged(user.id, before);
  });

  it("18c. rename and delete with another tenant's token and path are 404; the passkey is untouched", async () => {
    const { user, passkey } = await victim();
    const foreignPool = await newPool({}, "other");
    const foreigner = await newUser(foreignPool, "other");
    const before = await snapshot(user.id);
    for (const path of [`/pools/default/users/${user.id}`, `/pools/${foreignPool}/users/${foreigner.id}`]) {
      for (const ref of [passkey.id, passkey.payload.credential_id]) {
        await expectError(await sys("PUT", `${path}/webauthn/${ref}/name`, { tid: "other", body: { name: "pwned" } }), 404, "not_found");
        await expectError(await sys("DELETE", `${path}/webauthn/${ref}`, { tid: "other" }), 404, "not_found");
      }
    }
    await expectUnchanged(user.id, before);
  });
});
