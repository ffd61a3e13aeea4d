/**
 * Provider sessions of the OpenID Provider (part B of issue 10): the server-side row behind the hosted sign-in's SSO
 * cookie. A sign-in on the hosted page that carries a pending authorization (`authz`) starts one; logout ends one.
 * The cookie carries a random secret; only its SHA-256 (`secretHash`) is stored. No HTTP here: the route sets and
 * clears the cookie (src/routes/oidc-authorize.ts `sessionCookie`).
 */
import { newId, newOpaqueSecret, secretHash } from "../crypto/bytes";
import { authenticationFacts, type ProvenFactor } from "../domain/oidc";
import { TTL } from "../domain/ttl";
import { getPendingAuthorization } from "../repo/pending-authorizations";
import { createOidcSession, endOidcSession } from "../repo/oidc-sessions";
import type { WorkspaceCall } from "./call";

/** The cookie that names a provider session, its path /{tid}/{wid} (set by the route). */
export const SESSION_COOKIE = "pe_session";

export interface StartedSession {
  /** The cookie value (the secret; only its hash is stored). */
  secret: string;
  expiresAt: number;
  /** Where the hosted page continues: the authorization's resume step. */
  continueUrl: string;
}

/** The path of the step that finishes a pending authorization after sign-in (and consent). */
export const resumePath = (tid: string, wid: string, authzId: string) =>
  `/${encodeURIComponent(tid)}/${encodeURIComponent(wid)}/oauth2/authorize/resume?authz=${encodeURIComponent(authzId)}`;

/**
 * A sign-in on the hosted page that carried `authz` completed: when the pending authorization is this workspace's and
 * still valid, stores a provider session (amr/acr from the proven factors) and returns its cookie secret and the resume
 * URL; null otherwise (the sign-in stands, without a provider session).
 */
export async function startProviderSession(
  s: WorkspaceCall,
  authzId: string,
  who: { poolId: string; userId: string },
  factors: readonly ProvenFactor[],
): Promise<StartedSession | null> {
  const pending = await getPendingAuthorization(s.env.CHALLENGES, { id: authzId, tenantId: s.tenantId, workspaceId: s.workspaceId }, s.now);
  if (!pending) return null;
  const { amr, acr } = authenticationFacts(factors);
  const secret = newOpaqueSecret();
  const expiresAt = s.now + TTL.providerSession * 1000;
  await createOidcSession(s.env.DB, {
    id: newId(),
    cookieHash: await secretHash(secret),
    tenantId: s.tenantId,
    workspaceId: s.workspaceId,
    poolId: who.poolId,
    userId: who.userId,
    authTime: s.now,
    amr,
    acr,
    createdAt: s.now,
    expiresAt,
  });
  return { secret, expiresAt, continueUrl: resumePath(s.tenantId, s.workspaceId, authzId) };
}

/** Ends the session behind this cookie (row, its codes and refresh tokens). One batch; false when there was none. */
export async function endProviderSession(s: WorkspaceCall, cookieSecret: string): Promise<boolean> {
  return endOidcSession(s.env.DB, s.tenantId, { cookieHash: await secretHash(cookieSecret) }, s.now);
}
