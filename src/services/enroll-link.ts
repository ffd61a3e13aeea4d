/**
 * Enrollment links, no HTTP here: `/{tid}/{wid}/enroll?user=<id>&code=<code>` lets a user register a passkey with a
 * one-time code (purpose enroll_webauthn, from add/request) and no other credential. This is how the first
 * administrator of a tenant gets a passkey.
 *
 * The user must belong to one of the workspace's pools, and the workspace must offer passkeys; the ceremony runs in
 * the workspace's mode (Smart or Classic). options checks the code without consuming it (a wrong code counts an
 * attempt), so a cancelled browser prompt does not burn the code; complete consumes it and registers the passkey
 * (completeEnrollmentWithCode). Every failure is the same 401 otp_invalid.
 */
import { beginRegistration } from "../webauthn/registration";
import type { PasskeyMode } from "../domain/vocabulary";
import type { RequestContext } from "../webauthn/context";
import { passkeyMode } from "../domain/workspace";
import type { Env } from "../env";
import type { PoolRow } from "../repo/pools";
import { userPoolId } from "../repo/users";
import { workspaceWithPoolRows } from "../repo/workspaces";
import type { RegistrationResponseInput } from "../api/webauthn";
import { checkEnrollmentCode, completeEnrollmentWithCode, otpInvalid } from "./otp";

export interface WorkspaceRef {
  tenantId: string;
  workspaceId: string;
}

/** Audit actor of link enrollments: the user acts for itself, authenticated by the code. */
const actorFor = (userId: string) => `user:${userId}`;

/** The pool of the workspace that holds the user, and the workspace's passkey mode; otpInvalid otherwise. */
async function locate(env: Env, ref: WorkspaceRef, userId: string): Promise<{ pool: PoolRow; mode: PasskeyMode }> {
  const [w, poolId] = await Promise.all([
    workspaceWithPoolRows(env.DB, ref.tenantId, ref.workspaceId),
    userPoolId(env.DB, ref.tenantId, userId),
  ]);
  const mode = w && passkeyMode(w.workspace.mechanisms);
  const pool = w?.pools.find((p) => p.id === poolId);
  if (!mode || !pool) throw otpInvalid();
  return { pool, mode };
}

/** options: checks the code (without consuming it) and begins a registration in the workspace's mode. */
export async function enrollmentLinkOptions(
  env: Env,
  ref: WorkspaceRef,
  input: { user_id: string; code: string },
  ctx: RequestContext,
  now: number,
) {
  const { pool, mode } = await locate(env, ref, input.user_id);
  const user = await checkEnrollmentCode(
    env,
    { tenantId: ref.tenantId, poolId: pool.id },
    { userID: input.user_id },
    input.code,
    actorFor(input.user_id),
    now,
  );
  return { publicKey: await beginRegistration(env, { pool, user }, mode, ctx, now) };
}

/** complete: consumes the code and registers the passkey against the begin issued for that user. */
export async function enrollmentLinkComplete(
  env: Env,
  ref: WorkspaceRef,
  input: { user_id: string; code: string; credential: RegistrationResponseInput },
  ctx: RequestContext,
  now: number,
): Promise<void> {
  const { pool } = await locate(env, ref, input.user_id);
  await completeEnrollmentWithCode(
    env,
    { tenantId: ref.tenantId, poolId: pool.id },
    { who: { userID: input.user_id }, code: input.code, response: input.credential },
    ctx,
    actorFor(input.user_id),
    now,
  );
}
