/**
 * Mutation fuzzing of ceremonies, registration (the assertion half: test/mutations-assertion.test.ts). Each suite
 * starts from a VALID response made by the software authenticator (test/authenticator: real keys, CBOR, signatures),
 * sends single mutations of it (systematic: every byte of authenticatorData, every field of clientData, CBOR-level
 * changes of the attestation object, every byte of the signature; then seeded random single-byte flips), and requires
 * every mutant to be rejected:
 *   registration: 400 registration_failed, and the credentials and consumed_challenges tables unchanged;
 *   assertion:    401 authentication_failed, no token, and the credential's row (sign count, flags, last use) and
 *                 consumed_challenges unchanged.
 * A mutant does not consume the challenge, so one ceremony serves many mutants; after them the unmutated response must
 * still succeed (positive control: the mutation, not a stale challenge, caused each rejection). If a mutant is
 * accepted, the next mutants get a fresh ceremony. All failures of a suite are reported together.
 *
 * Not sent, because they are equivalent or unverifiable by design (the comments at each list say which):
 *   - with fmt "none" nothing signs authenticatorData, so the signature counter, the AAGUID, the BE flag (alone)
 *     and the RFU flag bits are whatever the client says: a change is another, equally valid registration;
 *   - clientData members the server must ignore (an unknown member, crossOrigin:false) and a re-serialisation
 *     with the same members, when nothing signs clientDataJSON (fmt "none");
 *   (Encodings that the decoders under @simplewebauthn accept leniently, a DER SEQUENCE length or trailing bytes
 *   around a signature, a CBOR length that overruns authData, are sent: src/webauthn/encoding.ts refuses them.)
 *   - the convenience fields of RegistrationResponseJSON (response.publicKey, publicKeyAlgorithm,
 *     authenticatorData, transports, authenticatorAttachment): unauthenticated hints, not inputs to verification.
 */
import type { PublicKeyCredentialCreationOptionsJSON, RegistrationResponseJSON } from "@simplewebauthn/server";
import { decodeAttestationObject } from "@simplewebauthn/server/helpers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { b64url, cborEncode, concat, fromB64url, SoftAuthenticator, type CborValue } from "./authenticator";
import { ORIGIN, systemToken } from "./helpers/api";
import { digest, dispatch, fuzzSettings } from "./helpers/fuzz";
import { clientData, clientDataMutants, countMutants, FLAG, flip, flipOrSkip, SKIP } from "./helpers/mutations";
import { begin, newUser, segment, type Mode } from "./helpers/passkeys";
import { options as signinOptions } from "./helpers/signin";

const settings = fuzzSettings();
const RANDOM_FLIPS = settings.runs(60);
const counts = countMutants("registration", settings.seed);

/** A CBOR map from entries as given (duplicates allowed: cborEncode takes a Map or an object, which cannot hold them). */
const cborMapOf = (entries: [CborValue, CborValue][]) =>
  concat(new Uint8Array([0xa0 | entries.length]), ...entries.flatMap(([k, v]) => [cborEncode(k), cborEncode(v)]));

// ---------- registration ----------

interface RegBase {
  userId: string;
  mode: Mode;
  options: PublicKeyCredentialCreationOptionsJSON;
  response: RegistrationResponseJSON;
  fmt: string;
  attStmt: Map<string, CborValue>;
  authData: Uint8Array;
}

async function regBase(fmt: "none" | "packed", mode: Mode = "smart"): Promise<RegBase> {
  const user = await newUser();
  const options = await begin("default", user.id, mode);
  const response = await new SoftAuthenticator().register(options, { origin: ORIGIN, attestation: fmt });
  const att = decodeAttestationObject(fromB64url(response.response.attestationObject));
  return {
    userId: user.id,
    mode,
    options,
    response,
    fmt,
    attStmt: att.get("attStmt") as unknown as Map<string, CborValue>,
    authData: att.get("authData"),
  };
}

const withResponse = (b: RegBase, patch: Partial<RegistrationResponseJSON["response"]>): RegistrationResponseJSON => ({
  ...b.response,
  response: { ...b.response.response, ...patch },
});
/** The attestation object rebuilt from parts (same key order as the authenticator's). */
const attObj = (b: RegBase, parts: { fmt?: CborValue; attStmt?: CborValue; authData?: CborValue }) =>
  withResponse(b, {
    attestationObject: b64url(
      cborEncode({ fmt: parts.fmt ?? b.fmt, attStmt: parts.attStmt ?? b.attStmt, authData: parts.authData ?? b.authData }),
    ),
  });
const withAuthData = (b: RegBase, authData: Uint8Array) => attObj(b, { authData });
const attStmtWith = (b: RegBase, patch: Record<string, CborValue | undefined>) => {
  const m = new Map(b.attStmt);
  for (const [k, v] of Object.entries(patch)) v === undefined ? m.delete(k) : m.set(k, v);
  return attObj(b, { attStmt: m });
};

