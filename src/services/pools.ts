/** Pool operations: policy (domain/pool) + storage (repo/pools). */
import { newId } from "../crypto/bytes";
import { checkPublishedOrigins, mergePool, POOL_DEFAULTS, type PoolConfig } from "../domain/pool";
import { relatedOrigins } from "../domain/relying-party";
import type { Result } from "../domain/result";
import { ApiError, invalidConfig, notFound } from "../errors";
import type { PoolInput, PoolUpdate } from "../api/pool";
import { configWrite } from "../repo/config-cache";
import { configChanged } from "./audit";
import * as poolRepo from "../repo/pools";
import type { PoolRow } from "../repo/pools";
import type { Call } from "./call";
import { ADMIN_POOL } from "./user-token";

/** A policy's failure as a 422 naming the field; its value otherwise. */
export function orThrow<T>(check: Result<T>): T {
  if (!check.ok) throw invalidConfig(check.field, check.message, check.code);
  return check.value;
}

export async function getPool(call: Call, poolId: string): Promise<PoolRow> {
  const pool = await poolRepo.getPool(call.env.DB, call.tenantId, poolId);
  if (!pool) throw notFound("pool");
  return pool;
}

export const listPools = (call: Call): Promise<PoolRow[]> => poolRepo.listPools(call.env.DB, call.tenantId);

/** The merged configuration, with the related-origin limit checked across the tenant's pools of the same RP ID. */
async function checkedConfig(call: Call, current: PoolConfig, input: PoolUpdate, poolId?: string): Promise<PoolConfig> {
  const cfg = orThrow(mergePool(current, input));
  if (relatedOrigins(cfg.rpOrigins, cfg.rpId).length > 0) {
    const others = (await poolRepo.listPools(call.env.DB, call.tenantId)).filter((p) => p.id !== poolId);
    orThrow(checkPublishedOrigins(cfg, others));
  }
  return cfg;
}

export async function createPool(call: Call, input: PoolInput): Promise<PoolRow> {
  const cfg = await checkedConfig(call, POOL_DEFAULTS, input, input.id);
  const row: PoolRow = { tenantId: call.tenantId, id: input.id ?? newId(), ...cfg, createdAt: call.now, updatedAt: call.now };
  const event = configChanged(call, { resource: "pool", id: row.id, action: "create" });
  if (!(await configWrite(call.tenantId, poolRepo.insertPool(call.env.DB, row, event, call.now))))
    throw new ApiError("pool_exists", "a pool with this id already exists", { id: row.id });
  return row;
}

export async function updatePool(call: Call, poolId: string, input: PoolUpdate): Promise<PoolRow> {
  const current = await getPool(call, poolId);
  const cfg = await checkedConfig(call, current, input, poolId);
  const row: PoolRow = { ...current, ...cfg, updatedAt: call.now };
  const event = configChanged(call, { resource: "pool", id: poolId, action: "update" });
  if (!(await configWrite(call.tenantId, poolRepo.updatePool(call.env.DB, row, event, call.now)))) throw notFound("pool");
  return row;
}

export async function deletePool(call: Call, poolId: string): Promise<void> {
  if (poolId === ADMIN_POOL) throw new ApiError("reserved_pool");
  const event = configChanged(call, { resource: "pool", id: poolId, action: "delete" });
  const res = await configWrite(call.tenantId, poolRepo.deletePoolIfUnused(call.env.DB, call.tenantId, poolId, event, call.now));
  if (res === "missing") throw notFound("pool");
  if (res === "in_use") throw new ApiError("pool_in_use");
}
