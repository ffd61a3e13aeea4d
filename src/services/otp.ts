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
 *
 * Abuse limits (src/services/limits.ts, per pool): requests per user per hour (429 rate_limited; a lookup that names
 * nobody is counted on the lookup, so it is limited alike), wrong codes per user per day (a slot taken before each
 * check, given back when the code was right), and MAX_CODE_ATTEMPTS wrong codes per code (src/repo/codes.ts).
 */
import { completeRegistration } from "../webauthn/registration";
import type { PasskeyMode } from "../domain/vocabulary";
import { parseClientData, type RequestContext } from "../webauthn/context";
import { b64url, timingSafeEqualStr } from "../crypto/bytes";
import { hmac, hmacKey } from "../crypto/derive";
import { LIMITS, parseTtl, POOL_DEFAULTS } from "../domain/pool";
import type { Env } from "../env";
import { ApiError } from "../errors";
import { messengerFor, type Messenger } from "./messenger";
import { recordAudit } from "../repo/audit";
import { getChallenge } from "../repo/challenges";
import { consumeCode, listOutbox, returnCodeAttempt, saveCode, takeCodeAttempt, type CodeKey } from "../repo/codes";
import type { PoolRow } from "../repo/pools";
import { findUserIdByIdentifier, findUserIdsByVerifiedAddress, getUser, type AddressRow, type UserWithData } from "../repo/users";
import type { RegistrationResponseInput } from "../api/webauthn";
import { countCodeRequest, takeUserCodeAttempt } from "./limits";
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

export const otpInvalid = () => new ApiError("otp_invalid");

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
  return (
    verified.find((a) => a.addressKey === key) ?? verified.find((a) => a.type === "email") ?? verified.find((a) => a.type === "mobile")
  );
}

// ---------- use cases ----------

/** The counter key of a lookup that names nobody (normalised like the lookups themselves). */
function lookupOf(who: UserLookup): { kind: string; value: string } {
  if (who.userID !== undefined) return { kind: "id", value: who.userID };
  if (who.identifier !== undefined) return { kind: "identifier", value: identifierKey(who.identifier) };
  return { kind: "address", value: identifierKey(who.address ?? "") };
}