async function completeDirect(b: RegBase, body: unknown): Promise<Response> {
  return dispatch(
    new Request(`${ORIGIN}/api/identity/default/system/pools/default/users/${b.userId}/${segment(b.mode)}/create/complete`, {
      method: "POST",
      headers: { authorization: `Bearer ${await systemToken()}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    }),
  );
}

const regState = () => digest(["credentials", "consumed_challenges"]);

type RegMutant = [name: string, make: (b: RegBase) => unknown];

/**
 * Sends each mutant against a ceremony of `fmt`; returns the descriptions of the mutants that were not rejected
 * with 400 registration_failed and an unchanged store. Ends with the positive control.
 */
async function runRegistrationMutants(fmt: "none" | "packed", mutants: RegMutant[], mode: Mode = "smart"): Promise<string[]> {
  const failures: string[] = [];
  let b = await regBase(fmt, mode);
  for (const [name, make] of mutants) {
    const mutant = make(b);
    if (mutant === SKIP) continue;
    counts.tried++;
    const before = await regState();
    const res = await completeDirect(b, mutant);
    const text = await res.text();
    const body = JSON.parse(text) as { error_code?: string; details?: { reason?: string } };
    const unchanged = JSON.stringify(await regState()) === JSON.stringify(before);
    if (res.status === 400 && body.error_code === "registration_failed" && unchanged) {
      counts.rejected++;
      continue;
    }
    failures.push(`${fmt}/${mode}: ${name} → ${res.status} ${text.slice(0, 160)}${unchanged ? "" : " (store changed)"}`);
    b = await regBase(fmt, mode); // that ceremony may be used up
  }
  const control = await completeDirect(b, b.response);
  expect(control.status, `positive control after ${fmt} mutants: ${await control.clone().text()}`).toBe(200);
  return failures;
}

/** Offsets in registration authData: rpIdHash 0..31, flags 32, counter 33..36, AAGUID 37..52, credIdLen 53..54, credId, COSE key. */
const AT = { flags: 32, counter: 33, aaguid: 37, credIdLen: 53, credId: 55 };

describe("registration mutants are rejected (400 registration_failed, nothing stored)", {
  timeout: settings.extended ? 3_600_000 : 120_000,
}, () => {
  it("clientData: every checked member, for fmt none and packed", async () => {
    const failures: string[] = [];
    for (const fmt of ["none", "packed"] as const) {
      const mutants: RegMutant[] = clientDataMutants("webauthn.create").map(([name, f]) => [
        `clientData ${name}`,
        (b) => withResponse(b, { clientDataJSON: f(b.response.response.clientDataJSON, b.options.challenge) }),
      ]);
      // The challenge of a real ceremony, issued for another user (binding to the user, not just "a live challenge").
      const other = await begin("default", (await newUser()).id, "smart");
      mutants.push([
        "challenge of another user's live ceremony",
        (b) => withResponse(b, { clientDataJSON: clientData(b.response.response.clientDataJSON, { challenge: other.challenge }) }),
      ]);
      const signin = await signinOptions("default");
      mutants.push([
        "challenge of a live sign-in ceremony",
        (b) =>
          withResponse(b, { clientDataJSON: clientData(b.response.response.clientDataJSON, { challenge: signin.publicKey.challenge }) }),
      ]);
      if (fmt === "packed") {
        // Signed bytes: even changes the server must otherwise ignore break the attestation signature.
        mutants.push([
          "clientData with an extra member (signed)",
          (b) => withResponse(b, { clientDataJSON: clientData(b.response.response.clientDataJSON, { extra: "x" }) }),
        ]);
        mutants.push([
          "clientData with crossOrigin false (signed)",
          (b) => withResponse(b, { clientDataJSON: clientData(b.response.response.clientDataJSON, { crossOrigin: false }) }),
        ]);
      }
      failures.push(...(await runRegistrationMutants(fmt, mutants)));
    }
    expect(failures).toEqual([]);
  });

  it("authenticatorData, fmt packed: every byte position and every flag bit (all of it is signed)", async () => {
    const b = await regBase("packed");
    const mutants: RegMutant[] = [];
    for (let i = 0; i < b.authData.length; i++)
      if (i !== AT.flags) mutants.push([`authData byte ${i} ^ 0x01`, (x) => withAuthData(x, flip(x.authData, i))]);
    for (const [name, bit] of Object.entries(FLAG))
      mutants.push([`authData flag ${name} flipped`, (x) => withAuthData(x, flip(x.authData, AT.flags, bit))]);
    expect(await runRegistrationMutants("packed", mutants)).toEqual([]);
  });

  it("authenticatorData, fmt none: every byte the server can check (rpIdHash, UP/UV/AT/ED/BS flags, credential id and length, COSE key)", async () => {
    const b = await regBase("none");
    const credIdLen = (b.authData[AT.credIdLen]! << 8) | b.authData[AT.credIdLen + 1]!;
    const mutants: RegMutant[] = [];
    for (let i = 0; i < 32; i++) mutants.push([`rpIdHash byte ${i}`, (x) => withAuthData(x, flip(x.authData, i))]);
    // Not BE alone, RFU1, RFU2: unsigned under "none", a client may report them as it likes (see the file comment).
    for (const name of ["UP", "UV", "AT", "ED", "BS"] as const)
      mutants.push([`flag ${name} flipped`, (x) => withAuthData(x, flip(x.authData, AT.flags, FLAG[name]))]);
    // Not the counter (33..36) nor the AAGUID (37..52): unsigned under "none".
    for (const i of [AT.credIdLen, AT.credIdLen + 1])
      mutants.push([`credential id length byte ${i}`, (x) => withAuthData(x, flip(x.authData, i))]);
    for (let i = AT.credId; i < AT.credId + credIdLen; i++)
      mutants.push([`credential id byte ${i - AT.credId}`, (x) => withAuthData(x, flip(x.authData, i))]);
    // Every byte of the COSE key, the length byte of y (0x20 -> 0x21, a length that overruns authData) included.
    for (let i = AT.credId + credIdLen; i < b.authData.length; i++) {
      mutants.push([`COSE key byte ${i - AT.credId - credIdLen}`, (x) => withAuthData(x, flip(x.authData, i))]);
    }
    mutants.push(["authData truncated by one byte", (x) => withAuthData(x, x.authData.subarray(0, x.authData.length - 1))]);
    mutants.push(["authData with a trailing byte", (x) => withAuthData(x, concat(x.authData, new Uint8Array([0])))]);
    mutants.push(["authData of 37 bytes (no attested credential)", (x) => withAuthData(x, x.authData.subarray(0, 37))]);
    expect(await runRegistrationMutants("none", mutants)).toEqual([]);
  });

  it("attestation object, fmt none: fmt, attStmt (must be an empty map) and structure", async () => {
    const donor = await regBase("none");
    const mutants: RegMutant[] = [
      ...["packed", "fido-u2f", "tpm", "android-key", "android-safetynet", "apple", "NONE", "nonE", "", "none\u0000", "unknown"].map(
        (f): RegMutant => [`fmt ${JSON.stringify(f)}`, (b) => attObj(b, { fmt: f })],
      ),
      ["fmt as a number", (b) => attObj(b, { fmt: 0 })],
      // Known open defect (b): fmt "none" with a non-empty or non-map attStmt.
      ["none with attStmt {x: 1}", (b) => attObj(b, { attStmt: { x: 1 } })],
      ["none with attStmt {alg: -7, sig: h'00'}", (b) => attObj(b, { attStmt: { alg: -7, sig: new Uint8Array([0]) } })],
      ["none with attStmt an array", (b) => attObj(b, { attStmt: [] })],
      ["none with attStmt a byte string", (b) => attObj(b, { attStmt: new Uint8Array(0) })],
      ["none with attStmt a number", (b) => attObj(b, { attStmt: 0 })],
      ["none with attStmt a text string", (b) => attObj(b, { attStmt: "" })],
      ["authData as a text string", (b) => attObj(b, { authData: "x".repeat(b.authData.length) })],
      ["authData of another registration", (b) => attObj(b, { authData: donor.authData })],
      ["attestation object as an array", (b) => withResponse(b, { attestationObject: b64url(cborEncode([b.fmt, {}, b.authData])) })],
      [
        "attestation object without fmt",
        (b) => withResponse(b, { attestationObject: b64url(cborEncode({ attStmt: {}, authData: b.authData })) }),
      ],
      [
        "attestation object without attStmt",
        (b) => withResponse(b, { attestationObject: b64url(cborEncode({ fmt: "none", authData: b.authData })) }),
      ],
      [
        "attestation object with a trailing byte after its CBOR item",
        (b) =>
          withResponse(b, { attestationObject: b64url(concat(fromB64url(b.response.response.attestationObject), new Uint8Array([0]))) }),
      ],
      [
        "attestation object truncated by one byte",
        (b) => withResponse(b, { attestationObject: b64url(fromB64url(b.response.response.attestationObject).subarray(0, -1)) }),
      ],
      [
        "duplicate fmt key (none, then packed)",
        (b) =>
          withResponse(b, {
            attestationObject: b64url(
              cborMapOf([
                ["fmt", "none"],
                ["attStmt", {}],
                ["authData", b.authData],
                ["fmt", "packed"],
              ]),
            ),
          }),
      ],
      [
        "duplicate authData key (another credential's second)",
        (b) =>
          withResponse(b, {
            attestationObject: b64url(
              cborMapOf([
                ["fmt", "none"],
                ["attStmt", {}],
                ["authData", b.authData],
                ["authData", donor.authData],
              ]),
            ),
          }),
      ],
      [
        "credential id changed in id and rawId",
        (b) => {
          const id = b64url(flip(fromB64url(b.response.rawId), 0));
          return { ...b.response, id, rawId: id };
        },
      ],
      ["id differs from rawId", (b) => ({ ...b.response, id: b64url(flip(fromB64url(b.response.rawId), 0)) })],
      ["credProps.rk false in Smart mode", (b) => ({ ...b.response, clientExtensionResults: { credProps: { rk: false } } })],
    ];
    expect(await runRegistrationMutants("none", mutants)).toEqual([]);
  });

  it("attestation object, fmt packed (self attestation): alg, sig, x5c", async () => {
    const donor = await regBase("packed");
    const mutants: RegMutant[] = [
      // Known open defect (a): a self-attestation alg that differs from the credential key's alg (-7).
      ["attStmt alg -257 (RS256) for an ES256 key", (b) => attStmtWith(b, { alg: -257 })],
      ["attStmt alg -8 (EdDSA) for an ES256 key", (b) => attStmtWith(b, { alg: -8 })],
      ["attStmt alg -35 (ES384) for an ES256 key", (b) => attStmtWith(b, { alg: -35 })],
      ["attStmt alg 0", (b) => attStmtWith(b, { alg: 0 })],
      ["attStmt alg as a string", (b) => attStmtWith(b, { alg: "-7" })],
      ["attStmt without alg", (b) => attStmtWith(b, { alg: undefined })],
      ["attStmt without sig", (b) => attStmtWith(b, { sig: undefined })],
      ["attStmt sig empty", (b) => attStmtWith(b, { sig: new Uint8Array(0) })],
      ["attStmt sig truncated", (b) => attStmtWith(b, { sig: (b.attStmt.get("sig") as Uint8Array).subarray(0, -1) })],
      ["attStmt sig of another registration", (b) => attStmtWith(b, { sig: donor.attStmt.get("sig")! })],
      ["attStmt sig as a text string", (b) => attStmtWith(b, { sig: "sig" })],
      ["attStmt with a garbage x5c (full attestation)", (b) => attStmtWith(b, { x5c: [crypto.getRandomValues(new Uint8Array(64))] })],
      ["attStmt with an empty x5c", (b) => attStmtWith(b, { x5c: [] })],
      ["packed with an empty attStmt", (b) => attObj(b, { attStmt: {} })],
      ["packed turned into none (attStmt kept)", (b) => attObj(b, { fmt: "none" })],
      ["authData of another registration, sig kept", (b) => attObj(b, { authData: donor.authData })],
    ];
    for (let i = 0; i < 72; i++)
      mutants.push([
        `attStmt sig byte ${i} ^ 0x01`,
        (b) => flipOrSkip(b.attStmt.get("sig") as Uint8Array, i, (sig) => attStmtWith(b, { sig })),
      ]);
    mutants.push([
      "attStmt sig with a trailing byte after the DER SEQUENCE",
      (b) => attStmtWith(b, { sig: concat(b.attStmt.get("sig") as Uint8Array, new Uint8Array([0])) }),
    ]);
    expect(await runRegistrationMutants("packed", mutants)).toEqual([]);
  });

  it(`random single-byte flips (seeded, ${RANDOM_FLIPS}) of clientDataJSON and attestationObject, fmt packed`, async () => {
    const b = await regBase("packed");
    const cd = fromB64url(b.response.response.clientDataJSON);
    const ao = fromB64url(b.response.response.attestationObject);
    const flips = fc.sample(fc.tuple(fc.constantFrom("clientDataJSON", "attestationObject"), fc.nat(), fc.integer({ min: 1, max: 255 })), {
      numRuns: RANDOM_FLIPS,
      seed: settings.seed,
    });
    const mutants = flips.map(([field, pos, mask]): RegMutant => {
      const bytes = field === "clientDataJSON" ? cd : ao;
      const i = pos % bytes.length;
      return [
        `${field} byte ${i} ^ 0x${mask.toString(16)}`,
        (x) => {
          const own = fromB64url(field === "clientDataJSON" ? x.response.response.clientDataJSON : x.response.response.attestationObject);
          return i < own.length ? withResponse(x, { [field]: b64url(flip(own, i, mask)) }) : SKIP;
        },
      ];
    });
    expect(await runRegistrationMutants("packed", mutants)).toEqual([]);
  });
});
