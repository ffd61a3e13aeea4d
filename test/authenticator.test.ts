// Proves the SoftAuthenticator emits spec-correct bytes by running real ceremonies
// against @simplewebauthn/server (no mocked verification).
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type PublicKeyCredentialCreationOptionsJSON,
  type RegistrationResponseJSON,
  type WebAuthnCredential,
} from "@simplewebauthn/server";
import { convertCOSEtoPKCS, decodeAttestationObject } from "@simplewebauthn/server/helpers";
import { describe, expect, it } from "vitest";
import { SoftAuthenticator, b64url, cborEncode, fromB64url, rawToDer } from "./authenticator";

const rpID = "example.com";
const origin = "https://example.com";

async function regOptions(extra: Partial<Parameters<typeof generateRegistrationOptions>[0]> = {}) {
  return generateRegistrationOptions({ rpName: "Example", rpID, userName: "alice", ...extra });
}

function verifyReg(options: PublicKeyCredentialCreationOptionsJSON, response: RegistrationResponseJSON) {
  return verifyRegistrationResponse({ response, expectedChallenge: options.challenge, expectedOrigin: origin, expectedRPID: rpID });
}

/** Register a credential and return the server-side record. */
async function enroll(auth: SoftAuthenticator, discoverable = false) {
  const options = await regOptions({ authenticatorSelection: { residentKey: discoverable ? "required" : "discouraged" } });
  const res = await auth.register(options, { origin });
  const v = await verifyReg(options, res);
  if (!v.verified) throw new Error("registration failed");
  return { options, credential: v.registrationInfo.credential as WebAuthnCredential };
}

describe("helpers", () => {
  it("b64url round-trips without padding", () => {
    const bytes = new Uint8Array([0xfb, 0xff, 0x00, 0x01, 0x3e]);
    expect(b64url(bytes)).toBe("-_8AAT4");
    expect([...fromB64url("-_8AAT4")]).toEqual([...bytes]);
  });

  it("rawToDer strips leading zeros and pads high-bit integers", () => {
    const r = new Uint8Array(32);
    r[31] = 0x05; // mostly zeros -> INTEGER 05
    const s = new Uint8Array(32).fill(0x80); // high bit set -> 00 80..
    const der = rawToDer(new Uint8Array([...r, ...s]));
    expect([...der.subarray(0, 5)]).toEqual([0x30, 3 + 35, 0x02, 0x01, 0x05]);
    expect([...der.subarray(5, 8)]).toEqual([0x02, 33, 0x00]);
    expect(der.length).toBe(2 + 3 + 35);
  });

  it("cbor encodes integer-keyed maps, negatives and byte strings", () => {
    const out = cborEncode(
      new Map<number, number | Uint8Array>([
        [1, 2],
        [3, -7],
        [-1, 1],
        [-2, new Uint8Array([9])],
      ]),
    );
    expect([...out]).toEqual([0xa4, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21, 0x41, 0x09]);
    expect([...cborEncode({ fmt: "none" })]).toEqual([0xa1, 0x63, 0x66, 0x6d, 0x74, 0x64, 0x6e, 0x6f, 0x6e, 0x65]);
  });
});

describe("registration", () => {
  for (const attestation of ["none", "packed"] as const) {
    it(`verifies ${attestation} attestation; id and public key round-trip`, async () => {
      const auth = new SoftAuthenticator({ aaguid: "01020304-0506-0708-090a-0b0c0d0e0f10" });
      const options = await regOptions({ attestationType: attestation === "packed" ? "direct" : "none" });
      const res = await auth.register(options, { origin, attestation });
      const v = await verifyReg(options, res);
      expect(v.verified).toBe(true);
      if (!v.verified) return;
      const info = v.registrationInfo;
      expect(info.fmt).toBe(attestation);
      expect(info.aaguid).toBe("01020304-0506-0708-090a-0b0c0d0e0f10");
      const cred = auth.credentials[0]!;
      expect(info.credential.id).toBe(cred.idB64);
      expect(info.credential.counter).toBe(0);
      expect(info.userVerified).toBe(true);
      expect(info.credentialDeviceType).toBe("singleDevice");
      const raw = new Uint8Array((await crypto.subtle.exportKey("raw", cred.keyPair.publicKey)) as ArrayBuffer);
      expect([...convertCOSEtoPKCS(info.credential.publicKey)]).toEqual([...raw]);
      const att = decodeAttestationObject(fromB64url(res.response.attestationObject));
      expect(att.get("fmt")).toBe(attestation);
    });
  }

  it("reports backup flags and honours a long forced credential id and initial counter", async () => {
    const auth = new SoftAuthenticator();
    const options = await regOptions();
    const credentialId = crypto.getRandomValues(new Uint8Array(1023));
    const res = await auth.register(options, { origin, credentialId, signCount: 7, flags: { be: true, bs: true } });
    const v = await verifyReg(options, res);
    expect(v.verified).toBe(true);
    expect(v.registrationInfo?.credential.id).toBe(b64url(credentialId));
    expect(v.registrationInfo?.credential.counter).toBe(7);
    expect(v.registrationInfo?.credentialDeviceType).toBe("multiDevice");
    expect(v.registrationInfo?.credentialBackedUp).toBe(true);
  });

  it("discoverable registration keeps userHandle and reports credProps", async () => {
    const auth = new SoftAuthenticator();
    const options = await regOptions({ authenticatorSelection: { residentKey: "required" } });
    expect(options.extensions?.credProps).toBe(true); // simplewebauthn always requests credProps
    const res = await auth.register(options, { origin });
    expect(res.clientExtensionResults).toEqual({ credProps: { rk: true } });
    const cred = auth.credentials[0]!;
    expect(cred.discoverable).toBe(true);
    expect(b64url(cred.userHandle!)).toBe(options.user.id);
  });

  it("rejects wrong rpId hash, wrong type, wrong challenge, missing UP/UV, unsupported alg", async () => {
    const auth = new SoftAuthenticator();
    const options = await regOptions();
    const bad = [
      { rpId: "evil.com" },
      { type: "webauthn.get" },
      { challenge: b64url(new Uint8Array(32)) },
      { flags: { up: false } },
      { flags: { uv: false } },
      { alg: -999 }, // not in the server's default supported algs
    ];
    for (const o of bad) {
      const res = await auth.register(options, { origin, store: false, ...o });
      await expect(verifyReg(options, res), JSON.stringify(o)).rejects.toThrow();
    }
    // unsupported by policy: server only accepts ES256 but the key claims EdDSA / RS256
    for (const alg of [-8, -257]) {
      const res = await auth.register(options, { origin, store: false, alg });
      await expect(
        verifyRegistrationResponse({
          response: res,
          expectedChallenge: options.challenge,
          expectedOrigin: origin,
          expectedRPID: rpID,
          supportedAlgorithmIDs: [-7],
        }),
      ).rejects.toThrow(/unexpected public key alg/i);
    }
    expect(auth.credentials).toHaveLength(0);
  });
});

