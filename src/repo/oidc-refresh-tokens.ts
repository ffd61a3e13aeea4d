/**
 * Refresh tokens (table oidc_refresh_tokens), keyed by a SHA-256 of the token (the caller hashes; the token itself is
 * never stored). A family is everything one code redemption started: rotation marks the presented token rotated and
 * inserts its successor in one batch, so of parallel rotations exactly one succeeds; presenting a rotated token again
 * revokes the whole family (the thief's and the victim's tokens alike). Each function is one D1 round trip.
 */
import { type Acr, acrOf } from "../domain/vocabulary";

export interface OidcRefreshTokenRow {
  tokenHash: string;
  tenantId: string;
  workspaceId: string;
  clientId: string;
  familyId: string;
  sessionId: string;
  poolId: string;
  userId: string;
  scope: string;
  authTime: number;
  amr: string[];
  acr: Acr | null;
  createdAt: number;
  expiresAt: number;
  rotatedAt: number | null;
  successorHash: string | null;
  revokedAt: number | null;
}

/** The columns a new token copies from the row that authorizes it (a code or the token it succeeds). */
const INHERITED = "tenant_id, workspace_id, client_id, family_id, session_id, pool_id, user_id, scope, auth_time, amr, acr";
const INSERT_COLUMNS = `token_hash, ${INHERITED}, created_at, expires_at`;

/** `INSERT INTO oidc_refresh_tokens (...) SELECT ?, <inherited columns>, ?, ? FROM <source> WHERE <where>`. */
export function insertRefreshFrom(
  d1: D1Database,
  source: string,
  where: string,
  binds: unknown[],
  t: { tokenHash: string; expiresAt: number },
  now: number,
) {
  return d1
    .prepare(`INSERT INTO oidc_refresh_tokens (${INSERT_COLUMNS}) SELECT ?, ${INHERITED}, ?, ? FROM ${source} WHERE ${where}`)
    .bind(t.tokenHash, now, t.expiresAt, ...binds);
}

/** Revokes the live tokens of the family of the token (or code) that `familyOf` selects: `family_id = (<familyOf>)`. */
export function revokeFamilyWhere(d1: D1Database, tenantId: string, familyOf: string, binds: unknown[], now: number) {
  return d1
    .prepare(`UPDATE oidc_refresh_tokens SET revoked_at = ? WHERE tenant_id = ? AND revoked_at IS NULL AND family_id = (${familyOf})`)
    .bind(now, tenantId, ...binds);
}

function refreshTokenFromRow(r: Record<string, unknown>): OidcRefreshTokenRow {
  return {
    tokenHash: String(r.token_hash),
    tenantId: String(r.tenant_id),
    workspaceId: String(r.workspace_id),
    clientId: String(r.client_id),
    familyId: String(r.family_id),
    sessionId: String(r.session_id),
    poolId: String(r.pool_id),
    userId: String(r.user_id),
    scope: String(r.scope),
    authTime: Number(r.auth_time),
    amr: JSON.parse(String(r.amr)) as string[],
    acr: acrOf(r.acr),
    createdAt: Number(r.created_at),
    expiresAt: Number(r.expires_at),
    rotatedAt: r.rotated_at == null ? null : Number(r.rotated_at),
    successorHash: r.successor_hash == null ? null : String(r.successor_hash),
    revokedAt: r.revoked_at == null ? null : Number(r.revoked_at),
  };
}

export interface RefreshPresentation {
  tenantId: string;
  workspaceId: string;
  /** The authenticated client: a token of another client is refused (and never revokes anything). */
  clientId: string;
  tokenHash: string;
}

export type RotationResult =
  | { ok: true; token: OidcRefreshTokenRow }
  | { ok: false; reason: "reused"; revoked: number }
  | { ok: false; reason: "invalid" };

/**
 * Rotates a refresh token: one batch of (1) revoke the family when the presented token was already rotated,
 * (2) one conditional UPDATE that marks the current token rotated (it succeeds once: live, unrotated, unexpired, of
 * this client), (3) the successor's insert, copied from the row that statement (2) of this batch marked, and (4) a
 * read that tells a reuse from an unknown token. Returns the presented token's row (scope, user, auth facts) on
 * success. The successor keeps the family, scope and authentication facts (RFC 6749 §6: same scope).
 */
export async function rotateRefreshToken(
  d1: D1Database,
  p: RefreshPresentation,
  successor: { tokenHash: string; expiresAt: number },
  now: number,
): Promise<RotationResult> {
  const mine = "tenant_id = ? AND workspace_id = ? AND client_id = ? AND token_hash = ?";
  const binds = [p.tenantId, p.workspaceId, p.clientId, p.tokenHash];
  const [revoked, rotated, , state] = await d1.batch([
    revokeFamilyWhere(d1, p.tenantId, `SELECT family_id FROM oidc_refresh_tokens WHERE ${mine} AND rotated_at IS NOT NULL`, binds, now),
    d1
      .prepare(
        `UPDATE oidc_refresh_tokens SET rotated_at = ?, successor_hash = ?
         WHERE ${mine} AND rotated_at IS NULL AND revoked_at IS NULL AND expires_at > ? RETURNING *`,
      )
      .bind(now, successor.tokenHash, ...binds, now),
    insertRefreshFrom(
      d1,
      "oidc_refresh_tokens",
      "tenant_id = ? AND token_hash = ? AND successor_hash = ?",
      [p.tenantId, p.tokenHash, successor.tokenHash],
      successor,
      now,
    ),
    d1.prepare(`SELECT rotated_at FROM oidc_refresh_tokens WHERE ${mine}`).bind(...binds),
  ]);
  const row = rotated?.results[0] as Record<string, unknown> | undefined;
  if (row) return { ok: true, token: refreshTokenFromRow(row) };
  const before = state?.results[0] as { rotated_at: number | null } | undefined;
  if (before?.rotated_at != null) return { ok: false, reason: "reused", revoked: revoked?.meta.changes ?? 0 };
  return { ok: false, reason: "invalid" };
}

/**
 * Revokes the whole family of a refresh token of this client (RFC 7009 revocation, which answers 200 either way).
 * One statement; returns how many live tokens it revoked (0 for an unknown token or another client's).
 */
export async function revokeRefreshFamily(d1: D1Database, p: RefreshPresentation, now: number): Promise<number> {
  const familyOf =
    "SELECT family_id FROM oidc_refresh_tokens WHERE tenant_id = ? AND workspace_id = ? AND client_id = ? AND token_hash = ?";
  const res = await revokeFamilyWhere(d1, p.tenantId, familyOf, [p.tenantId, p.workspaceId, p.clientId, p.tokenHash], now).run();
  return res.meta.changes;
}
