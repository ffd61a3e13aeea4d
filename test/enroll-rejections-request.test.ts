/**
 * Rejections of passkey enrollment through the system API: the challenge, malformed bodies and unknown objects. Every
 * test asserts the HTTP status, the contract's error body (expectError) and that nothing was stored (snapshot before /
 * expectUnchanged after). Where a rejection could also pass for an unrelated reason, the test checks `details.reason`
 * loosely and/or runs a positive control that differs from the rejected request only in the property under test. The
 * other parts: test/enroll-rejections-*.test.ts; shared helpers: test/helpers/enroll-rejections.ts.
 */
import type { PublicKeyCredentialCreationOptionsJSON, RegistrationResponseJSON } from "@simplewebauthn/server";
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { b64url, cborEncode, SoftAuthenticator } from "./authenticator";
import { expectError, json, ORIGIN, sys } from "./helpers/api";
import { answer, APP, editChallenge, EXAMPLE_POOL, expectRegistrationFailed, kvKey, randomB64 } from "./helpers/enroll-rejections";
import { begin, complete, count, expectUnchanged, newPool, newUser, snapshot, type CredentialJson } from "./helpers/passkeys";

describe("enrollment rejections: the challenge", () => {
  it("1. a challenge the server never issued is 400 registration_failed", async () => {
    const user = await newUser();
    const { response } = await answer("default", user.id, "smart", { challenge: randomB64(32) });
    await expectRegistrationFailed("default", user.id, "smart", response, /challenge/i);
  });

  it("2. a challenge is single use: a second credential answering the same options is 400", async () => {
    const user = await newUser();
    const options = await begin("default", user.id, "smart");
    const first = await new SoftAuthenticator().register(options, { origin: ORIGIN });
    expect((await json<{ credentials: CredentialJson[] }>(await complete("default", user.id, "smart", first))).credentials).toHaveLength(1);
    const second = await new SoftAuthenticator().register(options, { origin: ORIGIN });
    await expectRegistrationFailed("default", user.id, "smart", second, /challenge/i);
    // Replaying the very same response is refused as well.
    await expectRegistrationFailed("default", user.id, "smart", first, /challenge/i);
  });

  it("2b. single use holds in D1 even when KV still serves the consumed challenge (stale read)", async () => {
    const user = await newUser();
    const options = await begin("default", user.id, "smart");
    const rec = await env.CHALLENGES.get(kvKey(options.challenge), "text");
    await json(await complete("default", user.id, "smart", await new SoftAuthenticator().register(options, { origin: ORIGIN })));
    await env.CHALLENGES.put(kvKey(options.challenge), rec!); // KV is eventually consistent: simulate a stale copy
    const second = await new SoftAuthenticator().register(options, { origin: ORIGIN });
    await expectRegistrationFailed("default", user.id, "smart", second, /challenge/i);
    expect(await count("credentials", "user_id = ?", user.id)).toBe(1);
  });

  it("3. an expired challenge is 400", async () => {
    const user = await newUser();
    const { options, response } = await answer("default", user.id, "smart");
    await editChallenge(options.challenge, (r) => {
      r.expiresAt = Date.now() - 1000;
    });
    await expectRegistrationFailed("default", user.id, "smart", response, /expired/i);
  });

  it("4a. a challenge issued for another user of the same pool is 400", async () => {
    const alice = await newUser();
    const bob = await newUser();
    const { response } = await answer("default", alice.id, "smart");
    const aliceBefore = await snapshot(alice.id);
    await expectRegistrationFailed("default", bob.id, "smart", response, /challenge/i);
    await expectUnchanged(alice.id, aliceBefore);
  });

  it("4b. a challenge of pool A's user completed for pool B's user is 400 (both pools share the RP ID)", async () => {
    const poolA = await newPool();
    const poolB = await newPool();
    const a = await newUser(poolA);
    const b = await newUser(poolB);
    const { response } = await answer(poolA, a.id, "smart");
    const aBefore = await snapshot(a.id);
    await expectRegistrationFailed(poolB, b.id, "smart", response, /challenge/i);
    await expectUnchanged(a.id, aBefore);
  });

  it("4c. pool A's user addressed through pool B's path is 404 not_found", async () => {
    const poolA = await newPool();
    const poolB = await newPool();
    const a = await newUser(poolA);
    const { response } = await answer(poolA, a.id, "smart");
    const before = await snapshot(a.id);
    await expectError(await complete(poolB, a.id, "smart", response), 404, "not_found");
    await expectUnchanged(a.id, before);
  });

  it("4d. a challenge of another tenant is 400", async () => {
    const foreignPool = await newPool({}, "other");
    const foreigner = await newUser(foreignPool, "other");
    const user = await newUser();
    const { response } = await answer("default", user.id, "smart");
    const before = await snapshot(user.id);
    await expectRegistrationFailed(foreignPool, foreigner.id, "smart", response, /challenge/i, "other");
    await expectUnchanged(user.id, before);
  });

  it("4e. a Smart challenge completed on the Classic endpoint is 400, and a Classic one on the Smart endpoint", async () => {
    const user = await newUser();
    const smart = await answer("default", user.id, "smart");
    await expectRegistrationFailed("default", user.id, "classic", smart.response, /challenge/i);
    const classic = await answer("default", user.id, "classic");
    await expectRegistrationFailed("default", user.id, "smart", classic.response, /challenge/i);
  });

  it("4f. a challenge recorded for sign-in (purpose authenticate) does not register a passkey", async () => {
    const user = await newUser();
    const { options, response } = await answer("default", user.id, "smart");
    await editChallenge(options.challenge, (r) => {
      r.purpose = "authenticate";
    });
    await expectRegistrationFailed("default", user.id, "smart", response, /challenge/i);
  });

  it("4g. a challenge record bound to another pool or tenant is refused even for the same user id", async () => {
    // Users belong to one pool, so through HTTP the user binding alone already separates pools; this checks the
    // record's own pool and tenant binding by rewriting them.
    for (const [field, value] of [
      ["poolId", "another-pool"],
      ["tenantId", "other"],
    ] as const) {
      const user = await newUser();
      const { options, response } = await answer("default", user.id, "smart");
      await editChallenge(options.challenge, (r) => {
        r[field] = value;
      });
      await expectRegistrationFailed("default", user.id, "smart", response, /challenge/i);
    }
  });

  it.each([
    ["the RP ID the options named", "example.com"],
    ["the pool's new RP ID", "app.example.com"],
  ])("4h. a pool whose RP ID changed between begin and complete refuses the ceremony (authenticator used %s)", async (_label, rpId) => {
    const pool = await newPool(EXAMPLE_POOL);
    const user = await newUser(pool);
    const { response } = await answer(pool, user.id, "smart", { origin: APP, rpId });
    await json(
      await sys("PUT", `/pools/${pool}`, {
        body: { passkey_settings: { relying_party_id: "app.example.com", relying_party_origins: [APP] } },
      }),
    );
    await expectRegistrationFailed(pool, user.id, "smart", response, rpId === "example.com" ? /relying party|rp ?id/i : /relying party/i);
  });
});

