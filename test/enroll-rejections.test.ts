/**
 * Rejections of passkey enrollment through the system API. Every test asserts the HTTP status, the contract's
 * error body (expectError) and that nothing was stored (snapshot before / expectUnchanged after). Where a rejection
 * could also pass for an unrelated reason, the test checks `details.reason` loosely and/or runs a positive control
 * that differs from the rejected request only in the property under test.
 */
import type { PublicKeyCredentialCreationOptionsJSON, RegistrationResponseJSON } from "@simplewebauthn/server";
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { b64url, cborEncode, fromB64url, SoftAuthenticator, type CborValue, type RegisterOpts } from "./authenticator";
import { expectError, json, ORIGIN, sys, type ErrorBody } from "./helpers/api";
import {
  begin,
  complete,
  count,
  enroll,
  expectUnchanged,
  newPool,
  newUser,
  snapshot,
  type CredentialJson,
  type Mode,
} from "./helpers/passkeys";

const APP = "https://app.example.com";
const EXAMPLE_POOL = { passkey_settings: { relying_party_id: "example.com", relying_party_origins: [APP] } };

const reason = (body: ErrorBody) => String(body.details.reason ?? "");
const randomB64 = (n: number) => b64url(crypto.getRandomValues(new Uint8Array(n)));

/** begin + one authenticator answer (not completed). */
async function answer(pool: string, userId: string, mode: Mode, opts: Partial<RegisterOpts> = {}, tid = "default") {
  const options = await begin(pool, userId, mode, tid);
  const response = await new SoftAuthenticator().register(options, { origin: ORIGIN, ...opts });
  return { options, response };
}

/** Completes and asserts 400 registration_failed with a reason matching `why`; the user's rows are untouched. */
async function expectRegistrationFailed(pool: string, userId: string, mode: Mode, response: unknown, why: RegExp, tid = "default") {
  const before = await snapshot(userId);
  const body = await expectError(await complete(pool, userId, mode, response, tid), 400, "registration_failed");
  expect(reason(body)).toMatch(why);
  await expectUnchanged(userId, before);
  return body;
}

const kvKey = (challenge: string) => `challenge:${challenge}`;
async function editChallenge(challenge: string, edit: (rec: Record<string, unknown>) => void) {
  const rec = await env.CHALLENGES.get<Record<string, unknown>>(kvKey(challenge), "json");
  expect(rec, "the challenge record exists in KV").not.toBeNull();
  edit(rec!);
  await env.CHALLENGES.put(kvKey(challenge), JSON.stringify(rec));
}

const passkeysOf = async (pool: string, userId: string, tid = "default") =>
  (await json<{ credentials: CredentialJson[] }>(await sys("GET", `/pools/${pool}/users/${userId}`, { tid }))).credentials.filter(
    (c) => c.type === "webauthn",
  );

// ---------- hand-built registration responses, for credential public keys the soft authenticator cannot make ----------

const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
};
const exportJwk = async (key: CryptoKey) => (await crypto.subtle.exportKey("jwk", key)) as JsonWebKey;
const ec2Key = (x: Uint8Array, y: Uint8Array) =>
  new Map<number, CborValue>([
    [1, 2],
    [3, -7],
    [-1, 1],
    [-2, x],
    [-3, y],
  ]);
const withAlg = (key: Map<number, CborValue>, alg: number) => new Map(key).set(3, alg);
const withCrv = (key: Map<number, CborValue>, crv: number) => new Map(key).set(-1, crv);

async function realEc2Key() {
  const pair = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as CryptoKeyPair;
  const jwk = await exportJwk(pair.publicKey);
  return ec2Key(fromB64url(jwk.x!), fromB64url(jwk.y!));
}
async function realOkpKey() {
  const pair = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"])) as CryptoKeyPair;
  const raw = new Uint8Array((await crypto.subtle.exportKey("raw", pair.publicKey)) as ArrayBuffer);
  return new Map<number, CborValue>([
    [1, 1],
    [3, -8],
    [-1, 6],
    [-2, raw],
  ]);
}
async function realRsaKey() {
  const pair = (await crypto.subtle.generateKey(
    { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
    true,
    ["sign", "verify"],
  )) as CryptoKeyPair;
  const jwk = await exportJwk(pair.publicKey);
  return new Map<number, CborValue>([
    [1, 3],
    [3, -257],
    [-1, fromB64url(jwk.n!)],
    [-2, fromB64url(jwk.e!)],
  ]);
}

/** A "none"-attestation registration response carrying the given COSE key (UP and UV set). */
async function withKey(options: PublicKeyCredentialCreationOptionsJSON, key: Map<number, CborValue>): Promise<RegistrationResponseJSON> {
  const id = crypto.getRandomValues(new Uint8Array(32));
  const rpIdHash = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(options.rp.id!)));
  const authData = concat(
    rpIdHash,
    new Uint8Array([0x45, 0, 0, 0, 0]),
    new Uint8Array(16),
    new Uint8Array([0, id.length]),
    id,
    cborEncode(key),
  );
  const clientDataJSON = new TextEncoder().encode(
    JSON.stringify({ type: "webauthn.create", challenge: options.challenge, origin: ORIGIN }),
  );
  return {
    id: b64url(id),
    rawId: b64url(id),
    type: "public-key",
    response: {
      clientDataJSON: b64url(clientDataJSON),
      attestationObject: b64url(cborEncode({ fmt: "none", attStmt: {}, authData })),
      transports: ["usb"],
    },
    clientExtensionResults: {},
  };
}

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

