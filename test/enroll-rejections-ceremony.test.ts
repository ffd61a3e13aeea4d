/**
 * Rejections of passkey enrollment through the system API: client data, authenticator data and the credential public
 * key. Every test asserts the HTTP status, the contract's error body (expectError) and that nothing was stored
 * (snapshot before / expectUnchanged after). Where a rejection could also pass for an unrelated reason, the test
 * checks `details.reason` loosely and/or runs a positive control that differs from the rejected request only in the
 * property under test. The other parts: test/enroll-rejections-*.test.ts; shared helpers:
 * test/helpers/enroll-rejections.ts.
 */
import type { PublicKeyCredentialCreationOptionsJSON, RegistrationResponseJSON } from "@simplewebauthn/server";
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { b64url, cborEncode, concat, fromB64url, SoftAuthenticator, type CborValue } from "./authenticator";
import { expectError, json, ORIGIN, sys } from "./helpers/api";
import { answer, APP, EXAMPLE_POOL, expectRegistrationFailed } from "./helpers/enroll-rejections";
import { begin, complete, enroll, expectUnchanged, newPool, newUser, snapshot, type CredentialJson } from "./helpers/passkeys";

// ---------- hand-built registration responses, for credential public keys the soft authenticator cannot make ----------

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
