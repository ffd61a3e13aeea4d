/** Storage of workspaces (tables workspaces and workspace_pools). */
import { and, asc, eq, inArray } from "drizzle-orm";
import { orm, statementOf } from "../db/client";
import { pools, workspacePools, workspaces } from "../db/schema";
import { type AuditEvent, auditIfStmt } from "./audit";
import { mapped, rowMapper } from "./rows";

export type WorkspaceRow = typeof workspaces.$inferSelect;
export type WorkspaceWithPools = WorkspaceRow & { poolIds: string[] };

function attach(rows: WorkspaceRow[], links: { workspaceId: string; poolId: string }[]): WorkspaceWithPools[] {
  return rows.map((w) => ({ ...w, poolIds: links.filter((l) => l.workspaceId === w.id).map((l) => l.poolId) }));
}

export async function listWorkspaces(d1: D1Database, tenantId: string): Promise<WorkspaceWithPools[]> {
  const db = orm(d1);
  const [rows, links] = await db.batch([
    db.select().from(workspaces).where(eq(workspaces.tenantId, tenantId)).orderBy(asc(workspaces.createdAt), asc(workspaces.id)),
    db.select().from(workspacePools).where(eq(workspacePools.tenantId, tenantId)).orderBy(asc(workspacePools.position)),
  ]);
  return attach(rows, links);
}

export async function getWorkspace(d1: D1Database, tenantId: string, id: string): Promise<WorkspaceWithPools | undefined> {
  const db = orm(d1);
  const [rows, links] = await db.batch([
    db
      .select()
      .from(workspaces)
      .where(and(eq(workspaces.tenantId, tenantId), eq(workspaces.id, id))),
    db
      .select()
      .from(workspacePools)
      .where(and(eq(workspacePools.tenantId, tenantId), eq(workspacePools.workspaceId, id)))
      .orderBy(asc(workspacePools.position)),
  ]);
  return attach(rows, links)[0];
}

/** Which of these pool ids exist in the tenant. */
export async function existingPoolIds(d1: D1Database, tenantId: string, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await orm(d1)
    .select({ id: pools.id })
    .from(pools)
    .where(and(eq(pools.tenantId, tenantId), inArray(pools.id, ids)));
  return new Set(rows.map((r) => r.id));
}

const WORKSPACE = "SELECT 1 FROM workspaces WHERE tenant_id = ? AND id = ?";

/** Inserts of the workspace's pool links (in order), each only when `condition` (SQL over the workspace's key) holds. */
function linkStmts(d1: D1Database, tenantId: string, workspaceId: string, poolIds: string[], condition: string): D1PreparedStatement[] {
  return poolIds.map((poolId, position) =>
    d1
      .prepare(`INSERT INTO workspace_pools (tenant_id, workspace_id, pool_id, position) SELECT ?, ?, ?, ? WHERE ${condition}`)
      .bind(tenantId, workspaceId, poolId, position, tenantId, workspaceId),
  );
}

/**
 * Inserts a workspace with its pool links and records `audit`, in one batch (one transaction): the event and the links
 * only when the id was free, the row with ON CONFLICT DO NOTHING. False when the id is taken. A storage failure is
 * thrown as is, also when the batch took effect (no read-back: that would answer a committed create "taken").
 */
export async function insertWorkspace(d1: D1Database, w: WorkspaceWithPools, audit: AuditEvent, now: number): Promise<boolean> {
  const { poolIds, ...row } = w;
  const free = `NOT EXISTS (${WORKSPACE})`;
  const results = await d1.batch([
    auditIfStmt(d1, audit, now, `SELECT 1 WHERE ${free}`, [w.tenantId, w.id]),
    ...linkStmts(d1, w.tenantId, w.id, poolIds, free),
    statementOf(d1, orm(d1).insert(workspaces).values(row).onConflictDoNothing().returning({ id: workspaces.id })),
  ]);
  return (results.at(-1)?.results.length ?? 0) === 1;
}

/**
 * Replaces a workspace's row and pool links and records `audit`, in one batch; the event and the new links only when
 * the workspace exists. False when it does not.
 */
