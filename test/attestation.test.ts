/**
 * Attestation statement formats (WebAuthn §8.2 packed, §8.7 none, and the shape of the others): every statement §8
 * forbids is refused with 400 registration_failed and nothing is stored.
 */
import { describe, expect, it } from "vitest";
import { SoftAuthenticator, type CborValue, type RegisterOpts } from "./authenticator";
import { expectError, ORIGIN } from "./helpers/api";
import { begin, complete, enroll, expectUnchanged, newPool, newUser, snapshot } from "./helpers/passkeys";

async function attempt(opts: Partial<RegisterOpts>, poolBody: Record<string, unknown> = {}) {
  const pool = await newPool(poolBody);
  const user = await newUser(pool);
  const before = await snapshot(user.id);
  const options = await begin(pool, user.id, "smart");
  const response = await new SoftAuthenticator().register(options, { origin: ORIGIN, ...opts });
  return { res: await complete(pool, user.id, "smart", response), user, before };
}

async function expectRefused(opts: Partial<RegisterOpts>, poolBody: Record<string, unknown> = {}) {
  const { res, user, before } = await attempt(opts, poolBody);
  await expectError(res, 400, "registration_failed");
  await expectUnchanged(user.id, before);
}

const sig = new Uint8Array(70).fill(1);
const cert = new Uint8Array(300).fill(2);

describe("attestation formats (§8)", () => {
  it("accepts packed self attestation whose alg is the key's, and none with an empty map", async () => {
    for (const attestation of ["packed", "none"] as const) {
      const pool = await newPool();
      const user = await newUser(pool);
      const { credentials } = await enroll(new SoftAuthenticator(), pool, user.id, "smart", { attestation });
      expect(credentials[0]!.payload.attestationType).toBe(attestation);
    }
  });

  it.each([
    ["ES384", -35],
    ["EdDSA", -8],
    ["RS256", -257],
    ["PS256", -37],
    ["ES512", -36],
  ])("refuses packed self attestation with alg %s for an ES256 key (§8.2)", async (_name, alg) => {
    await expectRefused({ attestation: "packed", attStmtAlg: alg });
  });

  it.each<[string, CborValue]>([
    ["a non-empty map", { alg: -7 }],
    ["a map with a junk key", { x: new Uint8Array(1) }],
    ["an array", []],
    ["an integer", 0],
    ["a byte string", new Uint8Array(0)],
    ["a text string", ""],
    ["a map with an integer key", new Map<number, CborValue>([[1, 1]])],
  ])("refuses none with attStmt %s (§8.7)", async (_name, attStmt) => {
    await expectRefused({ fmt: "none", attStmt });
  });

  it.each<[string, CborValue]>([
    ["no sig", { alg: -7 }],
    ["no alg", { sig }],
    ["alg as text", { alg: "-7", sig }],
    ["empty sig", { alg: -7, sig: new Uint8Array(0) }],
    ["sig as text", { alg: -7, sig: "abc" }],
    ["ecdaaKeyId", { alg: -7, sig, ecdaaKeyId: new Uint8Array(16) }],
    ["an unknown field", { alg: -7, sig, extra: 1 }],
    ["x5c empty", { alg: -7, sig, x5c: [] }],
    ["x5c not an array", { alg: -7, sig, x5c: cert }],
    ["x5c with a non-bytes entry", { alg: -7, sig, x5c: ["cert"] }],
    ["a non-map statement", [-7, sig]],
  ])("refuses packed with %s", async (_name, attStmt) => {
    await expectRefused({ fmt: "packed", attStmt });
  });

  it.each<[string, string, CborValue]>([
    ["fido-u2f without x5c", "fido-u2f", { sig }],
    ["fido-u2f with two certificates", "fido-u2f", { sig, x5c: [cert, cert] }],
    ["tpm version 1.2", "tpm", { ver: "1.2", alg: -7, x5c: [cert], sig, certInfo: cert, pubArea: cert }],
    ["tpm without pubArea", "tpm", { ver: "2.0", alg: -7, x5c: [cert], sig, certInfo: cert }],
    ["android-key without x5c", "android-key", { alg: -7, sig }],
    ["android-safetynet without response", "android-safetynet", { ver: "1" }],
    ["apple without x5c", "apple", {}],
    ["an unknown format", "webauthn-next", {}],
    ["an empty format", "", {}],
  ])("refuses %s", async (_name, fmt, attStmt) => {
    await expectRefused({ fmt, attStmt });
  });

  it("refuses the same statements when the pool asks for direct attestation", async () => {
    await expectRefused({ attestation: "packed", attStmtAlg: -257 }, { passkey_settings: { attestation: "direct" } });
    await expectRefused({ fmt: "none", attStmt: { alg: -7 } }, { passkey_settings: { attestation: "direct" } });
  });
});