describe("enrollment rejections: malformed registration bodies (400, never 500)", () => {
  type Tamper = (r: RegistrationResponseJSON, o: PublicKeyCredentialCreationOptionsJSON) => unknown;
  const cd = (o: PublicKeyCredentialCreationOptionsJSON, extra: Record<string, unknown> = {}) =>
    b64url(new TextEncoder().encode(JSON.stringify({ type: "webauthn.create", challenge: o.challenge, origin: ORIGIN, ...extra })));
  const withResponse = (r: RegistrationResponseJSON, patch: Record<string, unknown>) => ({ ...r, response: { ...r.response, ...patch } });

  const schemaViolations: [string, Tamper, string][] = [
    ["missing response", ({ response: _r, ...rest }) => rest, "response"],
    [
      "missing clientDataJSON",
      (r) => {
        const { clientDataJSON: _c, ...rest } = r.response;
        return { ...r, response: rest };
      },
      "response.clientDataJSON",
    ],
    [
      "non-base64url clientDataJSON",
      (r) => withResponse(r, { clientDataJSON: "eyJ0eXBlIjoid2ViYXV0aG4uY3JlYXRlIn0=+/" }),
      "response.clientDataJSON",
    ],
    ["non-base64url attestationObject", (r) => withResponse(r, { attestationObject: "o2Nm bXQ=" }), "response.attestationObject"],
    ["empty attestationObject", (r) => withResponse(r, { attestationObject: "" }), "response.attestationObject"],
    ["type other than public-key", (r) => ({ ...r, type: "password" }), "type"],
    [
      "clientDataJSON as a JSON object instead of base64url",
      (r) => withResponse(r, { clientDataJSON: { type: "webauthn.create" } }),
      "response.clientDataJSON",
    ],
  ];

  it.each(schemaViolations)("19. %s is 400 validation_failed naming the field", async (_label, tamper, field) => {
    const user = await newUser();
    const { options, response } = await answer("default", user.id, "smart");
    const before = await snapshot(user.id);
    const body = await expectError(await complete("default", user.id, "smart", tamper(response, options)), 400, "validation_failed");
    expect((body.details.fields as { field: string }[]).map((f) => f.field)).toContain(field);
    await expectUnchanged(user.id, before);
  });

  const verificationFailures: [string, Tamper][] = [
    ["clientDataJSON that is not JSON", (r) => withResponse(r, { clientDataJSON: b64url(new TextEncoder().encode("not json at all")) })],
    [
      "clientDataJSON that is JSON but not an object with type, challenge and origin",
      (r) => withResponse(r, { clientDataJSON: b64url(new TextEncoder().encode("[1,2,3]")) }),
    ],
    ["clientDataJSON with a numeric challenge", (r, o) => withResponse(r, { clientDataJSON: cd(o, { challenge: 12345 }) })],
    ["clientDataJSON with crossOrigin as a string", (r, o) => withResponse(r, { clientDataJSON: cd(o, { crossOrigin: "true" }) })],
    ["clientDataJSON of impossible base64url length", (r) => withResponse(r, { clientDataJSON: "abcde" })],
    ["clientDataJSON that is not UTF-8", (r) => withResponse(r, { clientDataJSON: b64url(new Uint8Array([0xff, 0xfe, 0x7b, 0x7d])) })],
    ["attestationObject garbage", (r) => withResponse(r, { attestationObject: randomB64(200) })],
    [
      "attestationObject CBOR without authData",
      (r) => withResponse(r, { attestationObject: b64url(cborEncode({ fmt: "none", attStmt: {} })) }),
    ],
    [
      "attestationObject with truncated authData",
      (r) => withResponse(r, { attestationObject: b64url(cborEncode({ fmt: "none", attStmt: {}, authData: new Uint8Array(40) })) }),
    ],
    ["id and rawId that differ", (r) => ({ ...r, id: randomB64(32) })],
    [
      "id and rawId naming another credential than the attested one",
      (r) => {
        const id = randomB64(32);
        return { ...r, id, rawId: id };
      },
    ],
  ];

  it.each(verificationFailures)("19. %s is 400 registration_failed", async (_label, tamper) => {
    const user = await newUser();
    const { options, response } = await answer("default", user.id, "smart");
    const before = await snapshot(user.id);
    await expectError(await complete("default", user.id, "smart", tamper(response, options)), 400, "registration_failed");
    await expectUnchanged(user.id, before);
  });

  it("19. malformed JSON and non-object JSON bodies are 400, never 500", async () => {
    const user = await newUser();
    const before = await snapshot(user.id);
    const path = `/pools/default/users/${user.id}/usernameless-webauthn/create/complete`;
    await expectError(
      await sys("POST", path, { rawBody: '{"id": ', headers: { "content-type": "application/json" } }),
      400,
      "invalid_request",
    );
    for (const body of [null, [], "x", 42, {}]) await expectError(await sys("POST", path, { body }), 400, "validation_failed");
    await expectUnchanged(user.id, before);
  });
});

