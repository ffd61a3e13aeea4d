/** Storage of workspaces (tables workspaces and workspace_pools). */
import { and, asc, eq, inArray } from "drizzle-orm";
import { orm } from "../db/client";
import { pools, workspacePools, workspaces } from "../db/schema";

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

/** A workspace with its pools' rows in the workspace's order: one round trip. */
export async function workspaceWithPoolRows(
  d1: D1Database,
  tenantId: string,
  id: string,
): Promise<{ workspace: WorkspaceRow; pools: (typeof pools.$inferSelect)[] } | undefined> {
  const db = orm(d1);
  const [ws, rows] = await db.batch([
    db
      .select()
      .from(workspaces)
      .where(and(eq(workspaces.tenantId, tenantId), eq(workspaces.id, id))),
    db
      .select({ pool: pools })
      .from(workspacePools)
      .innerJoin(pools, and(eq(pools.tenantId, workspacePools.tenantId), eq(pools.id, workspacePools.poolId)))
      .where(and(eq(workspacePools.tenantId, tenantId), eq(workspacePools.workspaceId, id)))
      .orderBy(asc(workspacePools.position)),
  ]);
  const workspace = ws[0];
  return workspace && { workspace, pools: rows.map((r) => r.pool) };
}
