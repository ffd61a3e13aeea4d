/**
 * OTP-gated passkey enrollment (purpose `enroll_webauthn`), no HTTP here.
 *
 * request: finds the user (by id, identifier or verified address), makes a code of the pool's length and TTL, keeps
 * only its HMAC (one live code per user and purpose: a new request replaces the old one and resets its attempts),
 * audits, then hands the code to the messenger. The caller learns nothing: unknown users, users without a verified
 * address and failed deliveries all look like success.
 *
 * complete: the code is checked first and is single-use: a wrong code counts an attempt (the code dies at 5), the
 * right one is consumed before the passkey is verified, so a failed registration also uses it up. Every failure
 * is the same ApiError (401 otp_invalid).
 */
import { completeRegistration, type PasskeyMode } from "../ceremony/registration";
import { parseClientData, type RequestContext } from "../ceremony/context";
import { b64url, timingSafeEqualStr } from "../crypto/bytes";
import { hmac, hmacKey } from "../crypto/derive";
import { LIMITS, parseTtl, POOL_DEFAULTS } from "../domain/pool";
import type { Env } from "../env";
import { ApiError } from "../errors";
import { messengerFor, type Messenger } from "../messenger";
import { recordAudit } from "../repo/audit";
import { getChallenge } from "../repo/challenges";
import { consumeCode, countFailedAttempt, listOutbox, liveCodeHash, saveCode, type CodeKey } from "../repo/codes";
import type { PoolRow } from "../repo/pools";
import { findUserIdByIdentifier, findUserIdsByVerifiedAddress, getUser, type AddressRow, type UserWithData } from "../repo/users";
import type { RegistrationResponseInput } from "../schemas/webauthn";
import { requirePool } from "./pools";
import { identifierKey } from "./users";

export const ENROLL_WEBAUTHN = "enroll_webauthn";
export const OUTBOX_LIMIT = 100;

export interface PoolRef {
  tenantId: string;
  poolId: string;
}

/** Who the code is for: exactly one of the three (the route's schema guarantees it). */
export interface UserLookup {
  userID?: string;
  identifier?: string;
  address?: string;
}

export const otpInvalid = () => new ApiError(401, "otp_invalid", "the code or passkey could not be verified");

// ---------- codes ----------

/** `length` decimal digits from crypto.getRandomValues; bytes >= 250 are rejected so every digit is uniform. */
export function generateCode(length: number): string {
  let code = "";
  while (code.length < length) {
    for (const b of crypto.getRandomValues(new Uint8Array(length))) {
      if (b < 250 && code.length < length) code += String(b % 10);
    }
  }
  return code;
}

/** The HMAC-SHA256 key for code hashes (503 when KEY_ENCRYPTION_SECRET is not set). */
const codeKey = (env: Env) => hmacKey(env, "one-time-code-v1");

/** base64url HMAC-SHA256 of "<userId>:<purpose>:<code>": a stolen table does not allow an offline search of codes. */
export async function hashCode(key: CryptoKey, userId: string, purpose: string, code: string): Promise<string> {
  return b64url(await hmac(key, `${userId}:${purpose}:${code}`));
}

/** The pool's code length and TTL (seconds), falling back to the defaults for anything out of range. */
export function codePolicy(pool: Pick<PoolRow, "otpSettings">): { length: number; ttlSeconds: number } {
  const def = POOL_DEFAULTS.otpSettings.enroll_webauthn;
  const s = pool.otpSettings?.enroll_webauthn;
  const { min, max } = LIMITS.otpLength;
  const length = s && Number.isInteger(s.length) && s.length >= min && s.length <= max ? s.length : def.length;
  const ttlSeconds = (s && parseTtl(s.ttl)) ?? parseTtl(def.ttl)!;
  return { length, ttlSeconds };
}

// ---------- users and addresses ----------

/**
 * The active user of the pool that the lookup names, or undefined. By address: only verified addresses count, and
 * an address verified by more than one user of the pool names nobody.
 */
async function resolveUser(d1: D1Database, ref: PoolRef, who: UserLookup): Promise<UserWithData | undefined> {
  let id: string | undefined;
  if (who.userID !== undefined) id = who.userID;
  else if (who.identifier !== undefined) id = await findUserIdByIdentifier(d1, ref.tenantId, ref.poolId, identifierKey(who.identifier));
  else if (who.address !== undefined) {
    const ids = await findUserIdsByVerifiedAddress(d1, ref.tenantId, ref.poolId, identifierKey(who.address));
    id = ids.length === 1 ? ids[0] : undefined;
  }
  if (id === undefined) return undefined;
  const user = await getUser(d1, ref.tenantId, ref.poolId, id);
  return user?.status === "active" ? user : undefined;
}

/** The requested address when it is one of the user's verified addresses; else the first verified email, then mobile. */
export function deliveryAddress(addresses: readonly AddressRow[], requested?: string): AddressRow | undefined {
  const verified = addresses.filter((a) => a.verified);
  const key = requested === undefined ? undefined : identifierKey(requested);
  return verified.find((a) => a.addressKey === key) ?? verified.find((a) => a.type === "email") ?? verified.find((a) => a.type === "mobile");
}

// ---------- use cases ----------

