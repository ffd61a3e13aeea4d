/**
 * Recovery, "Lost your passkey?" (issue 12), no HTTP here: a user who lost every passkey gets a one-time code (purpose
 * recover_webauthn) at a VERIFIED address, creates a new passkey in the workspace's mode with it, and is signed in.
 *
 * - Offered in a workspace with a passkey mode where a pool has `self_service.recovery` (else 404, like GET
 *   /login/config's `recovery`). A user can recover only when THEIR pool has recovery on and takes passkeys as a first
 *   factor; an address verified by more than one such user names nobody.
 * - request: always the same answer. The critical path is the same for everybody (one address read, one request
 *   counted: on the user, else on the address, so the 429 of the pool's limit looks alike); making, storing and
 *   sending the code are handed to waitUntil, so timing tells nothing either.
 * - options: checks the code without consuming it (a wrong one counts), and begins a registration for that user.
 * - complete: reads the challenge that options issued (KV), which names the user; one D1 read of that user (its
 *   verified addresses must include the one given), then one batch that checks and consumes the code, consumes the
 *   challenge, inserts the passkey and writes passkey.registered and passkey.recovered (services/otp.ts
 *   completeCodeEnrollmentOf). A code failure is 401 otp_invalid; a failed registration after a right code is the
 *   ceremony's own error (400 registration_failed...) and uses the code up. Then a notice (purpose passkey_recovered,
 *   no code) to each verified address of the user, off the critical path, and the sign-in's answer (signedIn).
 * Old passkeys are kept: the user deletes them in the portal.
 */
import type { RegistrationResponseInput } from "../api/webauthn";
import { poolOffersRecovery } from "../domain/pool";
import type { PasskeyMode } from "../domain/vocabulary";
import { passkeyMode } from "../domain/workspace";
import { notFound } from "../errors";
import { userOfRecovery, saveCode } from "../repo/codes";
import { workspaceConfig } from "../repo/config-cache";
import { type CompletionAsk, readLinkEnrollee } from "../repo/credentials";
import type { PoolRow } from "../repo/pools";
import { type AddressHolder, recoveredAuditStmt, verifiedAddressHolders } from "../repo/recovery";
import type { UserWithData } from "../repo/users";
import { beginRegistration, completionAsk, registrationChallenge, registrationFailed } from "../webauthn/registration";
import type { WorkspaceCall } from "./call";
import { countCodeRequest } from "./limits";
import { type Messenger, messengerFor } from "./messenger";
import {
  type CodeSubject,
  checkedUser,
  codeKey,
  codeKeyOf,
  codePolicy,
  completeCodeEnrollmentOf,
  enrollmentCodeCheck,
  generateCode,
  hashCode,
  otpInvalid,
  outcomeOf,
  passkeyFailed,
  spendCode,
} from "./otp";
import { requestableScope, signedInWithNewPasskey } from "./signin";
import { identifierKey } from "./users";

export const RECOVER_WEBAUTHN = "recover_webauthn";
export const PASSKEY_RECOVERED = "passkey_recovered";

/** Recovery's steps are audited as the user acting for itself, authenticated by the code (as enrollment links). */
const asUser = (s: WorkspaceCall, userId: string): WorkspaceCall => ({ ...s, actor: `user:${userId}` });

/**
 * The workspace's recovery (from the configuration cache, no D1): 404 unless it has a passkey mode and a pool with
 * recovery on; `pools` are those whose users may recover (recovery on, passkeys a first factor).
 */
async function recoveryOf(s: WorkspaceCall): Promise<{ pools: PoolRow[] }> {
  const w = await workspaceConfig(s.env.DB, s.tenantId, s.workspaceId, s.now);
  if (!offersRecovery(w)) throw notFound("recovery");
  return { pools: w.pools.filter(poolOffersRecovery) };
}

/** Whether a workspace offers recovery (as GET /login/config's `recovery`); the hosted page is 404 otherwise. */
export function offersRecovery<W extends { workspace: { mechanisms: string[] }; pools: readonly PoolRow[] }>(w: W | undefined): w is W {
  return !!w && passkeyMode(w.workspace.mechanisms) !== null && w.pools.some(poolOffersRecovery);
}

/** The one user of these pools with this verified address (one read), or undefined. */
async function holderOf(s: WorkspaceCall, pools: readonly PoolRow[], address: string): Promise<AddressHolder | undefined> {
  const found = await verifiedAddressHolders(
    s.env.DB,
    s.tenantId,
    pools.map((p) => p.id),
    identifierKey(address),
  );
  return found.length === 1 ? found[0] : undefined;
}

