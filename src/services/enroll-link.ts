/**
 * Enrollment links, no HTTP here: `/{tid}/{wid}/enroll?user=<id>&code=<code>` lets a user register a passkey with a
 * one-time code (purpose enroll_webauthn, from add/request) and no other credential. This is how the first
 * administrator of a tenant gets a passkey.
 *
 * The user must belong to one of the workspace's pools, and the workspace must offer passkeys; the ceremony runs in
 * the workspace's mode (Smart or Classic). options checks the code without consuming it (a wrong code counts an
 * attempt), so a cancelled browser prompt does not burn the code; complete consumes it and registers the passkey
 * (completeCodeEnrollment). Every failure is the same 401 otp_invalid.
 */
import type { RegistrationResponseInput } from "../api/webauthn";
import type { PasskeyMode } from "../domain/vocabulary";
import { passkeyMode } from "../domain/workspace";
import type { PoolRow } from "../repo/pools";
import { userPoolId } from "../repo/users";
import { workspaceWithPoolRows } from "../repo/workspaces";
import { beginRegistration } from "../webauthn/registration";
import type { WorkspaceCall } from "./call";
import { checkEnrollmentCode, completeCodeEnrollment, otpInvalid } from "./otp";

/** Link enrollments are audited as the user acting for itself, authenticated by the code. */
const asUser = (call: WorkspaceCall, userId: string): WorkspaceCall => ({ ...call, actor: `user:${userId}` });

/** The pool of the workspace that holds the user, and the workspace's passkey mode; otpInvalid otherwise. */
async function locate(call: WorkspaceCall, userId: string): Promise<{ pool: PoolRow; mode: PasskeyMode }> {
  const [w, poolId] = await Promise.all([
    workspaceWithPoolRows(call.env.DB, call.tenantId, call.workspaceId),
    userPoolId(call.env.DB, call.tenantId, userId),
  ]);
  const mode = w && passkeyMode(w.workspace.mechanisms);
  const pool = w?.pools.find((p) => p.id === poolId);
  if (!mode || !pool) throw otpInvalid();
  return { pool, mode };
}

/** options: checks the code (without consuming it) and begins a registration in the workspace's mode. */
export async function beginLinkEnrollment(call: WorkspaceCall, input: { user_id: string; code: string }) {
  const origin = call.origin();
  const { pool, mode } = await locate(call, input.user_id);
  const user = await checkEnrollmentCode(asUser(call, input.user_id), pool.id, { userID: input.user_id }, input.code);
  return { publicKey: await beginRegistration(call.env, { pool, user }, mode, origin, call.now) };
}

/** complete: consumes the code and registers the passkey against the begin issued for that user. */
export async function completeLinkEnrollment(
  call: WorkspaceCall,
  input: { user_id: string; code: string; credential: RegistrationResponseInput },
): Promise<void> {
  call.origin(); // a ceremony: 503 not_configured before anything is read or used up
  const { pool } = await locate(call, input.user_id);
  await completeCodeEnrollment(asUser(call, input.user_id), pool.id, {
    who: { userID: input.user_id },
    code: input.code,
    response: input.credential,
  });
}
