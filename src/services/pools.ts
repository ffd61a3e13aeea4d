/** Pool operations: policy (domain/pool) + storage (repo/pools). */
import { newId } from "../crypto/bytes";
import { ApiError, invalidConfig, notFound } from "../errors";
import { mergePool, POOL_DEFAULTS } from "../domain/pool";
import type { Result } from "../domain/result";
import type { PoolInput, PoolUpdate } from "../api/pool";
import { ADMIN_POOL } from "./user-token";
import { recordAudit } from "../repo/audit";
import { deletePoolIfUnused, getPool, insertPool, listPools, updatePool, type PoolRow } from "../repo/pools";

/** A policy's failure as a 422 naming the field; its value otherwise. */
export function orThrow<T>(check: Result<T>): T {
  if (!check.ok) throw invalidConfig(check.field, check.message, check.code);
  return check.value;
}

export async function requirePool(d1: D1Database, tenantId: string, poolId: string): Promise<PoolRow> {
  const pool = await getPool(d1, tenantId, poolId);
  if (!pool) throw notFound("pool");
  return pool;
}

export const listAllPools = listPools;

/** Audits a configuration change after it took effect (the pool writes are not batched with it). */
export const auditConfig = (
  d1: D1Database,
  tenantId: string,
  actor: string,
  resource: "pool" | "workspace",
  id: string,
  action: "create" | "update" | "delete",
  now: number,
) =>
  recordAudit(
    d1,
    { tenantId, poolId: resource === "pool" ? id : null, actor, type: "config.changed", details: { resource, id, action } },
    now,
  );

export async function createPool(d1: D1Database, tenantId: string, input: PoolInput, now: number, actor: string): Promise<PoolRow> {
  const cfg = orThrow(mergePool(POOL_DEFAULTS, input));
  const row: PoolRow = { tenantId, id: input.id ?? newId(), ...cfg, createdAt: now, updatedAt: now };
  if (!(await insertPool(d1, row))) throw new ApiError("pool_exists", "a pool with this id already exists", { id: row.id });
  await auditConfig(d1, tenantId, actor, "pool", row.id, "create", now);
  return row;
}

export async function changePool(
  d1: D1Database,
  tenantId: string,
  poolId: string,
  input: PoolUpdate,
  now: number,
  actor: string,
): Promise<PoolRow> {
  const current = await requirePool(d1, tenantId, poolId);
  const cfg = orThrow(mergePool(current, input));
  const row: PoolRow = { ...current, ...cfg, updatedAt: now };
  if (!(await updatePool(d1, row))) throw notFound("pool");
  await auditConfig(d1, tenantId, actor, "pool", poolId, "update", now);
  return row;
}

export async function removePool(d1: D1Database, tenantId: string, poolId: string, now: number, actor: string): Promise<void> {
  if (poolId === ADMIN_POOL) throw new ApiError("reserved_pool");
  const res = await deletePoolIfUnused(d1, tenantId, poolId);
  if (res === "missing") throw notFound("pool");
  if (res === "in_use") {
    throw new ApiError("pool_in_use");
  }
  await auditConfig(d1, tenantId, actor, "pool", poolId, "delete", now);
}
