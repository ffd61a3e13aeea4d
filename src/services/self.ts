/** Self-service: a signed-in user manages its own passkeys in its workspace's mode; never its last passkey. */
import { beginRegistration, completeRegistration } from "../webauthn/registration";
import type { PasskeyMode } from "../domain/vocabulary";
import type { RequestContext } from "../webauthn/context";
import { passkeyMode } from "../domain/workspace";
import type { Env } from "../env";
import { ApiError, notFound } from "../errors";
import { deletePasskeyKeepingOne, renamePasskey, userPasskeys } from "../repo/credentials";
import type { RegistrationResponseInput } from "../api/webauthn";
import { passkeyAudit, validName, type UserRef } from "./passkeys";
import { requirePool } from "./pools";
import { requireUser } from "./users";
import { requireWorkspace } from "./workspaces";

export interface SelfRef extends UserRef {
  workspaceId: string;
}

export const me = (env: Env, r: SelfRef) => requireUser(env.DB, r.tenantId, r.poolId, r.userId);

async function subjectInMode(env: Env, r: SelfRef, mode: PasskeyMode) {
  const [ws, pool, user] = await Promise.all([
    requireWorkspace(env.DB, r.tenantId, r.workspaceId),
    requirePool(env.DB, r.tenantId, r.poolId),
    requireUser(env.DB, r.tenantId, r.poolId, r.userId),
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

export async function selfBegin(env: Env, r: SelfRef, mode: PasskeyMode, ctx: RequestContext, now: number) {
  return { publicKey: await beginRegistration(env, await subjectInMode(env, r, mode), mode, ctx, now) };
}

export async function selfComplete(
  env: Env,
  r: SelfRef,
  mode: PasskeyMode,
  response: RegistrationResponseInput,
  ctx: RequestContext,
  now: number,
) {
  await completeRegistration(env, await subjectInMode(env, r, mode), mode, response, ctx, `user:${r.userId}`, now);
  return userPasskeys(env.DB, r.tenantId, r.userId);
}

export async function selfDelete(env: Env, r: SelfRef, ref: string, now: number) {
  const audit = passkeyAudit(r, `user:${r.userId}`, "passkey.deleted", ref);
  const res = await deletePasskeyKeepingOne(env.DB, { ...r, ref }, audit, now);
  if (res === "missing") throw notFound("passkey");
  if (res === "last") throw new ApiError("last_credential");
}

export async function selfRename(env: Env, r: SelfRef, ref: string, name: string, now: number) {
  const value = validName(name);
  const audit = passkeyAudit(r, `user:${r.userId}`, "passkey.renamed", ref);
  if (!(await renamePasskey(env.DB, { ...r, ref }, value, audit, now))) throw notFound("passkey");
}
