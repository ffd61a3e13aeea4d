/** Self-service: a signed-in user manages its own passkeys in its workspace's mode; never its last passkey. */
import type { RegistrationResponseInput } from "../api/webauthn";
import type { PasskeyMode } from "../domain/vocabulary";
import { passkeyMode } from "../domain/workspace";
import { ApiError, notFound } from "../errors";
import { type CompletionAsk, type CredentialRow, deletePasskeyKeepingOne, readEnrollee, renamePasskey } from "../repo/credentials";
import type { UserWithData } from "../repo/users";
import { beginRegistration, completeRegistration, completionAsk, registrationChallenge } from "../webauthn/registration";
import type { Call } from "./call";
import { passkeyAudit, passkeyRef, type UserRef, validName } from "./passkeys";
import { getUser } from "./users";
import { workspaceConfig } from "../repo/config-cache";
import { rpIdFor } from "../webauthn/context";

/** The signed-in user: its pool and id, and the workspace it signed in to (the call's actor is this user). */
export interface SelfRef extends UserRef {
  workspaceId: string;
}

export const getSelf = (call: Call, me: SelfRef): Promise<UserWithData> => getUser(call, me.poolId, me.userId);

/** The user's passkey identity in its workspace, as the browser's Signal API wants it (null without passkeys here). */
export interface WebauthnUser {
  rp_id: string;
  id: string;
  name: string;
  display_name: string;
}

/**
 * GET /me: the user and its WebAuthn identity in the workspace (RP ID and user handle, for the hosted pages' Signal API
 * calls). The workspace's pools come from the isolate cache: no D1 read beyond the user's.
 */
export async function getSelfWithIdentity(call: Call, me: SelfRef): Promise<{ user: UserWithData; webauthnUser: WebauthnUser | null }> {
  const [user, w] = await Promise.all([getSelf(call, me), workspaceConfig(call.env.DB, call.tenantId, me.workspaceId, call.now)]);
  const pool = w?.poolsById.get(me.poolId);
  if (!w || !pool || passkeyMode(w.workspace.mechanisms) === null) return { user, webauthnUser: null };
  const name = user.identifiers[0]?.identifier ?? user.id;
  return { user, webauthnUser: { rp_id: rpIdFor(pool, call.origin()), id: user.userHandle, name, display_name: name } };
}

/** The workspace's mode, pool and user in one read (with complete's checks when asked). */
async function subjectInMode(call: Call, me: SelfRef, mode: PasskeyMode, ask: CompletionAsk = {}) {
  const { workspaceMechanisms, pool, user, ...checks } = await readEnrollee(call.env.DB, {
    tenantId: call.tenantId,
    poolId: me.poolId,
    userId: me.userId,
    workspaceId: me.workspaceId,
    ...ask,
  });
  if (!workspaceMechanisms) throw notFound("workspace");
  if (!pool) throw notFound("pool");
  if (!user) throw notFound("user");
  const wsMode = passkeyMode(workspaceMechanisms);
  if (wsMode !== mode) {
    throw new ApiError("passkey_mode_mismatch", `this workspace uses ${wsMode ?? "no"} passkey mode`, {
      workspace_mode: wsMode,
      requested_mode: mode,
    });
  }
  return { pool, user, ...checks };
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
  const [s, challenge] = await Promise.all([
    subjectInMode(call, me, mode, completionAsk(response)),
    registrationChallenge(call.env, response),
  ]);
  return completeRegistration(call.env, s, mode, response, origin, call.actor, call.now, { ...s, challenge });
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
