/** Storage of identity pools (table pools). */
import { and, asc, eq } from "drizzle-orm";
import { orm, statementOf } from "../db/client";
import { pools } from "../db/schema";
import { type AuditEvent, auditIfStmt } from "./audit";

export type PoolRow = typeof pools.$inferSelect;

export async function listPools(d1: D1Database, tenantId: string): Promise<PoolRow[]> {
  return orm(d1).select().from(pools).where(eq(pools.tenantId, tenantId)).orderBy(asc(pools.createdAt), asc(pools.id));
}

export async function getPool(d1: D1Database, tenantId: string, id: string): Promise<PoolRow | undefined> {
  return orm(d1)
    .select()
    .from(pools)
    .where(and(eq(pools.tenantId, tenantId), eq(pools.id, id)))
    .get();
}

/**
 * For `/.well-known/webauthn` of host `rpId`: the tenant and `relying_party_origins` of every pool whose RP ID is `rpId`,
 * oldest first, and whether any pool leaves its RP ID empty (only asked with `withEmpty`, when `rpId` is the service's
 * own host). One round trip of two statements, both on the index `pools_relying_party_id`.
 */
export async function poolOriginsByRpId(
  d1: D1Database,
  rpId: string,
  withEmpty: boolean,
): Promise<{ pools: { tenantId: string; origins: string[] }[]; emptyRpId: boolean }> {
  const [claims, empty] = await d1.batch<Record<string, unknown>>([
    d1
      .prepare("SELECT tenant_id, relying_party_origins FROM pools WHERE relying_party_id = ? ORDER BY created_at, tenant_id, id")
      .bind(rpId),
    d1.prepare("SELECT ? AND EXISTS (SELECT 1 FROM pools WHERE relying_party_id = '') AS found").bind(withEmpty ? 1 : 0),
  ]);
  return {
    pools: (claims?.results ?? []).map((r) => ({
      tenantId: r.tenant_id as string,
      origins: JSON.parse(r.relying_party_origins as string) as string[],
    })),
    emptyRpId: empty?.results[0]?.found === 1,
  };
}

const POOL = "SELECT 1 FROM pools WHERE tenant_id = ? AND id = ?";

/**
 * Inserts a pool and records `audit` in one batch, the event only when the id was free (then the insert cannot be a
 * no-op: the batch is one transaction); false when the id is taken in this tenant.
 */
export async function insertPool(d1: D1Database, row: PoolRow, audit: AuditEvent, now: number): Promise<boolean> {
  const [, ins] = await d1.batch([
    auditIfStmt(d1, audit, now, `SELECT 1 WHERE NOT EXISTS (${POOL})`, [row.tenantId, row.id]),
    statementOf(d1, orm(d1).insert(pools).values(row).onConflictDoNothing().returning({ id: pools.id })),
  ]);
  return (ins?.results.length ?? 0) === 1;
}

/** Replaces a pool's settings and records `audit` in one batch, the event only when the pool exists; false when not. */
export async function updatePool(d1: D1Database, row: PoolRow, audit: AuditEvent, now: number): Promise<boolean> {
  const { tenantId, id, createdAt: _c, ...rest } = row;
  const update = orm(d1)
    .update(pools)
    .set(rest)
    .where(and(eq(pools.tenantId, tenantId), eq(pools.id, id)));
  const [, upd] = await d1.batch([auditIfStmt(d1, audit, now, POOL, [tenantId, id]), statementOf(d1, update)]);
  return upd?.meta.changes === 1;
}

/**
 * Deletes a pool and its users (their identifiers, addresses, credentials and codes cascade) and records `audit` in
 * one batch, only while no workspace uses it (the event only when the pool goes). Returns "deleted", "missing" or
 * "in_use".
 */
export async function deletePoolIfUnused(
  d1: D1Database,
  tenantId: string,
  poolId: string,
  audit: AuditEvent,
  now: number,
): Promise<"deleted" | "missing" | "in_use"> {
  // Plain `?` placeholders: the audit statement binds its own values first.
  const unused = "NOT EXISTS (SELECT 1 FROM workspace_pools wp WHERE wp.tenant_id = ? AND wp.pool_id = ?)";
  const binds = [tenantId, poolId, tenantId, poolId];
  const [, , del] = await d1.batch([
    auditIfStmt(d1, audit, now, `${POOL} AND ${unused}`, binds),
    d1.prepare(`DELETE FROM users WHERE tenant_id = ? AND pool_id = ? AND ${unused}`).bind(...binds),
    d1.prepare(`DELETE FROM pools WHERE tenant_id = ? AND id = ? AND ${unused} RETURNING id`).bind(...binds),
  ]);
  // RETURNING, not meta.changes: D1 counts rows removed by ON DELETE CASCADE in changes.
  if ((del?.results.length ?? 0) === 1) return "deleted";
  return (await getPool(d1, tenantId, poolId)) ? "in_use" : "missing";
}
