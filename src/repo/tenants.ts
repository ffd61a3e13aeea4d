/** Storage of tenants (table tenants), and the one-batch creation and deletion of everything a tenant holds. */
import { asc, eq } from "drizzle-orm";
import { orm } from "../db/client";
import { pools, tenants, workspacePools, workspaces } from "../db/schema";
import { isUniqueViolation } from "./errors";
import type { WorkspaceWithPools } from "./workspaces";

export type TenantRow = typeof tenants.$inferSelect;
/** A pool as inserted: columns left out take their schema defaults. */
export type NewPoolRow = typeof pools.$inferInsert;

/**
 * Every table whose rows carry a tenant_id, children before parents. Deleting a tenant deletes its rows from each
 * of them (then the tenants row) in one batch. A new table with a tenant_id column goes here too
 * (test/tenants.test.ts fails while one is missing).
 */
export const TENANT_TABLES = [
  "oidc_consents",
  "oidc_refresh_tokens",
  "oidc_codes",
  "oidc_sessions",
  "oidc_clients",
  "identifiers",
  "verifiable_addresses",
  "credentials",
  "one_time_codes",
  "signups",
  "users",
  "workspace_pools",
  "workspaces",
  "pools",
  "system_clients",
  "signing_keys",
  "consumed_challenges",
  "audit_events",
  "outbox",
  "rate_counters",
] as const;

export async function tenantExists(d1: D1Database, id: string): Promise<boolean> {
  return (await orm(d1).select({ id: tenants.id }).from(tenants).where(eq(tenants.id, id)).get()) !== undefined;
}

/** A statement returning one row iff the tenant exists (a bearer token's liveness check, http/bearer.ts). */
export const tenantExistsStmt = (d1: D1Database, id: string): D1PreparedStatement =>
  d1.prepare("SELECT 1 AS ok FROM tenants WHERE id = ?").bind(id);

export async function getTenant(d1: D1Database, id: string): Promise<TenantRow | undefined> {
  return orm(d1).select().from(tenants).where(eq(tenants.id, id)).get();
}

export async function listTenants(d1: D1Database): Promise<TenantRow[]> {
  return orm(d1).select().from(tenants).orderBy(asc(tenants.createdAt), asc(tenants.id));
}

/** Inserts a tenant with its starting pools and workspaces in one batch; false when the id is taken (nothing written). */
export async function insertTenant(
  d1: D1Database,
  tenant: TenantRow,
  poolRows: NewPoolRow[],
  workspaceRows: WorkspaceWithPools[],
): Promise<boolean> {
  const db = orm(d1);
  const links = workspaceRows.flatMap((w) =>
    w.poolIds.map((poolId, position) => ({ tenantId: w.tenantId, workspaceId: w.id, poolId, position })),
  );
  const rest = [
    ...poolRows.map((p) => db.insert(pools).values(p)),
    ...workspaceRows.map(({ poolIds: _p, ...w }) => db.insert(workspaces).values(w)),
    ...(links.length ? [db.insert(workspacePools).values(links)] : []),
  ];
  try {
    // A plain INSERT: a taken id fails the batch, which rolls back as a whole.
    await db.batch([db.insert(tenants).values(tenant), ...rest]);
    return true;
  } catch (e) {
    if (isUniqueViolation(e, "tenants")) return false;
    throw e;
  }
}

/** Deletes the tenant and every row of TENANT_TABLES that it holds, in one batch. False when there is no such tenant. */
export async function deleteTenantEverywhere(d1: D1Database, id: string): Promise<boolean> {
  if (!(await tenantExists(d1, id))) return false;
  const stmts = TENANT_TABLES.map((table) => d1.prepare(`DELETE FROM ${table} WHERE tenant_id = ?`).bind(id));
  const results = await d1.batch([...stmts, d1.prepare("DELETE FROM tenants WHERE id = ? RETURNING id").bind(id)]);
  return (results[results.length - 1]?.results.length ?? 0) === 1;
}