export async function updateWorkspace(d1: D1Database, w: WorkspaceWithPools, audit: AuditEvent, now: number): Promise<boolean> {
  const db = orm(d1);
  const { poolIds, tenantId, id, createdAt: _c, ...rest } = w;
  const update = db
    .update(workspaces)
    .set(rest)
    .where(and(eq(workspaces.tenantId, tenantId), eq(workspaces.id, id)));
  const links = and(eq(workspacePools.tenantId, tenantId), eq(workspacePools.workspaceId, id));
  const [, upd] = await d1.batch([
    auditIfStmt(d1, audit, now, WORKSPACE, [tenantId, id]),
    statementOf(d1, update),
    statementOf(d1, db.delete(workspacePools).where(links)),
    ...linkStmts(d1, tenantId, id, poolIds, `EXISTS (${WORKSPACE})`),
  ]);
  return upd?.meta.changes === 1;
}

/** Deletes a workspace and its pool links and records `audit`, in one batch, the event only when it existed. */
export async function deleteWorkspace(d1: D1Database, tenantId: string, id: string, audit: AuditEvent, now: number): Promise<boolean> {
  const [, , del] = await d1.batch([
    auditIfStmt(d1, audit, now, WORKSPACE, [tenantId, id]),
    d1.prepare("DELETE FROM workspace_pools WHERE tenant_id = ? AND workspace_id = ?").bind(tenantId, id),
    d1.prepare("DELETE FROM workspaces WHERE tenant_id = ? AND id = ? RETURNING id").bind(tenantId, id),
  ]);
  // RETURNING, not meta.changes: D1 counts the rows removed by ON DELETE CASCADE (the workspace's OIDC clients) in changes.
  return (del?.results.length ?? 0) === 1;
}

/** A D1 binding or one of its sessions (`withSession`): both prepare statements and run batches. */
type D1Reader = Pick<D1Database, "prepare" | "batch">;

// Raw SQL from module-level constants: no query building per read (issue 11).
const WORKSPACE_SQL = "SELECT * FROM workspaces WHERE tenant_id = ?1 AND id = ?2";
const WORKSPACE_POOLS_SQL = `SELECT p.* FROM workspace_pools wp
  JOIN pools p ON p.tenant_id = wp.tenant_id AND p.id = wp.pool_id
  WHERE wp.tenant_id = ?1 AND wp.workspace_id = ?2 ORDER BY wp.position`;
const CLIENT_REDIRECTS_SQL = "SELECT redirect_uris FROM oidc_clients WHERE tenant_id = ?1 AND workspace_id = ?2";

const workspaceRow = rowMapper(workspaces);
const poolRow = rowMapper(pools);

/** What the configuration cache (repo/config-cache.ts) holds for a workspace, as read from D1. */
export interface WorkspaceConfigRows {
  workspace: WorkspaceRow;
  pools: (typeof pools.$inferSelect)[];
  /** The `redirect_uris` of the workspace's OIDC clients, all clients together. */
  clientRedirectUris: string[];
}

/**
 * The workspace, its pools' rows in the workspace's order and its OIDC clients' redirect URIs: one batch of three raw
 * statements. `d1` may be a session (a read replica may answer).
 */
export async function readWorkspaceConfig(d1: D1Reader, tenantId: string, id: string): Promise<WorkspaceConfigRows | undefined> {
  const [ws, rows, clients] = await d1.batch<Record<string, unknown>>([
    d1.prepare(WORKSPACE_SQL).bind(tenantId, id),
    d1.prepare(WORKSPACE_POOLS_SQL).bind(tenantId, id),
    d1.prepare(CLIENT_REDIRECTS_SQL).bind(tenantId, id),
  ]);
  const w = ws?.results[0];
  if (!w) return undefined;
  return {
    workspace: workspaceRow(w),
    pools: mapped(rows, poolRow),
    clientRedirectUris: (clients?.results ?? []).flatMap((r) => JSON.parse(String(r.redirect_uris)) as string[]),
  };
}