/** add/request: never reveals whether the user exists, has an address, or was sent anything. */
export async function requestEnrollmentCode(
  env: Env,
  ref: PoolRef,
  who: UserLookup,
  actor: string,
  now: number,
  messenger: Messenger = messengerFor(env),
): Promise<void> {
  const key = await codeKey(env);
  const pool = await requirePool(env.DB, ref.tenantId, ref.poolId);
  const user = await resolveUser(env.DB, ref, who);
  // Abuse limit (429): on the user, or on the lookup when it names nobody, so both look alike.
  await countCodeRequest(env.DB, ref.tenantId, pool, user ? { userId: user.id } : lookupOf(who), actor, now);
  const address = user && deliveryAddress(user.addresses, who.address);
  if (!user || !address) return;

  const { length, ttlSeconds } = codePolicy(pool);
  const code = generateCode(length);
  const k: CodeKey = { tenantId: ref.tenantId, poolId: ref.poolId, userId: user.id, purpose: ENROLL_WEBAUTHN };
  await saveCode(
    env.DB,
    k,
    await hashCode(key, user.id, ENROLL_WEBAUTHN, code),
    now + ttlSeconds * 1000,
    {
      tenantId: ref.tenantId,
      poolId: ref.poolId,
      userId: user.id,
      actor,
      type: "otp.requested",
      details: { purpose: ENROLL_WEBAUTHN, channel: address.type },
    },
    now,
  );
  try {
    await messenger.send({ tenantId: ref.tenantId, to: address.address, purpose: ENROLL_WEBAUTHN, code }, now);
  } catch (e) {
    console.error(
      `one-time code delivery failed (tenant ${ref.tenantId}, user ${user.id}):`,
      e instanceof Error ? e.message : "unknown error",
    );
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
 * Takes one of the code's attempts (at most MAX_CODE_ATTEMPTS, also under parallel guesses) and compares the given
 * hash with the stored one in constant time; false when it differs or no live code is left.
 */
async function codeMatches(env: Env, k: CodeKey, given: string, now: number): Promise<boolean> {
  const stored = await takeCodeAttempt(env.DB, k, now);
  // Compare even when nothing is stored, so both failures take the same time.
  const same = await timingSafeEqualStr(given, stored ?? "");
  return same && stored !== null;
}

/**
 * add/complete: consumes the user's live code, then registers the passkey against a create/begin issued for that
 * user (completeRegistration enforces the challenge's user, pool and mode binding). Any ApiError becomes otpInvalid;
 * storage failures stay what they are (503/500).
 */
export async function completeEnrollmentWithCode(
  env: Env,
  ref: PoolRef,
  input: CodeEnrollment,
  ctx: RequestContext,
  actor: string,
  now: number,
): Promise<void> {
  const key = await codeKey(env);
  const pool = await requirePool(env.DB, ref.tenantId, ref.poolId);
  const user = await resolveUser(env.DB, ref, input.who);
  if (!user) throw otpInvalid();

  const k: CodeKey = { tenantId: ref.tenantId, poolId: ref.poolId, userId: user.id, purpose: ENROLL_WEBAUTHN };
  const failed = (details: Record<string, unknown>) => ({
    tenantId: ref.tenantId,
    poolId: ref.poolId,
    userId: user.id,
    actor,
    type: "otp.failed" as const,
    details: { purpose: ENROLL_WEBAUTHN, ...details },
  });

  // Per-user daily limit of wrong codes: a slot before the check (429 when used up), given back for the right code.
  const slot = await takeUserCodeAttempt(env.DB, ref.tenantId, pool, user.id, actor, now);
  const given = await hashCode(key, user.id, ENROLL_WEBAUTHN, input.code);
  if (!(await codeMatches(env, k, given, now)) || !(await consumeCode(env.DB, k, given, now))) {
    await recordAudit(env.DB, failed({ reason: "code" }), now);
    throw otpInvalid();
  }
  await slot.release();

  try {
    const mode = await registrationMode(env, input.response);
    if (!mode) throw new ApiError("registration_failed", "the passkey could not be registered", { reason: "unknown challenge" });
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
export async function checkEnrollmentCode(
  env: Env,
  ref: PoolRef,
  who: UserLookup,
  code: string,
  actor: string,
  now: number,
): Promise<UserWithData> {
  const key = await codeKey(env);
  const [pool, user] = await Promise.all([requirePool(env.DB, ref.tenantId, ref.poolId), resolveUser(env.DB, ref, who)]);
  if (!user) throw otpInvalid();
  const k: CodeKey = { tenantId: ref.tenantId, poolId: ref.poolId, userId: user.id, purpose: ENROLL_WEBAUTHN };
  const slot = await takeUserCodeAttempt(env.DB, ref.tenantId, pool, user.id, actor, now);
  const given = await hashCode(key, user.id, ENROLL_WEBAUTHN, code);
  if (!(await codeMatches(env, k, given, now))) {
    await recordAudit(
      env.DB,
      {
        tenantId: ref.tenantId,
        poolId: ref.poolId,
        userId: user.id,
        actor,
        type: "otp.failed",
        details: { purpose: ENROLL_WEBAUTHN, reason: "code" },
      },
      now,
    );
    throw otpInvalid();
  }
  // Checked, not used: the attempt goes back, so reopening the link does not wear the code out.
  await returnCodeAttempt(env.DB, k, given);
  await slot.release();
  return user;
}

/** The development outbox, newest first; a 404 like any unknown route outside development. */
export async function readOutbox(env: Env, tenantId: string) {
  if (env.ENVIRONMENT !== "development") throw new ApiError("not_found", "no such route");
  return { messages: await listOutbox(env.DB, tenantId, OUTBOX_LIMIT) };
}