/**
 * The user in one read: its pool when it is one of the workspace's, the user (active, else none), the workspace's
 * passkey mode, and complete's checks when asked; `check` (a code check) runs in the same batch.
 */
async function locate(
  s: WorkspaceCall,
  userId: string,
  pools: readonly PoolRow[],
  ask: CompletionAsk = {},
  check?: Awaited<ReturnType<typeof enrollmentCodeCheck>>,
): Promise<CodeSubject & { mode: PasskeyMode | null }> {
  const q = { tenantId: s.tenantId, workspaceId: s.workspaceId, userId, ...ask };
  const e = await readLinkEnrollee(s.env.DB, q, check ? [...check.head, ...check.tail] : []);
  const mode = e.workspaceMechanisms ? passkeyMode(e.workspaceMechanisms) : null;
  // The pool row read now, but only when it is one of the recovery pools the (cached) configuration names.
  const pool = e.pool && pools.some((p) => p.id === e.pool?.id) && e.pool.recovery ? e.pool : undefined;
  const user = pool && e.user?.status === "active" && e.user.poolId === pool.id ? e.user : undefined;
  return {
    pool: pool ?? pools[0]!,
    user,
    mode,
    credentialTaken: e.credentialTaken,
    challengeUsed: e.challengeUsed,
    holder: userOfRecovery(s.tenantId, s.workspaceId, userId),
    ...(check && e.extra && { check: outcomeOf(check, e.extra) }),
  };
}

// ---------- request ----------

/** POST /recover/request: never reveals whether the address belongs to anybody, or whether anything was sent. */
export async function requestRecovery(
  s: WorkspaceCall,
  input: { address: string },
  messenger: Messenger = messengerFor(s.env),
): Promise<void> {
  const key = await codeKey(s.env); // 503 before anything is read or counted
  const { pools } = await recoveryOf(s);
  const holder = await holderOf(s, pools, input.address);
  const pool = (holder && pools.find((p) => p.id === holder.poolId)) || pools[0];
  // A workspace whose recovery pools all lack passkeys as a first factor: nothing to count on, nothing to send.
  if (!pool) return;
  await countCodeRequest(s, pool, holder ? { userId: holder.userId } : { kind: "address", value: identifierKey(input.address) });
  if (!holder) return;
  s.defer(
    sendRecoveryCode(s, pool, holder, key, messenger).catch((e: unknown) =>
      console.error(
        `recovery code not sent (tenant ${s.tenantId}, user ${holder.userId}):`,
        e instanceof Error ? e.message : "unknown error",
      ),
    ),
  );
}

/** Makes the user's code (replacing any live one), keeps its HMAC, audits, and hands it to the messenger. */
async function sendRecoveryCode(s: WorkspaceCall, pool: PoolRow, h: AddressHolder, key: CryptoKey, messenger: Messenger) {
  const { length, ttlSeconds } = codePolicy(pool);
  const code = generateCode(length);
  await saveCode(
    s.env.DB,
    codeKeyOf(s, pool.id, h.userId, RECOVER_WEBAUTHN),
    await hashCode(key, h.userId, RECOVER_WEBAUTHN, code),
    s.now + ttlSeconds * 1000,
    {
      tenantId: s.tenantId,
      poolId: pool.id,
      userId: h.userId,
      actor: s.actor,
      type: "otp.requested",
      details: { purpose: RECOVER_WEBAUTHN, channel: h.type, workspace_id: s.workspaceId },
    },
    s.now,
  );
  await messenger.send({ tenantId: s.tenantId, to: h.address, purpose: RECOVER_WEBAUTHN, code }, s.now);
}

// ---------- options ----------

/**
 * POST /recover/webauthn/options: the code is checked (not consumed; a wrong one counts) in the read's batch, then
 * creation options in the workspace's mode for that user. Two D1 round trips (the address, then the user with the
 * check: the code's HMAC needs the user's id) and one KV write. An address of nobody runs the same check, which
 * names nobody and fails alike.
 */
