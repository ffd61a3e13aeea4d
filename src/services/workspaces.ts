/** Workspace operations: mode policy (domain/workspace) + storage (repo/workspaces). */
import { newId } from "../crypto/bytes";
import { ApiError, invalidConfig, notFound } from "../errors";
import { checkWorkspaceMechanisms } from "../domain/workspace";
import {
  deleteWorkspace,
  existingPoolIds,
  getWorkspace,
  insertWorkspace,
  updateWorkspace,
  type WorkspaceWithPools,
} from "../repo/workspaces";
import type { WorkspaceInput, WorkspaceUpdate } from "../api/workspace";
import { ADMIN_WORKSPACE } from "./user-token";
import { auditConfig, orThrow } from "./pools";

async function checkPools(d1: D1Database, tenantId: string, ids: string[]): Promise<string[]> {
  const unique = [...new Set(ids)];
  const found = await existingPoolIds(d1, tenantId, unique);
  const missing = unique.filter((id) => !found.has(id));
  if (missing.length) throw invalidConfig("identity_pools", `unknown identity pool(s): ${missing.join(", ")}`, "unknown_identity_pool");
  return unique;
}

export async function requireWorkspace(d1: D1Database, tenantId: string, id: string): Promise<WorkspaceWithPools> {
  const w = await getWorkspace(d1, tenantId, id);
  if (!w) throw notFound("workspace");
  return w;
}

export async function createWorkspace(d1: D1Database, tenantId: string, input: WorkspaceInput, now: number, actor: string) {
  const mechanisms = orThrow(checkWorkspaceMechanisms(input.authentication_mechanisms ?? ["usernameless_webauthn"]));
  const poolIds = await checkPools(d1, tenantId, input.identity_pools ?? []);
  const w: WorkspaceWithPools = {
    tenantId,
    id: input.id ?? newId(),
    name: input.name.trim(),
    mechanisms,
    poolIds,
    createdAt: now,
    updatedAt: now,
  };
  if (!(await insertWorkspace(d1, w))) throw new ApiError("workspace_exists", "a workspace with this id already exists", { id: w.id });
  await auditConfig(d1, tenantId, actor, "workspace", w.id, "create", now);
  return w;
}

export async function changeWorkspace(d1: D1Database, tenantId: string, id: string, input: WorkspaceUpdate, now: number, actor: string) {
  const current = await requireWorkspace(d1, tenantId, id);
  const mechanisms = orThrow(checkWorkspaceMechanisms(input.authentication_mechanisms ?? current.mechanisms));
  const poolIds = input.identity_pools ? await checkPools(d1, tenantId, input.identity_pools) : current.poolIds;
  const w: WorkspaceWithPools = { ...current, name: input.name?.trim() ?? current.name, mechanisms, poolIds, updatedAt: now };
  if (!(await updateWorkspace(d1, w))) throw notFound("workspace");
  await auditConfig(d1, tenantId, actor, "workspace", id, "update", now);
  return w;
}

export async function removeWorkspace(d1: D1Database, tenantId: string, id: string, now: number, actor: string) {
  if (id === ADMIN_WORKSPACE) throw new ApiError("reserved_workspace");
  if (!(await deleteWorkspace(d1, tenantId, id))) throw notFound("workspace");
  await auditConfig(d1, tenantId, actor, "workspace", id, "delete", now);
}
