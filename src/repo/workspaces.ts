/** Storage of workspaces (tables workspaces and workspace_pools). */
import { and, asc, eq, inArray } from "drizzle-orm";
import { orm } from "../db/client";
import { pools, workspacePools, workspaces } from "../db/schema";
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

function linkRows(tenantId: string, workspaceId: string, poolIds: string[]) {
  return poolIds.map((poolId, position) => ({ tenantId, workspaceId, poolId, position }));
}

/** Inserts a workspace with its pool links in one batch; false when the id is taken. */
export async function insertWorkspace(d1: D1Database, w: WorkspaceWithPools): Promise<boolean> {
  const db = orm(d1);
  const { poolIds, ...row } = w;
  if (await getWorkspace(d1, w.tenantId, w.id)) return false;
  const links = linkRows(w.tenantId, w.id, poolIds);
  try {
    if (links.length) await db.batch([db.insert(workspaces).values(row), db.insert(workspacePools).values(links)]);
    else await db.insert(workspaces).values(row);
  } catch (e) {
    if (await getWorkspace(d1, w.tenantId, w.id)) return false;
    throw e;
  }
  return true;
}

/** Replaces a workspace's row and pool links in one batch. */
export async function updateWorkspace(d1: D1Database, w: WorkspaceWithPools): Promise<boolean> {
  const db = orm(d1);
  const { poolIds, tenantId, id, createdAt: _c, ...rest } = w;
  const where = and(eq(workspacePools.tenantId, tenantId), eq(workspacePools.workspaceId, id));
  const links = linkRows(tenantId, id, poolIds);
  const update = db
    .update(workspaces)
    .set(rest)
    .where(and(eq(workspaces.tenantId, tenantId), eq(workspaces.id, id)));
  const results = links.length
    ? await db.batch([update, db.delete(workspacePools).where(where), db.insert(workspacePools).values(links)])
    : await db.batch([update, db.delete(workspacePools).where(where)]);
  return results[0].meta.changes === 1;
}

export async function deleteWorkspace(d1: D1Database, tenantId: string, id: string): Promise<boolean> {
  const db = orm(d1);
  const [, del] = await db.batch([
    db.delete(workspacePools).where(and(eq(workspacePools.tenantId, tenantId), eq(workspacePools.workspaceId, id))),
    db
      .delete(workspaces)
      .where(and(eq(workspaces.tenantId, tenantId), eq(workspaces.id, id)))
      .returning({ id: workspaces.id }),
  ]);
  // RETURNING, not meta.changes: D1 counts the rows removed by ON DELETE CASCADE (the workspace's OIDC clients) in changes.
  return del.length === 1;
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
