/**
 * Authorization codes (table oidc_codes), keyed by a SHA-256 of the code (the caller hashes; the code itself is never
 * stored). A code is consumed by ONE conditional UPDATE that can succeed once, in the same batch as the refresh token
 * it authorizes; the consumed row stays (until the cron purge after its expiry) so that a second redemption finds it
 * and revokes the refresh-token family the first one started. Each function is one D1 round trip.
 */
import { type Acr, acrOf } from "../domain/vocabulary";
import { insertRefreshFrom, revokeFamilyWhere } from "./oidc-refresh-tokens";
import type { OidcSessionRow } from "./oidc-sessions";

export interface OidcCodeRow {
  codeHash: string;
  tenantId: string;
  workspaceId: string;
  clientId: string;
  redirectUri: string;
  /** The S256 PKCE challenge of the authorization request. */
  codeChallenge: string;
  nonce: string | null;
  /** Space separated, as granted. */
  scope: string;
  sessionId: string;
  poolId: string;
  userId: string;
  /** When the session's sign-in happened (ms). */
  authTime: number;
  amr: string[];
  acr: Acr | null;
  createdAt: number;
  expiresAt: number;
  consumedAt: number | null;
  familyId: string | null;
}

/** What a code carries of the provider session it is issued in: the session, who signed in, when and how. */
export function sessionFacts(s: OidcSessionRow): Pick<OidcCodeRow, "sessionId" | "poolId" | "userId" | "authTime" | "amr" | "acr"> {
  return { sessionId: s.id, poolId: s.poolId, userId: s.userId, authTime: s.authTime, amr: s.amr, acr: s.acr };
}

/** Stores a new, unconsumed code. One statement. */
export async function insertOidcCode(d1: D1Database, row: Omit<OidcCodeRow, "consumedAt" | "familyId">): Promise<void> {
  await d1
    .prepare(
      `INSERT INTO oidc_codes (code_hash, tenant_id, workspace_id, client_id, redirect_uri, code_challenge, nonce, scope, session_id,
         pool_id, user_id, auth_time, amr, acr, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .bind(
      row.codeHash,
      row.tenantId,
      row.workspaceId,
      row.clientId,
      row.redirectUri,
      row.codeChallenge,
      row.nonce,
      row.scope,
      row.sessionId,
      row.poolId,
      row.userId,
      row.authTime,
      JSON.stringify(row.amr),
      row.acr,
      row.createdAt,
      row.expiresAt,
    )
    .run();
}

function codeFromRow(r: Record<string, unknown>): OidcCodeRow {
  const opt = (v: unknown) => (v == null ? null : String(v));
  return {
    codeHash: String(r.code_hash),
    tenantId: String(r.tenant_id),
    workspaceId: String(r.workspace_id),
    clientId: String(r.client_id),
    redirectUri: String(r.redirect_uri),
    codeChallenge: String(r.code_challenge),
    nonce: opt(r.nonce),
    scope: String(r.scope),
    sessionId: String(r.session_id),
    poolId: String(r.pool_id),
    userId: String(r.user_id),
    authTime: Number(r.auth_time),
    amr: JSON.parse(String(r.amr)) as string[],
    acr: acrOf(r.acr),
    createdAt: Number(r.created_at),
    expiresAt: Number(r.expires_at),
    consumedAt: r.consumed_at == null ? null : Number(r.consumed_at),
    familyId: opt(r.family_id),
  };
}

export interface CodeRedemption {
  tenantId: string;
  workspaceId: string;
  /** The authenticated client (a public client: the client_id it sent). */
  clientId: string;
  codeHash: string;
  /** The redirect_uri of the token request: must equal the authorization request's. */
  redirectUri: string;
  /** S256 of the code_verifier of the token request (crypto/pkce.ts): must equal the stored code_challenge. */
  codeChallenge: string;
  /** A new random id: the refresh-token family this redemption starts (recorded on the code). */
  familyId: string;
  /**
   * The refresh token to store when the client may use the refresh_token grant; it is inserted only when the code's
   * granted scope holds `offline_access`. Null: none.
   */
  refreshToken: { tokenHash: string; expiresAt: number } | null;
}

export type RedemptionResult =
  | { ok: true; code: OidcCodeRow; refreshTokenIssued: boolean }
  | { ok: false; reason: "reused"; revoked: number }
  | { ok: false; reason: "invalid" };

/**
 * Redeems a code: one batch of (1) revoke the family of an already consumed code (a replay: RFC 6749 §4.1.2),
 * (2) one conditional UPDATE that consumes the code (it succeeds once: unconsumed, unexpired, and bound to this client,
 * redirect_uri and PKCE challenge), (3) the refresh token's insert, copied from the row that (2) of this batch marked
 * with its family id, and only when the scope holds offline_access, and (4) a read that tells a replay from a code
 * that is unknown, expired or not bound to these values (those leave the code as it was). Of N parallel redemptions
 * exactly one gets ok; each later one revokes what the first issued.
 */
export async function redeemOidcCode(d1: D1Database, r: CodeRedemption, now: number): Promise<RedemptionResult> {
  const code = "tenant_id = ? AND workspace_id = ? AND code_hash = ?";
  const codeBinds = [r.tenantId, r.workspaceId, r.codeHash];
  const stmts = [
    revokeFamilyWhere(d1, r.tenantId, `SELECT family_id FROM oidc_codes WHERE ${code} AND consumed_at IS NOT NULL`, codeBinds, now),
    d1
      .prepare(
        `UPDATE oidc_codes SET consumed_at = ?, family_id = ? WHERE ${code} AND client_id = ? AND redirect_uri = ? AND code_challenge = ?
         AND consumed_at IS NULL AND expires_at > ? RETURNING *`,
      )
      .bind(now, r.familyId, ...codeBinds, r.clientId, r.redirectUri, r.codeChallenge, now),
    d1.prepare(`SELECT consumed_at FROM oidc_codes WHERE ${code}`).bind(...codeBinds),
  ];
  if (r.refreshToken) {
    const where = `${code} AND family_id = ? AND instr(' ' || scope || ' ', ' offline_access ') > 0`;
    stmts.splice(2, 0, insertRefreshFrom(d1, "oidc_codes", where, [...codeBinds, r.familyId], r.refreshToken, now));
  }
  const results = await d1.batch(stmts);
  const [revoked, consumed] = results;
  const state = results[results.length - 1]?.results[0] as { consumed_at: number | null } | undefined;
  const row = consumed?.results[0] as Record<string, unknown> | undefined;
  if (row)
    return { ok: true, code: codeFromRow(row), refreshTokenIssued: r.refreshToken !== null && (results[2]?.meta.changes ?? 0) === 1 };
  if (state?.consumed_at != null) return { ok: false, reason: "reused", revoked: revoked?.meta.changes ?? 0 };
  return { ok: false, reason: "invalid" };
}
