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
import { createOidcSessionStmt, endOidcSession } from "../repo/oidc-sessions";
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

/** A pending authorization read before a sign-in commits, with the new session's id and cookie secret. */
export interface SessionToStart {
  authzId: string;
  id: string;
  secret: string;
  cookieHash: string;
}

/**
 * Before a sign-in that carried `authz` commits: the pending authorization, when it is this workspace's and still
 * valid, and the secret of the session that sign-in will start; null otherwise (the sign-in stands, without a provider
 * session).
 */
export async function sessionToStart(s: WorkspaceCall, authzId: string): Promise<SessionToStart | null> {
  const pending = await getPendingAuthorization(s.env.CHALLENGES, { id: authzId, tenantId: s.tenantId, workspaceId: s.workspaceId }, s.now);
  if (!pending) return null;
  const secret = newOpaqueSecret();
  return { authzId, id: newId(), secret, cookieHash: await secretHash(secret) };
}

/**
 * The provider session of a completed sign-in (amr/acr from the proven factors): the statement that stores it, for the
 * batch that commits the sign-in, so there is never a committed sign-in without its session or the reverse; and what
 * the route needs (cookie secret, resume URL).
 */
export function providerSession(
  s: WorkspaceCall,
  t: SessionToStart,
  who: { poolId: string; userId: string },
  factors: readonly ProvenFactor[],
): { stmt: D1PreparedStatement; started: StartedSession } {
  const { amr, acr } = authenticationFacts(factors);
  const expiresAt = s.now + TTL.providerSession * 1000;
  const stmt = createOidcSessionStmt(s.env.DB, {
    id: t.id,
    cookieHash: t.cookieHash,
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
  return { stmt, started: { secret: t.secret, expiresAt, continueUrl: resumePath(s.tenantId, s.workspaceId, t.authzId) } };
}

/**
 * A sign-in whose commit could not carry the session (sign-up, recovery, password) completed: stores the provider
 * session on its own; null when the pending authorization is gone or not this workspace's.
 */
export async function startProviderSession(
  s: WorkspaceCall,
  authzId: string,
  who: { poolId: string; userId: string },
  factors: readonly ProvenFactor[],
): Promise<StartedSession | null> {
  const t = await sessionToStart(s, authzId);
  if (!t) return null;
  const { stmt, started } = providerSession(s, t, who, factors);
  await stmt.run();
  return started;
}

/** Ends the session behind this cookie (row, its codes and refresh tokens). One batch; false when there was none. */
export async function endProviderSession(s: WorkspaceCall, cookieSecret: string): Promise<boolean> {
  return endOidcSession(s.env.DB, s.tenantId, { cookieHash: await secretHash(cookieSecret) }, s.now);
}