describe("enrollment rejections: unknown objects", () => {
  it("20. begin for an unknown user, an unknown pool, or another tenant's pool is 404 not_found", async () => {
    const user = await newUser();
    const foreignPool = await newPool({}, "other");
    const foreigner = await newUser(foreignPool, "other");
    for (const segment of ["webauthn", "usernameless-webauthn"]) {
      await expectError(await sys("POST", `/pools/default/users/no-such-user/${segment}/create/begin`), 404, "not_found");
      await expectError(await sys("POST", `/pools/no-such-pool/users/${user.id}/${segment}/create/begin`), 404, "not_found");
      await expectError(await sys("POST", `/pools/${foreignPool}/users/${foreigner.id}/${segment}/create/begin`), 404, "not_found");
      await expectError(await sys("POST", `/pools/default/users/${user.id}/${segment}/create/begin`, { tid: "other" }), 404, "not_found");
    }
  });

  it("20b. complete for an unknown user or pool is 404 not_found and stores nothing", async () => {
    const user = await newUser();
    const { response } = await answer("default", user.id, "smart");
    const before = await snapshot(user.id);
    await expectError(await complete("default", "no-such-user", "smart", response), 404, "not_found");
    await expectError(await complete("no-such-pool", user.id, "smart", response), 404, "not_found");
    await expectError(await complete("default", user.id, "smart", response, "other"), 404, "not_found");
    await expectUnchanged(user.id, before);
    expect(await count("credentials", "credential_id = ?", response.id)).toBe(0);
  });
});