describe("authentication", () => {
  it("verifies with allowCredentials and the counter increments", async () => {
    const auth = new SoftAuthenticator();
    const { credential } = await enroll(auth);
    let counter = credential.counter;
    for (const expected of [1, 2]) {
      const options = await generateAuthenticationOptions({ rpID, allowCredentials: [{ id: credential.id }] });
      const res = await auth.authenticate(options, { origin });
      expect(res.response.userHandle).toBeUndefined();
      const v = await verifyAuthenticationResponse({
        response: res,
        expectedChallenge: options.challenge,
        expectedOrigin: origin,
        expectedRPID: rpID,
        credential: { ...credential, counter },
      });
      expect(v.verified).toBe(true);
      expect(v.authenticationInfo.newCounter).toBe(expected);
      counter = v.authenticationInfo.newCounter;
    }
  });

  it("discoverable login with empty allowCredentials returns userHandle", async () => {
    const auth = new SoftAuthenticator();
    const { options: reg, credential } = await enroll(auth, true);
    const options = await generateAuthenticationOptions({ rpID });
    expect(options.allowCredentials ?? []).toHaveLength(0);
    const res = await auth.authenticate(options, { origin });
    expect(res.id).toBe(credential.id);
    expect(res.response.userHandle).toBe(reg.user.id);
    const v = await verifyAuthenticationResponse({
      response: res,
      expectedChallenge: options.challenge,
      expectedOrigin: origin,
      expectedRPID: rpID,
      credential,
    });
    expect(v.verified).toBe(true);
  });

  it("keepZeroCounter keeps a zero counter", async () => {
    const auth = new SoftAuthenticator();
    const { credential } = await enroll(auth);
    const options = await generateAuthenticationOptions({ rpID, allowCredentials: [{ id: credential.id }] });
    const res = await auth.authenticate(options, { origin, keepZeroCounter: true });
    const v = await verifyAuthenticationResponse({
      response: res,
      expectedChallenge: options.challenge,
      expectedOrigin: origin,
      expectedRPID: rpID,
      credential,
    });
    expect(v.verified).toBe(true);
    expect(v.authenticationInfo.newCounter).toBe(0);
  });

  it("negative: tampered signature, wrong rpId, no UP/UV, wrong origin, counter regression", async () => {
    const auth = new SoftAuthenticator();
    const { credential } = await enroll(auth);
    const options = await generateAuthenticationOptions({ rpID, allowCredentials: [{ id: credential.id }] });
    const verify = async (o: Parameters<SoftAuthenticator["authenticate"]>[1], cred = credential) => {
      const res = await auth.authenticate(options, o);
      return verifyAuthenticationResponse({
        response: res,
        expectedChallenge: options.challenge,
        expectedOrigin: origin,
        expectedRPID: rpID,
        credential: cred,
      });
    };
    // tampered signature: verified false or throws
    const tampered = await verify({ origin, tamperSignature: true }).then(
      (v) => v.verified,
      () => false,
    );
    expect(tampered).toBe(false);
    await expect(verify({ origin, rpId: "evil.com" })).rejects.toThrow();
    await expect(verify({ origin, flags: { up: false } })).rejects.toThrow();
    await expect(verify({ origin, flags: { uv: false } })).rejects.toThrow();
    await expect(verify({ origin: "https://evil.com" })).rejects.toThrow();
    await expect(verify({ origin, type: "webauthn.create" })).rejects.toThrow();
    await expect(verify({ origin, signCount: 3 }, { ...credential, counter: 10 })).rejects.toThrow();
    // a clean one still works afterwards
    expect((await verify({ origin })).verified).toBe(true);
  });
});
