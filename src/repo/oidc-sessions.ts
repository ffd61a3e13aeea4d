/**
 * Provider sessions (table oidc_sessions): the row behind the hosted sign-in's SSO cookie. The cookie carries a
 * random secret of which only a SHA-256 is stored (`cookie_hash`); the row id is the public `sid`. A session ends by
 * deletion, and ending it revokes the refresh tokens issued under it and deletes its codes, in the same batch.
 * Each function is one D1 round trip (one query or one batch).
 */
import { and, eq, gt } from "drizzle-orm";
import { orm, statementOf } from "../db/client";
import { oidcClients, oidcConsents, oidcSessions, users } from "../db/schema";
import type { OidcClientRow } from "./oidc-clients";

export type OidcSessionRow = typeof oidcSessions.$inferSelect;

/** The insert of a provider session, for the commit batch of the sign-in that starts it. */
export function createOidcSessionStmt(d1: D1Database, row: OidcSessionRow): D1PreparedStatement {
  return statementOf(d1, orm(d1).insert(oidcSessions).values(row));
}

/** The workspace's session behind this cookie, unexpired and of an active user; undefined otherwise. */
function validSessionQuery(d1: D1Database, tenantId: string, workspaceId: string, cookieHash: string, now: number) {
  return orm(d1)
    .select({ session: oidcSessions })
    .from(oidcSessions)
    .innerJoin(users, and(eq(users.id, oidcSessions.userId), eq(users.tenantId, oidcSessions.tenantId), eq(users.status, "active")))
    .where(
      and(
        eq(oidcSessions.cookieHash, cookieHash),
        eq(oidcSessions.tenantId, tenantId),
        eq(oidcSessions.workspaceId, workspaceId),
        gt(oidcSessions.expiresAt, now),
      ),
    );
}

/** The workspace's valid session for this cookie hash (unexpired, user active), or undefined. One query. */
export async function readValidOidcSession(
  d1: D1Database,
  tenantId: string,
  workspaceId: string,
  cookieHash: string,
  now: number,
): Promise<OidcSessionRow | undefined> {
  return (await validSessionQuery(d1, tenantId, workspaceId, cookieHash, now))[0]?.session;
}

export interface AuthorizationContext {
  client: OidcClientRow | undefined;
  session: OidcSessionRow | undefined;
  /** The scopes the session's user consented to for this client so far ([] when none, or no session). */
  consentedScopes: string[];
}

/**
 * Everything an authorization request reads, in one batch: the client, the valid session behind the cookie (when
 * there is a cookie) and its user's consent for the client. With the code insert that follows, an authorization with a
 * session costs two round trips.
 */
export async function readAuthorizationContext(
  d1: D1Database,
  k: { tenantId: string; workspaceId: string; clientId: string; cookieHash: string | null },
  now: number,
): Promise<AuthorizationContext> {
  const db = orm(d1);
  const cookie = k.cookieHash ?? "";
  const [clients, sessions, consents] = await db.batch([
    db
      .select()
      .from(oidcClients)
      .where(and(eq(oidcClients.tenantId, k.tenantId), eq(oidcClients.workspaceId, k.workspaceId), eq(oidcClients.clientId, k.clientId))),
    validSessionQuery(d1, k.tenantId, k.workspaceId, cookie, now),
    db
      .select({ scopes: oidcConsents.scopes })
      .from(oidcConsents)
      .innerJoin(oidcSessions, and(eq(oidcSessions.userId, oidcConsents.userId), eq(oidcSessions.tenantId, oidcConsents.tenantId)))
      .where(and(eq(oidcSessions.cookieHash, cookie), eq(oidcConsents.tenantId, k.tenantId), eq(oidcConsents.clientId, k.clientId))),
  ]);
  const session = k.cookieHash ? sessions[0]?.session : undefined;
  return { client: clients[0], session, consentedScopes: session ? (consents[0]?.scopes ?? []) : [] };
}

/** Revokes refresh tokens and deletes codes selected by `where` (a condition on session_id or user_id), then the sessions. */
function endStatements(d1: D1Database, tenantId: string, where: string, binds: unknown[], now: number): D1PreparedStatement[] {
  return [
    d1
      .prepare(`UPDATE oidc_refresh_tokens SET revoked_at = ? WHERE tenant_id = ? AND revoked_at IS NULL AND ${where}`)
      .bind(now, tenantId, ...binds),
    d1.prepare(`DELETE FROM oidc_codes WHERE tenant_id = ? AND ${where}`).bind(tenantId, ...binds),
  ];
}

/**
 * Ends one session (logout), named by its id (the `sid`) or its cookie hash: revokes the refresh tokens issued under
 * it, deletes its codes and deletes it. One batch; false when there was no such session.
 */
export async function endOidcSession(
  d1: D1Database,
  tenantId: string,
  by: { sessionId: string } | { cookieHash: string },
  now: number,
): Promise<boolean> {
  const [column, value] = "sessionId" in by ? ["id", by.sessionId] : ["cookie_hash", by.cookieHash];
  const ofSession = `session_id IN (SELECT id FROM oidc_sessions WHERE tenant_id = ? AND ${column} = ?)`;
  const results = await d1.batch([
    ...endStatements(d1, tenantId, ofSession, [tenantId, value], now),
    d1.prepare(`DELETE FROM oidc_sessions WHERE tenant_id = ? AND ${column} = ? RETURNING id`).bind(tenantId, value),
  ]);
  return (results[results.length - 1]?.results.length ?? 0) === 1;
}

/**
 * Ends every session of a user (deactivation, losing the last passkey; deletion cascades): deletes the sessions and
 * codes and revokes every refresh token of the user, whichever session issued it. Statements for the batch of the
 * change that must not commit without them; with `when` (a SQL condition and its binds) they take effect only where
 * it holds (a passkey delete that takes the last one). The last statement deletes the sessions.
 */
export function endUserOidcSessionsStmts(
  d1: D1Database,
  tenantId: string,
  userId: string,
  now: number,
  when?: { sql: string; binds: unknown[] },
): D1PreparedStatement[] {
  const where = when ? `user_id = ? AND ${when.sql}` : "user_id = ?";
  const binds = [userId, ...(when?.binds ?? [])];
  return [
    ...endStatements(d1, tenantId, where, binds, now),
    d1.prepare(`DELETE FROM oidc_sessions WHERE tenant_id = ? AND ${where}`).bind(tenantId, ...binds),
  ];
}