export async function beginRecovery(s: WorkspaceCall, input: { address: string; code: string }) {
  const origin = s.origin();
  await codeKey(s.env);
  const { pools } = await recoveryOf(s);
  if (pools.length === 0) throw otpInvalid();
  const userId = (await holderOf(s, pools, input.address))?.userId ?? "";
  const as = asUser(s, userId);
  const check = await enrollmentCodeCheck(
    as,
    userOfRecovery(s.tenantId, s.workspaceId, userId),
    userId,
    input.code,
    "check",
    RECOVER_WEBAUTHN,
  );
  const subject = await locate(s, userId, pools, {}, check);
  const user = checkedUser(as, subject);
  if (!subject.mode) throw otpInvalid();
  return { publicKey: await beginRegistration(s.env, { pool: subject.pool, user }, subject.mode, origin, s.now) };
}

// ---------- complete ----------

export interface RecoveryCompletion {
  address: string;
  code: string;
  credential: RegistrationResponseInput;
  authz?: string;
  scope?: string;
}

/** The user's verified address with this key. */
const hasVerified = (user: UserWithData, address: string) => {
  const key = identifierKey(address);
  return user.addresses.some((a) => a.verified && a.addressKey === key);
};

/**
 * POST /recover/webauthn/complete: the passkey registered and the code consumed in one batch, then signed in. Two D1
 * round trips and one KV read (the challenge) on the critical path; the notices are deferred.
 */
export async function completeRecovery(s: WorkspaceCall, input: RecoveryCompletion) {
  s.origin(); // a ceremony that issues a token: 503 not_configured before anything is read or used up
  const scope = requestableScope(s, input.scope);
  await codeKey(s.env);
  const { pools } = await recoveryOf(s);
  if (pools.length === 0) throw otpInvalid();
  // The challenge options issued names the user (and its pool): no address lookup on the way to success.
  const challenge = await registrationChallenge(s.env, input.credential);
  const named =
    challenge?.purpose === "register" && challenge.tenantId === s.tenantId && pools.some((p) => p.id === challenge.poolId)
      ? challenge.userId
      : "";
  const subject = await locate(s, named, pools, completionAsk(input.credential));
  const { user, pool } = subject;
  if (!user || !challenge || !hasVerified(user, input.address)) return refuseStrayResponse(s, pools, input);

  const as = asUser(s, user.id);
  const mode = challenge.mode;
  const passkeys = await completeCodeEnrollmentOf(
    as,
    subject,
    { who: { userID: user.id }, code: input.code, response: input.credential, challenge },
    {
      purpose: RECOVER_WEBAUTHN,
      failures: "registration",
      gated: (gate) => [
        recoveredAuditStmt(
          s.env.DB,
          {
            tenantId: s.tenantId,
            userId: user.id,
            credentialId: input.credential.rawId,
            actor: as.actor,
            workspaceId: s.workspaceId,
            mode,
          },
          gate,
          s.now,
        ),
      ],
    },
  );
  s.defer(notifyRecovered(s, user));
  const passkey = passkeys.find((p) => p.credentialId === input.credential.rawId);
  return signedInWithNewPasskey(s, scope, { pool, userId: user.id }, passkey, input.authz);
}

/**
 * A response that does not answer recovery options for the address's user (unknown or foreign challenge, another
 * user): the code of the address's user, if any, is checked and used up when right (a failed registration uses the
 * code up); 401 otp_invalid for a wrong code or nobody, else 400 registration_failed.
 */
async function refuseStrayResponse(s: WorkspaceCall, pools: readonly PoolRow[], input: RecoveryCompletion): Promise<never> {
  const holder = await holderOf(s, pools, input.address);
  if (!holder) throw otpInvalid();
  const as = asUser(s, holder.userId);
  const failed = passkeyFailed(as, holder.poolId, holder.userId, RECOVER_WEBAUTHN, "registration_failed");
  await spendCode(as, userOfRecovery(s.tenantId, s.workspaceId, holder.userId), holder.userId, input.code, RECOVER_WEBAUTHN, failed);
  throw registrationFailed("unknown challenge");
}

/** The notice "a passkey was added to your account by recovery" to each verified address (no code). Never throws. */
async function notifyRecovered(s: WorkspaceCall, user: UserWithData, messenger: Messenger = messengerFor(s.env)): Promise<void> {
  const to = [...new Set(user.addresses.filter((a) => a.verified).map((a) => a.address))];
  await Promise.all(
    to.map((address) =>
      messenger.send({ tenantId: s.tenantId, to: address, purpose: PASSKEY_RECOVERED, code: "" }, s.now).catch((e: unknown) => {
        console.error(
          `recovery notice not sent (tenant ${s.tenantId}, user ${user.id}):`,
          e instanceof Error ? e.message : "unknown error",
        );
      }),
    ),
  );
}
