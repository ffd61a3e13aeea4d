/**
 * Enrollment links, no HTTP here: `/{tid}/{wid}/enroll?user=<id>&code=<code>` lets a user register a passkey with a
 * one-time code (purpose enroll_webauthn, from add/request) and no other credential. This is how the first
 * administrator of a tenant gets a passkey.
 *
 * The user must belong to one of the workspace's pools, and the workspace must offer passkeys; the ceremony runs in
 * the workspace's mode (Smart or Classic). options checks the code without consuming it (a wrong code counts an
 * attempt), so a cancelled browser prompt does not burn the code; complete consumes it in the batch that registers
 * the passkey (completeCodeEnrollmentOf). Every failure is the same 401 otp_invalid.
 */
import type { RegistrationResponseInput } from "../api/webauthn";
import type { PasskeyMode } from "../domain/vocabulary";
import { passkeyMode } from "../domain/workspace";
import { type CodeCheckStmts, userOfWorkspace } from "../repo/codes";
import { type CompletionAsk, readLinkEnrollee } from "../repo/credentials";
import { beginRegistration, completionAsk } from "../webauthn/registration";
import type { WorkspaceCall } from "./call";
import { checkedUser, type CodeSubject, completeCodeEnrollmentOf, enrollmentCodeCheck, otpInvalid, outcomeOf } from "./otp";

/** Link enrollments are audited as the user acting for itself, authenticated by the code. */
const asUser = (call: WorkspaceCall, userId: string): WorkspaceCall => ({ ...call, actor: `user:${userId}` });

/**
 * In one read: the pool of the workspace that holds the user, the user (active, else no user: the code check fails
 * alike), and the workspace's passkey mode; otpInvalid when the workspace, its passkeys or the pool are missing. With
 * a code check, it runs in the same batch (options).
 */
async function locate(
  call: WorkspaceCall,
  userId: string,
  ask: CompletionAsk = {},
  check?: CodeCheckStmts,
): Promise<CodeSubject & { mode: PasskeyMode }> {
  const q = { tenantId: call.tenantId, workspaceId: call.workspaceId, userId, ...ask };
  const e = await readLinkEnrollee(call.env.DB, q, check ? [...check.head, ...check.tail] : []);
  const mode = e.workspaceMechanisms && passkeyMode(e.workspaceMechanisms);
  if (!mode || !e.pool) throw otpInvalid();
  const user = e.user?.status === "active" && e.user.poolId === e.pool.id ? e.user : undefined;
  return {
    pool: e.pool,
    user,
    mode,
    credentialTaken: e.credentialTaken,
    challengeUsed: e.challengeUsed,
    holder: holderOf(call, userId),
    ...(check && e.extra && { check: outcomeOf(check, e.extra) }),
  };
}

/** Who may use a code through this link: the user, active, in one of the workspace's pools, passkeys on. */
const holderOf = (call: WorkspaceCall, userId: string) => userOfWorkspace(call.tenantId, call.workspaceId, userId);

/**
 * options: checks the code (without consuming it) in the read's batch and begins a registration in the workspace's
 * mode: one D1 round trip and one KV write.
 */
export async function beginLinkEnrollment(call: WorkspaceCall, input: { user_id: string; code: string }) {
  const origin = call.origin();
  const as = asUser(call, input.user_id);
  const check = await enrollmentCodeCheck(as, holderOf(call, input.user_id), input.user_id, input.code, "check");
  const subject = await locate(call, input.user_id, {}, check);
  const user = checkedUser(as, subject);
  return { publicKey: await beginRegistration(call.env, { pool: subject.pool, user }, subject.mode, origin, call.now) };
}

/** complete: registers the passkey against the begin issued for that user, consuming the code in the same batch. */
export async function completeLinkEnrollment(
  call: WorkspaceCall,
  input: { user_id: string; code: string; credential: RegistrationResponseInput },
): Promise<void> {
  call.origin(); // a ceremony: 503 not_configured before anything is read or used up
  const subject = await locate(call, input.user_id, completionAsk(input.credential));
  await completeCodeEnrollmentOf(asUser(call, input.user_id), subject, {
    who: { userID: input.user_id },
    code: input.code,
    response: input.credential,
  });
}
