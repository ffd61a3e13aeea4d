/**
 * Tenants, for the bootstrap client, and a tenant's public keys. A new tenant starts with what every tenant needs:
 * the `admins` pool, the Smart `admin` workspace over it (as scripts/seed.sql makes for tenant "default") and a
 * signing key. Deleting a tenant deletes everything it holds (repo/tenants TENANT_TABLES) in one batch.
 *
 * Tenants are managed across tenants: for listTenants, getTenant, createTenant and deleteTenant the call's tenant is
 * the caller's (whose token endpoint issued the bootstrap client's token); the tenant acted on is the argument.
 */
import { newId } from "../crypto/bytes";
import { jwks, signingKey } from "../crypto/keys";
import { POOL_DEFAULTS } from "../domain/pool";
import { ApiError, notFound } from "../errors";
import { configWrite } from "../repo/config-cache";
import * as tenantRepo from "../repo/tenants";
import type { NewPoolRow, TenantRow } from "../repo/tenants";
import type { WorkspaceWithPools } from "../repo/workspaces";
import type { Call } from "./call";
import { ADMIN_POOL, ADMIN_WORKSPACE } from "./user-token";

export const listTenants = (call: Call): Promise<TenantRow[]> => tenantRepo.listTenants(call.env.DB);

export async function getTenant(call: Call, id: string): Promise<TenantRow> {
  const t = await tenantRepo.getTenant(call.env.DB, id);
  if (!t) throw notFound("tenant");
  return t;
}

/** The admins pool and the Smart admin workspace over it, as every tenant starts. */
function adminRows(tenantId: string, now: number): { admins: NewPoolRow; admin: WorkspaceWithPools } {
  const admins: NewPoolRow = {
    ...POOL_DEFAULTS,
    tenantId,
    id: ADMIN_POOL,
    name: "Administrators",
    description: "Administrators of this tenant",
    mechanisms: ["webauthn"],
    preferredMechanism: "webauthn",
    secondFactorMechanisms: [],
    rpOrigins: [],
    recovery: false,
    createdAt: now,
    updatedAt: now,
  };
  const admin: WorkspaceWithPools = {
    tenantId,
    id: ADMIN_WORKSPACE,
    name: "Admin console",
    mechanisms: ["usernameless_webauthn"],
    poolIds: [ADMIN_POOL],
    createdAt: now,
    updatedAt: now,
  };
  return { admins, admin };
}

export async function createTenant(call: Call, input: { id?: string; name: string }): Promise<TenantRow> {
  const { env, now } = call;
  const tenant: TenantRow = { id: input.id ?? newId(), name: input.name.trim(), createdAt: now };
  const { admins, admin } = adminRows(tenant.id, now);
  if (!(await tenantRepo.insertTenant(env.DB, tenant, [admins], [admin]))) {
    throw new ApiError("tenant_exists", "a tenant with this id already exists", { id: tenant.id });
  }
  // The signing key now, so the JWKS is published before the first token. Best effort: without
  // KEY_ENCRYPTION_SECRET (or on a storage hiccup) the key is made on first use, as for any tenant.
  await signingKey({ db: env.DB, secret: env.KEY_ENCRYPTION_SECRET }, tenant.id, now).catch(() => undefined);
  return tenant;
}

export async function deleteTenant(call: Call, id: string): Promise<void> {
  if (!(await configWrite(id, tenantRepo.deleteTenantEverywhere(call.env.DB, id)))) throw notFound("tenant");
}

/** The call's tenant's public signing keys (JWKS); 404 for an unknown tenant. */
export async function getJwks(call: Call): ReturnType<typeof jwks> {
  if (!(await tenantRepo.tenantExists(call.env.DB, call.tenantId))) throw notFound("tenant");
  return jwks(call.env.DB, call.tenantId);
}
