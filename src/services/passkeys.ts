/** Passkeys of a user, for administrators (system API): enroll in either mode, rename, delete. */
import type { RegistrationResponseInput } from "../api/webauthn";
import { checkName } from "../domain/names";
import type { PasskeyMode } from "../domain/vocabulary";
import { notFound, validationFailed } from "../errors";
import type { PoolRow } from "../repo/pools";
import type { UserWithData } from "../repo/users";
import type { AuditEvent } from "../repo/audit";
import * as credentialRepo from "../repo/credentials";
import type { CredentialRow, PasskeyRef } from "../repo/credentials";
import { beginRegistration, completeRegistration, completionAsk, registrationChallenge } from "../webauthn/registration";
import type { Call } from "./call";

/** A user of a pool of the call's tenant. */
export interface UserRef {
  poolId: string;
  userId: string;
}

/**
 * The pool and user of a ceremony in one read (with complete's checks when asked): 404 pool, then 404 user, as getPool
 * and getUser answer.
 */
export async function enrollee(
  call: Call,
  r: UserRef,
  extra: credentialRepo.CompletionAsk = {},
): Promise<credentialRepo.Enrollee & { pool: PoolRow; user: UserWithData }> {
  const e = await credentialRepo.readEnrollee(call.env.DB, { tenantId: call.tenantId, poolId: r.poolId, userId: r.userId, ...extra });
  if (!e.pool) throw notFound("pool");
  if (!e.user) throw notFound("user");
  return { ...e, pool: e.pool, user: e.user };
}

export async function beginEnrollment(call: Call, r: UserRef, mode: PasskeyMode) {
  const origin = call.origin();
  return { publicKey: await beginRegistration(call.env, await enrollee(call, r), mode, origin, call.now) };
}

/** Completes an enrollment; returns all the user's passkeys. */
export async function completeEnrollment(
  call: Call,
  r: UserRef,
  mode: PasskeyMode,
  response: RegistrationResponseInput,
): Promise<CredentialRow[]> {
  const origin = call.origin();
  // The D1 read and the KV read of the challenge run side by side; the checks keep their order (404 first).
  const [s, challenge] = await Promise.all([enrollee(call, r, completionAsk(response)), registrationChallenge(call.env, response)]);
  return completeRegistration(call.env, s, mode, response, origin, call.actor, call.now, { ...s, challenge });
}

/** The row reference of one passkey of the user (its entry id or credential id). */
export const passkeyRef = (call: Call, r: UserRef, ref: string): PasskeyRef => ({
  tenantId: call.tenantId,
  poolId: r.poolId,
  userId: r.userId,
  ref,
});

/** The audit event of a change to one passkey of a user (by its reference). */
export const passkeyAudit = (call: Call, r: UserRef, type: "passkey.renamed" | "passkey.deleted", ref: string): AuditEvent => ({
  tenantId: call.tenantId,
  poolId: r.poolId,
  userId: r.userId,
  actor: call.actor,
  type,
  details: { credential: ref },
});

export function validName(input: string): string {
  const check = checkName(input);
  if (!check.ok) throw validationFailed("json", [{ field: "name", message: check.message }], check.message);
  return check.value;
}

export async function updatePasskeyName(call: Call, r: UserRef, ref: string, name: string): Promise<void> {
  const value = validName(name);
  const audit = passkeyAudit(call, r, "passkey.renamed", ref);
  if (!(await credentialRepo.renamePasskey(call.env.DB, passkeyRef(call, r, ref), value, audit, call.now))) throw notFound("passkey");
}

/**
 * An administrator may remove a user's last passkey; then the user's provider sessions and refresh tokens end in the
 * same batch (issue 10).
 */
export async function deletePasskey(call: Call, r: UserRef, ref: string): Promise<void> {
  const audit = passkeyAudit(call, r, "passkey.deleted", ref);
  if (!(await credentialRepo.deletePasskey(call.env.DB, passkeyRef(call, r, ref), audit, call.now))) throw notFound("passkey");
}
