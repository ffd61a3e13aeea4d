/**
 * Recovery ("Lost your passkey?"): who a verified address names among a workspace's recovery pools, and the
 * passkey.recovered event that joins the commit batch of the recovered passkey (tables verifiable_addresses, users,
 * credentials, audit_events; the code itself lives in repo/codes.ts).
 */
import { newId } from "../crypto/bytes";
import { type Fragment, prepareFragment, sqlOf } from "./counters";

export interface AddressHolder {
  userId: string;
  poolId: string;
  /** The address as stored (where the code goes). */
  address: string;
  type: string;
}

/**
 * The active users (one row each; at most two are read: more than one names nobody) whose VERIFIED address has this
 * key, in these pools: one statement.
 */
export async function verifiedAddressHolders(
  d1: D1Database,
  tenantId: string,
  poolIds: readonly string[],
  addressKey: string,
): Promise<AddressHolder[]> {
  if (poolIds.length === 0) return [];
  const { results } = await d1
    .prepare(
      `SELECT a.user_id AS userId, a.pool_id AS poolId, a.address AS address, a.type AS type FROM verifiable_addresses a
       JOIN users u ON u.id = a.user_id AND u.tenant_id = a.tenant_id AND u.pool_id = a.pool_id
       WHERE a.tenant_id = ? AND a.pool_id IN (${poolIds.map(() => "?").join(", ")}) AND a.address_key = ? AND a.verified = 1
         AND u.status = 'active'
       GROUP BY a.user_id ORDER BY a.user_id LIMIT 2`,
    )
    .bind(tenantId, ...poolIds, addressKey)
    .all<AddressHolder>();
  return results;
}

/**
 * The passkey.recovered event, for the commit batch that inserts the passkey: written from the inserted row (its
 * entry id and AAGUID), only where the row exists and `gate` (the code check) holds, so only a recovery that took
 * effect is recorded.
 */
export function recoveredAuditStmt(
  d1: D1Database,
  e: { tenantId: string; userId: string; credentialId: string; actor: string; workspaceId: string; mode: string },
  gate: Fragment,
  now: number,
): D1PreparedStatement {
  return prepareFragment(
    d1,
    sqlOf`INSERT INTO audit_events (id, tenant_id, pool_id, user_id, actor, type, details, created_at)
      SELECT ${newId()}, tenant_id, pool_id, user_id, ${e.actor}, 'passkey.recovered',
        json_object('credential', id, 'aaguid', aaguid, 'mode', ${e.mode}, 'workspace_id', ${e.workspaceId}), ${now}
      FROM credentials WHERE tenant_id = ${e.tenantId} AND credential_id = ${e.credentialId} AND user_id = ${e.userId}
        AND type = 'webauthn' AND ${gate}`,
  );
}