/** add/request: never reveals whether the user exists, has an address, or was sent anything. */
export async function requestEnrollmentCode(
  env: Env, ref: PoolRef, who: UserLookup, actor: string, now: number, messenger: Messenger = messengerFor(env),
): Promise<void> {
  const key = await codeKey(env);
  const pool = await requirePool(env.DB, ref.tenantId, ref.poolId);
  const user = await resolveUser(env.DB, ref, who);
  const address = user && deliveryAddress(user.addresses, who.address);
  if (!user || !address) return;

  const { length, ttlSeconds } = codePolicy(pool);
  const code = generateCode(length);
  const k: CodeKey = { tenantId: ref.tenantId, poolId: ref.poolId, userId: user.id, purpose: ENROLL_WEBAUTHN };
  await saveCode(env.DB, k, await hashCode(key, user.id, ENROLL_WEBAUTHN, code), now + ttlSeconds * 1000, {
    tenantId: ref.tenantId, poolId: ref.poolId, userId: user.id, actor, type: "otp.requested", details: { purpose: ENROLL_WEBAUTHN, channel: address.type },
  }, now);
  try {
    await messenger.send({ tenantId: ref.tenantId, to: address.address, purpose: ENROLL_WEBAUTHN, code }, now);
  } catch (e) {
    console.error(`one-time code delivery failed (tenant ${ref.tenantId}, user ${user.id}):`, e instanceof Error ? e.message : "unknown error");
  }
}

/** The mode ("classic" | "smart") of the create/begin whose challenge the response answers, if it is known. */
async function registrationMode(env: Env, response: RegistrationResponseInput): Promise<PasskeyMode | undefined> {
  const clientData = parseClientData(response.response.clientDataJSON);
  const rec = clientData && (await getChallenge(env.CHALLENGES, clientData.challenge));
  return rec && rec.purpose === "register" ? rec.mode : undefined;
}

export interface CodeEnrollment {
  who: UserLookup;
  code: string;
  response: RegistrationResponseInput;
}

/**
 * add/complete: consumes the user's live code, then registers the passkey against a create/begin issued for that
 * user (completeRegistration enforces the challenge's user, pool and mode binding). Any ApiError becomes otpInvalid;
 * storage failures stay what they are (503/500).
 */
export async function completeEnrollmentWithCode(env: Env, ref: PoolRef, input: CodeEnrollment, ctx: RequestContext, actor: string, now: number): Promise<void> {
  const key = await codeKey(env);
  const pool = await requirePool(env.DB, ref.tenantId, ref.poolId);
  const user = await resolveUser(env.DB, ref, input.who);
  if (!user) throw otpInvalid();

  const k: CodeKey = { tenantId: ref.tenantId, poolId: ref.poolId, userId: user.id, purpose: ENROLL_WEBAUTHN };
  const failed = (details: Record<string, unknown>) =>
    ({ tenantId: ref.tenantId, poolId: ref.poolId, userId: user.id, actor, type: "otp.failed" as const, details: { purpose: ENROLL_WEBAUTHN, ...details } });

  if (!(await consumeCode(env.DB, k, await hashCode(key, user.id, ENROLL_WEBAUTHN, input.code), now))) {
    await countFailedAttempt(env.DB, k, failed({ reason: "code" }), now);
    throw otpInvalid();
  }

  try {
    const mode = await registrationMode(env, input.response);
    if (!mode) throw new ApiError(400, "registration_failed", "the passkey could not be registered", { reason: "unknown challenge" });
    await completeRegistration(env, { pool, user }, mode, input.response, ctx, actor, now);
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    await recordAudit(env.DB, failed({ reason: "passkey", error_code: e.code }), now);
    throw otpInvalid();
  }
}

/**
 * Checks the user's live code without consuming it (an enrollment link asks for creation options before the
 * ceremony; completeEnrollmentWithCode consumes the code afterwards). The HMAC of the given code is compared in
 * constant time with the stored one; a wrong code, or none live, counts a failed attempt exactly like add/complete.
 * Returns the user; any failure is otpInvalid.
 */
export async function checkEnrollmentCode(env: Env, ref: PoolRef, who: UserLookup, code: string, actor: string, now: number): Promise<UserWithData> {
  const key = await codeKey(env);
  const user = await resolveUser(env.DB, ref, who);
  if (!user) throw otpInvalid();
  const k: CodeKey = { tenantId: ref.tenantId, poolId: ref.poolId, userId: user.id, purpose: ENROLL_WEBAUTHN };
  const [given, stored] = await Promise.all([hashCode(key, user.id, ENROLL_WEBAUTHN, code), liveCodeHash(env.DB, k, now)]);
  // Compare even when nothing is stored, so both failures take the same time.
  const ok = await timingSafeEqualStr(given, stored ?? "");
  if (!ok || stored === null) {
    await countFailedAttempt(env.DB, k, {
      tenantId: ref.tenantId, poolId: ref.poolId, userId: user.id, actor, type: "otp.failed", details: { purpose: ENROLL_WEBAUTHN, reason: "code" },
    }, now);
    throw otpInvalid();
  }
  return user;
}

/** The development outbox, newest first; a 404 like any unknown route outside development. */
export async function readOutbox(env: Env, tenantId: string) {
  if (env.ENVIRONMENT !== "development") throw new ApiError(404, "not_found", "no such route");
  return { messages: await listOutbox(env.DB, tenantId, OUTBOX_LIMIT) };
}
