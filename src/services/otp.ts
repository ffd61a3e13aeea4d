/**
 * OTP-gated passkey enrollment (purpose `enroll_webauthn`), no HTTP here.
 *
 * request: finds the user (by id, identifier or verified address), makes a code of the pool's length and TTL, keeps
 * only its HMAC (one live code per user and purpose: a new request replaces the old one and resets its attempts),
 * audits, then hands the code to the messenger. The caller learns nothing: unknown users, users without a verified
 * address and failed deliveries all look like success.
 *
 * complete: the code is single-use and checked in the commit batch of the ceremony (repo/codes.ts codeCheckStmts):
 * a wrong code counts an attempt (the code dies at 5), the right one is consumed in the batch that inserts the
 * passkey, the insert gated by it. A failed registration also uses the code up (checked, and consumed if right, in a
 * batch of its own). Every failure is the same ApiError (401 otp_invalid).
 *
 * Recovery (services/recovery.ts) uses the same machinery with purpose recover_webauthn (enrollmentCodeCheck's and
 * completeCodeEnrollmentOf's `purpose`), the pool's enroll_webauthn length and TTL (codePolicy) and the same limits.
 *
 * Abuse limits (src/services/limits.ts, per pool): requests per user per hour (429 rate_limited; a lookup that names
 * nobody is counted on the lookup, so it is limited alike), wrong codes per user per day (counted in the check's
 * batch, only for wrong codes; a full window refuses every check), and MAX_CODE_ATTEMPTS wrong codes per code.
 */
import { completeRegistration, completionAsk, registrationChallenge, registrationFailed } from "../webauthn/registration";
import { b64url } from "../crypto/bytes";
import { hmac, hmacKey } from "../crypto/derive";
import { LIMITS, parseTtl, POOL_DEFAULTS } from "../domain/pool";
import type { Env } from "../env";
import { ApiError, notFound } from "../errors";
import { messengerFor, type Messenger } from "./messenger";
import { type AuditEvent, auditIfStmt, recordAudit } from "../repo/audit";
import type { ChallengeRecord } from "../repo/challenges";
import {
  type CodeCheckStmts,
  type CodeKey,
  type CodeOutcome,
  codeCheckStmts,
  codeOutcome,
  listOutbox,
  saveCode,
  userOfPool,
} from "../repo/codes";
import type { Fragment } from "../repo/counters";
import { OTP_FAILURES, retryAfterSeconds } from "../domain/limits";
import type { PoolRow } from "../repo/pools";
import { type CompletionAsk, type CredentialRow, readEnrollee } from "../repo/credentials";
import { findUserIdByIdentifier, findUserIdsByVerifiedAddress, type AddressRow, type UserWithData } from "../repo/users";
import type { RegistrationResponseInput } from "../api/webauthn";
import type { Call } from "./call";
import { countCodeRequest, rateLimited, wrongCodeCounter } from "./limits";
import { getPool } from "./pools";
import { identifierKey } from "./users";

export const ENROLL_WEBAUTHN = "enroll_webauthn";
export const OUTBOX_LIMIT = 100;

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
export const codeKey = (env: Env) => hmacKey(env, "one-time-code-v1");

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
async function resolveUserId(call: Call, poolId: string, who: UserLookup): Promise<string | undefined> {
  const { env, tenantId } = call;
  if (who.userID !== undefined) return who.userID;
  if (who.identifier !== undefined) return findUserIdByIdentifier(env.DB, tenantId, poolId, identifierKey(who.identifier));
  if (who.address === undefined) return undefined;
  const ids = await findUserIdsByVerifiedAddress(env.DB, tenantId, poolId, identifierKey(who.address));
  return ids.length === 1 ? ids[0] : undefined;
}

/** A code's pool and the active user it is for (if any), and complete's checks when asked. */
export interface CodeSubject {
  pool: PoolRow;
  user: UserWithData | undefined;
  credentialTaken?: boolean;
  challengeUsed?: boolean;
  /** The SQL that names who may use the code (repo/codes.ts userOfPool, userOfWorkspace): the batch's own check. */
  holder: Fragment;
  /** The code check's outcome when it ran in the read's batch (options). */
  check?: CodeOutcome;
}

/**
 * The pool (404 when missing) and the active user the lookup names: one read when the lookup is by id (a lookup by
 * identifier or address reads its id first). With a code, that read also checks it (without consuming it).
 */
