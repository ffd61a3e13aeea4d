/** Pool operations: policy (domain/pool) + storage (repo/pools). */
import { newId } from "../crypto/bytes";
import { ApiError, invalidConfig, notFound, type Check } from "../errors";
import { mergePool, POOL_DEFAULTS, type PoolConfig, type PoolInput } from "../domain/pool";
import type { Mechanism } from "../domain/mechanisms";
import { ADMIN_POOL } from "../tokens/user-token";
import { recordAudit } from "../repo/audit";
import { deletePoolIfUnused, getPool, insertPool, listPools, updatePool, type PoolRow } from "../repo/pools";

function configOf(p: PoolRow): PoolConfig {
  return {
    name: p.name,
    description: p.description,
    mechanisms: p.mechanisms as Mechanism[],
    preferredMechanism: p.preferredMechanism as Mechanism,
    secondFactorMechanisms: p.secondFactorMechanisms as Mechanism[],
    secondFactorPreferred: p.secondFactorPreferred as Mechanism | "",
    rpId: p.rpId,
    rpOrigins: p.rpOrigins,
    userVerification: p.userVerification as PoolConfig["userVerification"],
    attestation: p.attestation as PoolConfig["attestation"],
    maxCredentials: p.maxCredentials,
    webauthnCapacity: p.webauthnCapacity,
    passwordFailures: p.passwordFailures,
    otpRequestsPerHour: p.otpRequestsPerHour,
    otpFailuresPerDay: p.otpFailuresPerDay,
    otpSettings: p.otpSettings,
  };
}

export function orThrow<T>(check: Check<T>): T {
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

export async function createPool(
  d1: D1Database,
  tenantId: string,
  input: PoolInput & { id?: string; name: string },
  now: number,
  actor: string,
): Promise<PoolRow> {
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
  input: PoolInput,
  now: number,
  actor: string,
): Promise<PoolRow> {
  const current = await requirePool(d1, tenantId, poolId);
  const cfg = orThrow(mergePool(configOf(current), input));
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