describe("enrollment rejections: client data and authenticator data", () => {
  const badOrigins: [string, string][] = [
    ["http instead of https", "http://app.example.com"],
    ["another port", "https://app.example.com:8443"],
    ["an unlisted subdomain", "https://evil.example.com"],
    ["the RP ID's own origin when it is not listed", "https://example.com"],
    ["a look-alike suffix domain", "https://app.example.com.evil.org"],
    ["a look-alike hyphenated domain", "https://app-example.com"],
    ["a trailing slash", "https://app.example.com/"],
  ];

  it.each(badOrigins)("5. origin: %s (%s) is 400", async (_label, origin) => {
    const pool = await newPool(EXAMPLE_POOL);
    const user = await newUser(pool);
    const { response } = await answer(pool, user.id, "smart", { origin });
    await expectRegistrationFailed(pool, user.id, "smart", response, /origin/i);
  });

  it("5. positive control: the listed origin is accepted by the same pool configuration", async () => {
    const pool = await newPool(EXAMPLE_POOL);
    const user = await newUser(pool);
    const { credentials } = await enroll(new SoftAuthenticator(), pool, user.id, "smart", { origin: APP });
    expect(credentials).toHaveLength(1);
  });

  it.each([
    ["https", "https://localhost:8787"],
    ["another port", "http://localhost:8788"],
    ["another host", "http://127.0.0.1:8787"],
  ])("5. default pool (server origin): %s (%s) is 400", async (_label, origin) => {
    const user = await newUser();
    const { response } = await answer("default", user.id, "smart", { origin });
    await expectRegistrationFailed("default", user.id, "smart", response, /origin/i);
  });

  it("6. an RP ID hash of another domain is 400", async () => {
    const user = await newUser();
    const { response } = await answer("default", user.id, "smart", { rpId: "evil.com" });
    await expectRegistrationFailed("default", user.id, "smart", response, /rp ?id/i);
  });

  it("6b. an RP ID hash of a subdomain of the pool's RP ID is 400", async () => {
    const pool = await newPool(EXAMPLE_POOL);
    const user = await newUser(pool);
    const { response } = await answer(pool, user.id, "smart", { origin: APP, rpId: "app.example.com" });
    await expectRegistrationFailed(pool, user.id, "smart", response, /rp ?id/i);
  });

  it("7. user presence missing is 400", async () => {
    const user = await newUser();
    const { response } = await answer("default", user.id, "smart", { flags: { up: false } });
    await expectRegistrationFailed("default", user.id, "smart", response, /presen/i);
  });

  it("7b. user presence is required even when the pool discourages user verification", async () => {
    const pool = await newPool({ passkey_settings: { user_verification: "discouraged" } });
    const user = await newUser(pool);
    const { response } = await answer(pool, user.id, "smart", { flags: { up: false, uv: false } });
    await expectRegistrationFailed(pool, user.id, "smart", response, /presen/i);
  });

  it("8. user verification missing is 400 when the pool requires it (default pool)", async () => {
    const user = await newUser();
    const { options, response } = await answer("default", user.id, "smart", { flags: { uv: false } });
    expect(options.authenticatorSelection?.userVerification).toBe("required");
    await expectRegistrationFailed("default", user.id, "smart", response, /verif/i);
  });

  it("8. positive control: the same UV-less answer is accepted by a pool with user_verification preferred", async () => {
    const pool = await newPool({ passkey_settings: { user_verification: "preferred" } });
    const user = await newUser(pool);
    const { credentials } = await enroll(new SoftAuthenticator(), pool, user.id, "smart", { flags: { uv: false } });
    expect(credentials).toHaveLength(1);
    expect(credentials[0]!.payload.flags).toMatchObject({ userPresent: true, userVerified: false });
  });

  it("9. clientData type webauthn.get is 400", async () => {
    const user = await newUser();
    const { response } = await answer("default", user.id, "smart", { type: "webauthn.get" });
    await expectRegistrationFailed("default", user.id, "smart", response, /type/i);
  });

  it.each([-35, -36])("10. an unsupported algorithm (%i) in the COSE key is 400", async (alg) => {
    const user = await newUser();
    const { response } = await answer("default", user.id, "smart", { alg });
    await expectRegistrationFailed("default", user.id, "smart", response, /alg/i);
  });

  it.each([-8, -257])("10b. an algorithm label that does not fit the key (a P-256 EC2 key labelled %i) is 400", async (alg) => {
    // WebAuthn §6.5.1.1: the COSE key must carry what RFC 9053/8812 require for its alg; EdDSA needs kty OKP
    // (crv Ed25519) and RS256 kty RSA. Stored as is, such a passkey would fail (or verify under another algorithm)
    // at every sign-in.
    const user = await newUser();
    const { response } = await answer("default", user.id, "smart", { alg });
    await expectRegistrationFailed("default", user.id, "smart", response, /public key/i);
  });

  it.each([
    [
      "an EC2 point that is not on P-256",
      () => ec2Key(crypto.getRandomValues(new Uint8Array(32)), crypto.getRandomValues(new Uint8Array(32))),
    ],
    ["an EC2 key with a 31-byte coordinate", () => ec2Key(new Uint8Array(31).fill(1), new Uint8Array(32).fill(1))],
    ["an EC2 key on another curve (P-384) labelled ES256", async () => withCrv(await realEc2Key(), 2)],
    ["an Ed25519 key labelled ES256", async () => withAlg(await realOkpKey(), -7)],
    ["an RSA key labelled ES256", async () => withAlg(await realRsaKey(), -7)],
    ["an RSA key labelled EdDSA", async () => withAlg(await realRsaKey(), -8)],
    [
      "an Ed25519 key of 31 bytes",
      () =>
        new Map<number, CborValue>([
          [1, 1],
          [3, -8],
          [-1, 6],
          [-2, new Uint8Array(31).fill(7)],
        ]),
    ],
  ])("10c. a credential public key that is invalid for its algorithm (%s) is 400", async (_label, key) => {
    const user = await newUser();
    const options = await begin("default", user.id, "smart");
    await expectRegistrationFailed("default", user.id, "smart", await withKey(options, await key()), /public key/i);
  });

  it.each([
    ["a P-256 key (ES256)", realEc2Key],
    ["an Ed25519 key (EdDSA)", realOkpKey],
    ["an RSA 2048 key (RS256)", realRsaKey],
  ])("10c. positive control: %s built by hand is accepted with its algorithm", async (_label, key) => {
    const user = await newUser();
    const options = await begin("default", user.id, "smart");
    const cose = await key();
    const response = await withKey(options, cose);
    const { credentials } = await json<{ credentials: CredentialJson[] }>(await complete("default", user.id, "smart", response));
    expect(credentials.map((c) => c.payload.credential_id)).toEqual([response.id]);
    const row = await env.DB.prepare("SELECT algorithm FROM credentials WHERE credential_id = ?")
      .bind(response.id)
      .first<{ algorithm: number }>();
    expect(row!.algorithm).toBe(cose.get(3));
  });

  it("11. crossOrigin true in clientData is 400", async () => {
    const user = await newUser();
    const { response } = await answer("default", user.id, "smart", { crossOrigin: true });
    await expectRegistrationFailed("default", user.id, "smart", response, /cross/i);
  });

  it("11. positive control: crossOrigin false is accepted", async () => {
    const user = await newUser();
    const { credentials } = await enroll(new SoftAuthenticator(), "default", user.id, "smart", { crossOrigin: false });
    expect(credentials).toHaveLength(1);
  });

  it("11b. Smart: an authenticator that reports credProps.rk false (no discoverable credential) is 400", async () => {
    const user = await newUser();
    const { response } = await answer("default", user.id, "smart", { discoverable: false, credProps: true });
    expect(response.clientExtensionResults.credProps).toEqual({ rk: false });
    await expectRegistrationFailed("default", user.id, "smart", response, /discoverable/i);
  });

  it("12. a credential id of 1024 bytes is 400 validation_failed naming id and rawId", async () => {
    // WebAuthn §7.1 caps credential ids at 1023 bytes = 1364 base64url characters. 1024 bytes encode to 1366
    // characters, which the RegistrationResponseJSON schema (max 1364, same bound as {credentialID} in paths)
    // already refuses; the contract maps schema violations to 400 validation_failed with `details` naming the
    // fields, so that is the precise answer (the ceremony's own 1023-byte check is the second line of defence).
    const user = await newUser();
    const { response } = await answer("default", user.id, "smart", { credentialId: crypto.getRandomValues(new Uint8Array(1024)) });
    expect(response.id).toHaveLength(1366);
    const before = await snapshot(user.id);
    const body = await expectError(await complete("default", user.id, "smart", response), 400, "validation_failed");
    const fields = (body.details.fields as { field: string }[]).map((f) => f.field);
    expect(fields).toEqual(expect.arrayContaining(["id", "rawId"]));
    await expectUnchanged(user.id, before);
  });

  it("12. positive control: a credential id of exactly 1023 bytes is accepted, and usable in paths", async () => {
    const user = await newUser();
    const credentialId = crypto.getRandomValues(new Uint8Array(1023));
    const { credentials, response } = await enroll(new SoftAuthenticator(), "default", user.id, "smart", { credentialId });
    expect(response.id).toHaveLength(1364);
    expect(credentials[0]!.payload.credential_id).toBe(b64url(credentialId));
    expect((await sys("PUT", `/pools/default/users/${user.id}/webauthn/${response.id}/name`, { body: { name: "long id" } })).status).toBe(
      204,
    );
  });
});

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
