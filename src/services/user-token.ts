/** User access tokens from sign-in: ES256 JWTs, 15 minutes, scopes from an allowed list. */
import { TTL } from "../domain/ttl";
import { ApiError } from "../errors";
import { issuerFor, signAccessToken } from "../crypto/jwt";
import type { Call } from "./call";

export const USER_SCOPES = ["openid", "profile", "view_ss_profile", "manage_ss_profile"];
export const DEFAULT_USER_SCOPE = "view_ss_profile manage_ss_profile";

/** Administrators: users of a tenant's "admins" pool signing in through its "admin" workspace also get "identity". */
export const ADMIN_POOL = "admins";
export const ADMIN_WORKSPACE = "admin";
export const ADMIN_SCOPES = [...USER_SCOPES, "identity"];
export const DEFAULT_ADMIN_SCOPE = "identity view_ss_profile manage_ss_profile";

export const isAdminSignIn = (workspaceId: string, poolId: string) => workspaceId === ADMIN_WORKSPACE && poolId === ADMIN_POOL;

/** Validates a requested scope string; returns it normalised (deduplicated, in request order). */
export function userScope(requested: string | undefined, allowed: readonly string[] = USER_SCOPES, fallback = DEFAULT_USER_SCOPE): string {
  const list = (requested ?? fallback).split(" ").filter(Boolean);
  const unknown = list.filter((s) => !allowed.includes(s));
  if (list.length === 0 || unknown.length) {
    throw new ApiError("invalid_scope", `scope not allowed: ${unknown.join(" ") || "(empty)"}`, { allowed: [...allowed] });
  }
  return [...new Set(list)].join(" ");
}

/** What a user token says, besides its tenant (the call's). */
export interface UserTokenClaims {
  workspaceId: string;
  poolId: string;
  userId: string;
  scope: string;
  amr: string[];
  /** When the user signed in (ms). */
  authTime: number;
}

export async function createUserToken(call: Call, c: UserTokenClaims) {
  const { env, tenantId, now } = call;
  const token = await signAccessToken(
    { db: env.DB, secret: env.KEY_ENCRYPTION_SECRET },
    issuerFor(call.origin().issuerBase, tenantId),
    {
      sub: c.userId,
      tid: tenantId,
      wid: c.workspaceId,
      pool_id: c.poolId,
      scope: c.scope,
      amr: c.amr,
      auth_time: Math.floor(c.authTime / 1000),
    },
    TTL.userToken,
    now,
  );
  return { access_token: token, token_type: "Bearer" as const, expires_in: TTL.userToken, scope: c.scope };
}
