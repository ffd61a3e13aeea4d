/** Workspace operations: mode policy (domain/workspace) + storage (repo/workspaces). */
import { ID_RE } from "../api/common";
import type { WorkspaceInput, WorkspaceUpdate } from "../api/workspace";
import { newId } from "../crypto/bytes";
import { checkWorkspaceMechanisms } from "../domain/workspace";
import { ApiError, invalidConfig, notFound } from "../errors";
import { configWrite, workspaceConfig } from "../repo/config-cache";
import type { PoolRow } from "../repo/pools";
import * as workspaceRepo from "../repo/workspaces";
import type { WorkspaceRow, WorkspaceWithPools } from "../repo/workspaces";
import type { Call } from "./call";
import { configChanged } from "./audit";
import { orThrow } from "./pools";
import { ADMIN_WORKSPACE } from "./user-token";

/** A workspace with the rows of its pools, in position order. */
export interface WorkspaceWithPoolRows {
  workspace: WorkspaceRow;
  pools: PoolRow[];
}

async function checkPools(call: Call, ids: string[]): Promise<string[]> {
  const unique = [...new Set(ids)];
  const found = await workspaceRepo.existingPoolIds(call.env.DB, call.tenantId, unique);
  const missing = unique.filter((id) => !found.has(id));
  if (missing.length) throw invalidConfig("identity_pools", `unknown identity pool(s): ${missing.join(", ")}`, "unknown_identity_pool");
  return unique;
}

export async function getWorkspace(call: Call, id: string): Promise<WorkspaceWithPools> {
  const w = await workspaceRepo.getWorkspace(call.env.DB, call.tenantId, id);
  if (!w) throw notFound("workspace");
  return w;
}

export const listWorkspaces = (call: Call): Promise<WorkspaceWithPools[]> => workspaceRepo.listWorkspaces(call.env.DB, call.tenantId);

/**
 * The workspace a hosted page (sign-in, portal, enrollment link, admin console) belongs to, with its pools' rows, from
 * the isolate's configuration cache (repo/config-cache.ts; a miss is one D1 batch). Undefined for an unknown
 * workspace, and for ids that cannot exist (no lookup then): the page answers 404.
 */
export async function getPageWorkspace(call: Call, id: string): Promise<WorkspaceWithPoolRows | undefined> {
  if (!ID_RE.test(call.tenantId) || !ID_RE.test(id)) return undefined;
  return workspaceConfig(call.env.DB, call.tenantId, id, call.now);
}

export async function createWorkspace(call: Call, input: WorkspaceInput): Promise<WorkspaceWithPools> {
  const mechanisms = orThrow(checkWorkspaceMechanisms(input.authentication_mechanisms ?? ["usernameless_webauthn"]));
  const poolIds = await checkPools(call, input.identity_pools ?? []);
  const w: WorkspaceWithPools = {
    tenantId: call.tenantId,
    id: input.id ?? newId(),
    name: input.name.trim(),
    mechanisms,
    poolIds,
    createdAt: call.now,
    updatedAt: call.now,
  };
  const event = configChanged(call, { resource: "workspace", id: w.id, action: "create" });
  if (!(await configWrite(call.tenantId, workspaceRepo.insertWorkspace(call.env.DB, w, event, call.now)))) {
    throw new ApiError("workspace_exists", "a workspace with this id already exists", { id: w.id });
  }
  return w;
}

export async function updateWorkspace(call: Call, id: string, input: WorkspaceUpdate): Promise<WorkspaceWithPools> {
  const current = await getWorkspace(call, id);
  const mechanisms = orThrow(checkWorkspaceMechanisms(input.authentication_mechanisms ?? current.mechanisms));
  const poolIds = input.identity_pools ? await checkPools(call, input.identity_pools) : current.poolIds;
  const w: WorkspaceWithPools = { ...current, name: input.name?.trim() ?? current.name, mechanisms, poolIds, updatedAt: call.now };
  const event = configChanged(call, { resource: "workspace", id, action: "update" });
  if (!(await configWrite(call.tenantId, workspaceRepo.updateWorkspace(call.env.DB, w, event, call.now)))) throw notFound("workspace");
  return w;
}

export async function deleteWorkspace(call: Call, id: string): Promise<void> {
  if (id === ADMIN_WORKSPACE) throw new ApiError("reserved_workspace");
  const event = configChanged(call, { resource: "workspace", id, action: "delete" });
  const deleted = await configWrite(call.tenantId, workspaceRepo.deleteWorkspace(call.env.DB, call.tenantId, id, event, call.now));
  if (!deleted) throw notFound("workspace");
}
