/** Storage of identity pools (table pools). */
import { and, asc, eq, sql } from "drizzle-orm";
import { orm } from "../db/client";
import { pools, users } from "../db/schema";

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

/** Inserts a pool; false when the id is taken in this tenant. */
export async function insertPool(d1: D1Database, row: PoolRow): Promise<boolean> {
  const res = await orm(d1).insert(pools).values(row).onConflictDoNothing();
  return res.meta.changes === 1;
}

export async function updatePool(d1: D1Database, row: PoolRow): Promise<boolean> {
  const { tenantId, id, createdAt: _c, ...rest } = row;
  const res = await orm(d1)
    .update(pools)
    .set(rest)
    .where(and(eq(pools.tenantId, tenantId), eq(pools.id, id)));
  return res.meta.changes === 1;
}

/**
 * Deletes a pool and its users (their identifiers, addresses, credentials and codes cascade) in one batch,
 * only while no workspace uses it. Returns "deleted", "missing" or "in_use".
 */
export async function deletePoolIfUnused(d1: D1Database, tenantId: string, poolId: string): Promise<"deleted" | "missing" | "in_use"> {
  const unused = sql`NOT EXISTS (SELECT 1 FROM workspace_pools wp WHERE wp.tenant_id = ${tenantId} AND wp.pool_id = ${poolId})`;
  const db = orm(d1);
  const [, del] = await db.batch([
    db.delete(users).where(and(eq(users.tenantId, tenantId), eq(users.poolId, poolId), unused)),
    db
      .delete(pools)
      .where(and(eq(pools.tenantId, tenantId), eq(pools.id, poolId), unused))
      .returning({ id: pools.id }),
  ]);
  // RETURNING, not meta.changes: D1 counts rows removed by ON DELETE CASCADE in changes.
  if (del.length === 1) return "deleted";
  return (await getPool(d1, tenantId, poolId)) ? "in_use" : "missing";
}
