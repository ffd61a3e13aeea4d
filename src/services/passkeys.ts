/** Passkeys of a user, for administrators (system API): enroll in either mode, rename, delete. */
import { beginRegistration, completeRegistration } from "../webauthn/registration";
import type { PasskeyMode } from "../domain/vocabulary";
import type { RequestContext } from "../webauthn/context";
import { checkName } from "../domain/names";
import type { Env } from "../env";
import { notFound, validationFailed } from "../errors";
import { deletePasskey, renamePasskey, userPasskeys } from "../repo/credentials";
import type { RegistrationResponseInput } from "../api/webauthn";
import { requirePool } from "./pools";
import { requireUser } from "./users";
import type { AuditEvent } from "../repo/audit";

export interface UserRef {
  tenantId: string;
  poolId: string;
  userId: string;
}

async function subject(env: Env, r: UserRef) {
  const [pool, user] = await Promise.all([requirePool(env.DB, r.tenantId, r.poolId), requireUser(env.DB, r.tenantId, r.poolId, r.userId)]);
  return { pool, user };
}

export async function beginEnrollment(env: Env, r: UserRef, mode: PasskeyMode, ctx: RequestContext, now: number) {
  return { publicKey: await beginRegistration(env, await subject(env, r), mode, ctx, now) };
}

/** Completes an enrollment; returns all the user's passkeys. */
export async function completeEnrollment(
  env: Env,
  r: UserRef,
  mode: PasskeyMode,
  response: RegistrationResponseInput,
  ctx: RequestContext,
  actor: string,
  now: number,
) {
  await completeRegistration(env, await subject(env, r), mode, response, ctx, actor, now);
  return userPasskeys(env.DB, r.tenantId, r.userId);
}

/** The audit event of a change to one passkey of a user (by its reference). */
export const passkeyAudit = (r: UserRef, actor: string, type: "passkey.renamed" | "passkey.deleted", ref: string): AuditEvent => ({
  tenantId: r.tenantId,
  poolId: r.poolId,
  userId: r.userId,
  actor,
  type,
  details: { credential: ref },
});

export function validName(input: string): string {
  const check = checkName(input);
  if (!check.ok) throw validationFailed("json", [{ field: "name", message: check.message }], check.message);
  return check.value;
}

export async function namePasskeyOf(env: Env, r: UserRef, ref: string, name: string, actor: string, now: number) {
  const value = validName(name);
  const audit = passkeyAudit(r, actor, "passkey.renamed", ref);
  if (!(await renamePasskey(env.DB, { ...r, ref }, value, audit, now))) throw notFound("passkey");
}

/** An administrator may remove a user's last passkey. */
export async function deletePasskeyOf(env: Env, r: UserRef, ref: string, actor: string, now: number) {
  const audit = passkeyAudit(r, actor, "passkey.deleted", ref);
  if (!(await deletePasskey(env.DB, { ...r, ref }, audit, now))) throw notFound("passkey");
}