async function codeSubject(call: Call, poolId: string, who: UserLookup, ask: CompletionAsk = {}, code?: string): Promise<CodeSubject> {
  const userId = await resolveUserId(call, poolId, who);
  const holder = userOfPool(call.tenantId, poolId, userId ?? "");
  if (userId === undefined) return { pool: await getPool(call, poolId), user: undefined, holder };
  const check = code === undefined ? undefined : await enrollmentCodeCheck(call, holder, userId, code, "check");
  const { pool, user, credentialTaken, challengeUsed, extra } = await readEnrollee(
    call.env.DB,
    { tenantId: call.tenantId, poolId, userId, ...ask },
    check ? [...check.head, ...check.tail] : [],
  );
  if (!pool) throw notFound("pool");
  return {
    pool,
    user: user?.status === "active" ? user : undefined,
    credentialTaken,
    challengeUsed,
    holder,
    ...(check && extra && { check: outcomeOf(check, extra) }),
  };
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

/** The key of the user's live code of this purpose (enroll_webauthn unless said). */
export const codeKeyOf = (call: Call, poolId: string, userId: string, purpose = ENROLL_WEBAUTHN): CodeKey => ({
  tenantId: call.tenantId,
  poolId,
  userId,
  purpose,
});

/** The audit event of a failed code check or code enrollment. */
const codeFailed = (call: Call, poolId: string, userId: string, purpose: string, details: Record<string, unknown>) => ({
  tenantId: call.tenantId,
  poolId,
  userId,
  actor: call.actor,
  type: "otp.failed" as const,
  details: { purpose, ...details },
});

/** add/request: never reveals whether the user exists, has an address, or was sent anything. */
export async function createEnrollmentCode(
  call: Call,
  poolId: string,
  who: UserLookup,
  messenger: Messenger = messengerFor(call.env),
): Promise<void> {
  const key = await codeKey(call.env);
  const { pool, user } = await codeSubject(call, poolId, who);
  // Abuse limit (429): on the user, or on the lookup when it names nobody, so both look alike.
  await countCodeRequest(call, pool, user ? { userId: user.id } : lookupOf(who));
  const address = user && deliveryAddress(user.addresses, who.address);
  if (!user || !address) return;

  const { length, ttlSeconds } = codePolicy(pool);
  const code = generateCode(length);
  await saveCode(
    call.env.DB,
    codeKeyOf(call, poolId, user.id),
    await hashCode(key, user.id, ENROLL_WEBAUTHN, code),
    call.now + ttlSeconds * 1000,
    {
      tenantId: call.tenantId,
      poolId,
      userId: user.id,
      actor: call.actor,
      type: "otp.requested",
      details: { purpose: ENROLL_WEBAUTHN, channel: address.type },
    },
    call.now,
  );
  try {
    await messenger.send({ tenantId: call.tenantId, to: address.address, purpose: ENROLL_WEBAUTHN, code }, call.now);
  } catch (e) {
    console.error(
      `one-time code delivery failed (tenant ${call.tenantId}, user ${user.id}):`,
      e instanceof Error ? e.message : "unknown error",
    );
  }
}

export interface CodeEnrollment {
  who: UserLookup;
  code: string;
  response: RegistrationResponseInput;
  /** The challenge record the response answers, when the caller read it already (registrationChallenge). */
  challenge?: ChallengeRecord | null;
}

/**
 * What a code enrollment is for: the code's purpose; what a failed registration answers after a right code
 * ("otp_invalid": the one 401, as add/complete and enrollment links; "registration": the ceremony's own error, as
 * recovery); and statements that run in the commit batch right after the passkey insert, gated by the code (`gate`).
 */
export interface EnrollmentKind {
  purpose: string;
  failures: "otp_invalid" | "registration";
  gated?: (gate: Fragment) => D1PreparedStatement[];
}

const ENROLLMENT: EnrollmentKind = { purpose: ENROLL_WEBAUTHN, failures: "otp_invalid" };

/**
 * The statements that check `code` for the user in one batch (repo/codes.ts codeCheckStmts): the HMAC of the code is
 * compared with the stored one in SQL, a wrong code takes one of the code's attempts (MAX_CODE_ATTEMPTS) and counts
 * against the user's daily wrong-code limit (and is audited as otp.failed), a full window refuses (429, audited once
 * per window); in "consume" mode a right code is deleted. What the code guards runs between head and tail, gated.
 */
export async function enrollmentCodeCheck(
  call: Call,
  holder: Fragment,
  userId: string,
  code: string,
  mode: "check" | "consume",
  purpose = ENROLL_WEBAUTHN,
): Promise<CodeCheckStmts> {
  const key = await codeKey(call.env);
  return codeCheckStmts(call.env.DB, {
    tenantId: call.tenantId,
    userId,
    purpose,
    subject: holder,
    given: await hashCode(key, userId, purpose, code),
    mode,
    counter: wrongCodeCounter(userId),
    actor: call.actor,
    failed: { purpose, reason: "code" },
    now: call.now,
  });
}

/** The outcome of a check from the results of its head and tail statements, run one after the other in a batch. */
export function outcomeOf(check: CodeCheckStmts, results: D1Result[]): CodeOutcome {
  return codeOutcome(results.slice(0, check.head.length), results.slice(check.head.length));
}

/** Throws unless the code was right: 429 for a full wrong-code window, else otp_invalid (both audited in the batch). */
function refuseUnlessRight(call: Call, outcome: CodeOutcome | undefined): void {
  if (outcome?.kind === "limited") throw rateLimited(OTP_FAILURES.name, retryAfterSeconds(outcome.expiresAt, call.now));
  if (outcome?.kind !== "right") throw otpInvalid();
}

/**
 * add/complete: registers the passkey against a create/begin issued for that user (completeRegistration enforces the
 * challenge's user, pool and mode binding), with the code consumed in the same batch. Any ApiError becomes
 * otpInvalid; storage failures stay what they are (503/500).
 */
export async function completeCodeEnrollment(call: Call, poolId: string, input: CodeEnrollment): Promise<void> {
  call.origin();
  await codeKey(call.env);
  await completeCodeEnrollmentOf(call, await codeSubject(call, poolId, input.who, completionAsk(input.response)), input);
}

/**
 * add/complete for a subject already read (an enrollment link reads it with its workspace, recovery with the user's
 * pool). Two D1 round trips: the read, then one batch that checks the code (codeCheckStmts), consumes the challenge and
 * inserts the passkey where the code was right (with the kind's gated statements), and consumes the code. When the
 * ceremony fails before that batch (any §7.1 check), the code is checked and, if right, used up in a batch of its own,
 * as it is when the commit refuses the passkey: a failed registration uses the code up. Returns the user's passkeys.
 */
export async function completeCodeEnrollmentOf(
  call: Call,
  subject: CodeSubject,
  input: CodeEnrollment,
  kind: EnrollmentKind = ENROLLMENT,
): Promise<CredentialRow[]> {
  const origin = call.origin();
  const { pool, user } = subject;
  if (!user) throw otpInvalid();
  const poolId = pool.id;
  const check = await enrollmentCodeCheck(call, subject.holder, user.id, input.code, "consume", kind.purpose);
  const extra = kind.gated?.(check.gate) ?? [];

  let outcome: CodeOutcome | undefined;
  try {
    // The challenge is read once: its mode says which ceremony the response answers.
    const challenge = input.challenge !== undefined ? input.challenge : await registrationChallenge(call.env, input.response);
    if (challenge?.purpose !== "register") throw registrationFailed("unknown challenge");
    return await completeRegistration(call.env, { pool, user }, challenge.mode, input.response, origin, call.actor, call.now, {
      challenge,
      credentialTaken: subject.credentialTaken,
      challengeUsed: subject.challengeUsed,
      gate: {
        head: check.head,
        gate: check.gate,
        tail: [...extra, ...check.tail],
        settle: (head, tail) => {
          outcome = codeOutcome(head, tail.slice(extra.length));
          refuseUnlessRight(call, outcome);
        },
      },
    });
  } catch (e) {
    if (outcome && outcome.kind !== "right") throw e; // the code's refusal, audited in the commit batch
    if (!(e instanceof ApiError)) throw e;
    const failed = passkeyFailed(call, poolId, user.id, kind.purpose, e.code);
    const refusal = kind.failures === "registration" ? e : otpInvalid();
    if (outcome?.kind === "right") {
      // The commit batch used the code up and refused the passkey (capacity, duplicate).
      await recordAudit(call.env.DB, failed, call.now);
      throw refusal;
    }
    // The ceremony failed before the commit (or its batch was rolled back): check the code now, using it up if right.
    await spendCode(call, subject.holder, user.id, input.code, kind.purpose, failed);
    throw refusal;
  }
}

/**
 * Checks the code in a batch of its own, using it up if right (a failed registration uses the code up), with the
 * `failed` audit event written only when it was right; throws unless it was right (otp_invalid, or 429).
 */
export async function spendCode(
  call: Call,
  holder: Fragment,
  userId: string,
  code: string,
  purpose: string,
  failed: AuditEvent,
): Promise<void> {
  const spend = await enrollmentCodeCheck(call, holder, userId, code, "consume", purpose);
  const results = await call.env.DB.batch([
    ...spend.head,
    auditIfStmt(call.env.DB, failed, call.now, `SELECT 1 WHERE ${spend.gate.text}`, [...spend.gate.binds]),
    ...spend.tail,
  ]);
  results.splice(spend.head.length, 1);
  refuseUnlessRight(call, outcomeOf(spend, results));
}

/** The otp.failed event of a registration that failed after the code (its error code in details). */
export const passkeyFailed = (call: Call, poolId: string, userId: string, purpose: string, errorCode: string): AuditEvent =>
  codeFailed(call, poolId, userId, purpose, { reason: "passkey", error_code: errorCode });

/**
 * Checks the user's live code without consuming it, in the read's batch (the enrollment link's options, and tests):
 * a wrong code, or none live, counts a failed attempt exactly like add/complete. Returns the user; any failure is
 * otpInvalid (429 when the user's wrong-code window is full).
 */
export async function checkEnrollmentCode(call: Call, poolId: string, who: UserLookup, code: string): Promise<UserWithData> {
  await codeKey(call.env);
  return checkedUser(call, await codeSubject(call, poolId, who, {}, code));
}

/** The user of a subject read with its code check, when the code was right. */
export function checkedUser(call: Call, subject: CodeSubject): UserWithData {
  if (!subject.user) throw otpInvalid();
  refuseUnlessRight(call, subject.check);
  return subject.user;
}

/** The development outbox, newest first; a 404 like any unknown route outside development. */
export async function listOutboxMessages(call: Call) {
  if (call.env.ENVIRONMENT !== "development") throw new ApiError("not_found", "no such route");
  return { messages: await listOutbox(call.env.DB, call.tenantId, OUTBOX_LIMIT) };
}
