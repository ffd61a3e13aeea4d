/**
 * Tenants and their system clients, for the bootstrap client. A new tenant starts with what every tenant needs:
 * the `admins` pool, the Smart `admin` workspace over it (as scripts/seed.sql makes for tenant "default") and a
 * signing key. Deleting a tenant deletes everything it holds (repo/tenants TENANT_TABLES) in one batch.
 */
import type { Env } from "../env";
import { newId } from "../crypto/bytes";
import { POOL_DEFAULTS } from "../domain/pool";
import { ApiError, notFound } from "../errors";
import { recordAudit } from "../repo/audit";
import { deleteClient, listClients, type SystemClientRow } from "../repo/clients";
import { deleteTenantEverywhere, getTenant, insertTenant, listTenants, type NewPoolRow, type TenantRow } from "../repo/tenants";
import type { WorkspaceWithPools } from "../repo/workspaces";
import { createSystemClient, SYSTEM_SCOPES } from "./clients";
import { signingKey } from "../crypto/keys";
import { ADMIN_POOL, ADMIN_WORKSPACE } from "./user-token";

export const listAllTenants = listTenants;

export async function requireTenant(d1: D1Database, id: string): Promise<TenantRow> {
  const t = await getTenant(d1, id);
  if (!t) throw notFound("tenant");
  return t;
}

export async function createTenant(env: Env, input: { id?: string; name: string }, now: number): Promise<TenantRow> {
  const tenant: TenantRow = { id: input.id ?? newId(), name: input.name.trim(), createdAt: now };
  const admins: NewPoolRow = {
    ...POOL_DEFAULTS,
    tenantId: tenant.id,
    id: ADMIN_POOL,
    name: "Administrators",
    description: "Administrators of this tenant",
    mechanisms: ["webauthn"],
    preferredMechanism: "webauthn",
    secondFactorMechanisms: [],
    rpOrigins: [],
    createdAt: now,
    updatedAt: now,
  };
  const admin: WorkspaceWithPools = {
    tenantId: tenant.id,
    id: ADMIN_WORKSPACE,
    name: "Admin console",
    mechanisms: ["usernameless_webauthn"],
    poolIds: [ADMIN_POOL],
    createdAt: now,
    updatedAt: now,
  };
  if (!(await insertTenant(env.DB, tenant, [admins], [admin]))) {
    throw new ApiError("tenant_exists", "a tenant with this id already exists", { id: tenant.id });
  }
  // The signing key now, so the JWKS is published before the first token. Best effort: without
  // KEY_ENCRYPTION_SECRET (or on a storage hiccup) the key is made on first use, as for any tenant.
  await signingKey({ db: env.DB, secret: env.KEY_ENCRYPTION_SECRET }, tenant.id, now).catch(() => undefined);
  return tenant;
}

export async function removeTenant(d1: D1Database, id: string): Promise<void> {
  if (!(await deleteTenantEverywhere(d1, id))) throw notFound("tenant");
}

/** A stored client without its secret hash. */
export type ClientInfo = Omit<SystemClientRow, "secretHash">;

export async function listTenantClients(d1: D1Database, tenantId: string): Promise<ClientInfo[]> {
  return (await listClients(d1, tenantId)).map(({ secretHash: _h, ...c }) => c);
}

/** A new client-credentials client of the tenant; its secret is returned here only (stored as a hash). */
export async function createTenantClient(
  env: Env,
  tenantId: string,
  input: { name?: string; scopes?: readonly string[] },
  actor: string,
  now: number,
): Promise<{ client: ClientInfo; secret: string }> {
  const clientId = newId();
  const scopes = [...new Set(input.scopes ?? SYSTEM_SCOPES)];
  const name = input.name?.trim() ?? "";
  const secret = await createSystemClient(env.DB, tenantId, clientId, scopes, now, name);
  await recordAudit(
    env.DB,
    { tenantId, actor, type: "config.changed", details: { resource: "system_client", id: clientId, action: "create" } },
    now,
  );
  return { client: { tenantId, clientId, scopes: scopes.join(" "), name, createdAt: now }, secret };
}

export async function removeTenantClient(d1: D1Database, tenantId: string, clientId: string, actor: string, now: number): Promise<void> {
  if (!(await deleteClient(d1, tenantId, clientId))) throw notFound("client");
  await recordAudit(
    d1,
    { tenantId, actor, type: "config.changed", details: { resource: "system_client", id: clientId, action: "delete" } },
    now,
  );
}
