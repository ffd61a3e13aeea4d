/** Passkeys of a user, for administrators (system API): enroll in either mode, rename, delete. */
import type { RegistrationResponseInput } from "../api/webauthn";
import { checkName } from "../domain/names";
import type { PasskeyMode } from "../domain/vocabulary";
import { notFound, validationFailed } from "../errors";
import type { AuditEvent } from "../repo/audit";
import * as credentialRepo from "../repo/credentials";
import { endUserOidcSessions } from "../repo/oidc-sessions";
import type { CredentialRow, PasskeyRef } from "../repo/credentials";
import { beginRegistration, completeRegistration } from "../webauthn/registration";
import type { Call } from "./call";
import { getPool } from "./pools";
import { getUser } from "./users";

/** A user of a pool of the call's tenant. */
export interface UserRef {
  poolId: string;
  userId: string;
}

async function subject(call: Call, r: UserRef) {
  const [pool, user] = await Promise.all([getPool(call, r.poolId), getUser(call, r.poolId, r.userId)]);
  return { pool, user };
}

export async function beginEnrollment(call: Call, r: UserRef, mode: PasskeyMode) {
  const origin = call.origin();
  return { publicKey: await beginRegistration(call.env, await subject(call, r), mode, origin, call.now) };
}

/** Completes an enrollment; returns all the user's passkeys. */
export async function completeEnrollment(
  call: Call,
  r: UserRef,
  mode: PasskeyMode,
  response: RegistrationResponseInput,
): Promise<CredentialRow[]> {
  const origin = call.origin();
  await completeRegistration(call.env, await subject(call, r), mode, response, origin, call.actor, call.now);
  return credentialRepo.userPasskeys(call.env.DB, call.tenantId, r.userId);
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

/** An administrator may remove a user's last passkey. */
export async function deletePasskey(call: Call, r: UserRef, ref: string): Promise<void> {
  const audit = passkeyAudit(call, r, "passkey.deleted", ref);
  if (!(await credentialRepo.deletePasskey(call.env.DB, passkeyRef(call, r, ref), audit, call.now))) throw notFound("passkey");
  // Without a passkey the user cannot prove what the provider sessions and refresh tokens claim: they end (issue 10).
  if ((await credentialRepo.userPasskeys(call.env.DB, call.tenantId, r.userId)).length === 0) {
    await endUserOidcSessions(call.env.DB, call.tenantId, r.userId, call.now);
  }
}
