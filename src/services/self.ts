/** Self-service: a signed-in user manages its own passkeys in its workspace's mode; never its last passkey. */
import type { RegistrationResponseInput } from "../api/webauthn";
import type { PasskeyMode } from "../domain/vocabulary";
import { passkeyMode } from "../domain/workspace";
import { ApiError, notFound } from "../errors";
import { type CredentialRow, deletePasskeyKeepingOne, renamePasskey, userPasskeys } from "../repo/credentials";
import type { UserWithData } from "../repo/users";
import { beginRegistration, completeRegistration } from "../webauthn/registration";
import type { Call } from "./call";
import { passkeyAudit, passkeyRef, type UserRef, validName } from "./passkeys";
import { getPool } from "./pools";
import { getUser } from "./users";
import { getWorkspace } from "./workspaces";

/** The signed-in user: its pool and id, and the workspace it signed in to (the call's actor is this user). */
export interface SelfRef extends UserRef {
  workspaceId: string;
}

export const getSelf = (call: Call, me: SelfRef): Promise<UserWithData> => getUser(call, me.poolId, me.userId);

async function subjectInMode(call: Call, me: SelfRef, mode: PasskeyMode) {
  const [ws, pool, user] = await Promise.all([
    getWorkspace(call, me.workspaceId),
    getPool(call, me.poolId),
    getUser(call, me.poolId, me.userId),
  ]);
  const wsMode = passkeyMode(ws.mechanisms);
  if (wsMode !== mode) {
    throw new ApiError("passkey_mode_mismatch", `this workspace uses ${wsMode ?? "no"} passkey mode`, {
      workspace_mode: wsMode,
      requested_mode: mode,
    });
  }
  return { pool, user };
}

export async function beginSelfEnrollment(call: Call, me: SelfRef, mode: PasskeyMode) {
  const origin = call.origin();
  return { publicKey: await beginRegistration(call.env, await subjectInMode(call, me, mode), mode, origin, call.now) };
}

export async function completeSelfEnrollment(
  call: Call,
  me: SelfRef,
  mode: PasskeyMode,
  response: RegistrationResponseInput,
): Promise<CredentialRow[]> {
  const origin = call.origin();
  await completeRegistration(call.env, await subjectInMode(call, me, mode), mode, response, origin, call.actor, call.now);
  return userPasskeys(call.env.DB, call.tenantId, me.userId);
}

export async function deleteSelfPasskey(call: Call, me: SelfRef, ref: string): Promise<void> {
  const audit = passkeyAudit(call, me, "passkey.deleted", ref);
  const res = await deletePasskeyKeepingOne(call.env.DB, passkeyRef(call, me, ref), audit, call.now);
  if (res === "missing") throw notFound("passkey");
  if (res === "last") throw new ApiError("last_credential");
}

export async function updateSelfPasskeyName(call: Call, me: SelfRef, ref: string, name: string): Promise<void> {
  const value = validName(name);
  const audit = passkeyAudit(call, me, "passkey.renamed", ref);
  if (!(await renamePasskey(call.env.DB, passkeyRef(call, me, ref), value, audit, call.now))) throw notFound("passkey");
}
