/**
 * Pending OIDC authorization requests in KV (binding CHALLENGES), key `authz:<id>`, TTL 10 minutes
 * (TTL.pendingAuthorization): the validated request an authorization endpoint keeps while the browser signs in on the
 * hosted page or answers the consent page. The id is 128 random bits; the record names its tenant and workspace, and
 * readers compare them with the path. Deleted when the authorization finishes (a code or an error went back).
 */
import { TTL } from "../domain/ttl";
import type { AuthorizationRequest } from "../domain/oidc";

export interface PendingAuthorization {
  id: string;
  tenantId: string;
  workspaceId: string;
  request: AuthorizationRequest;
  /** When the authorization request arrived (ms): prompt=login and max_age need a sign-in at or after it. */
  requestedAt: number;
  expiresAt: number;
}

const key = (id: string) => `authz:${id}`;
export const PENDING_ID_RE = /^[A-Za-z0-9_-]{16,64}$/;

export async function putPendingAuthorization(kv: KVNamespace, p: PendingAuthorization): Promise<void> {
  await kv.put(key(p.id), JSON.stringify(p), { expirationTtl: TTL.pendingAuthorization });
}

/** The unexpired pending request of this workspace, or null (also for a malformed id or another workspace's). */
export async function getPendingAuthorization(
  kv: KVNamespace,
  k: { id: string; tenantId: string; workspaceId: string },
  now: number,
): Promise<PendingAuthorization | null> {
  if (!PENDING_ID_RE.test(k.id)) return null;
  const p = await kv.get<PendingAuthorization>(key(k.id), "json");
  return p && p.expiresAt > now && p.tenantId === k.tenantId && p.workspaceId === k.workspaceId ? p : null;
}

export async function deletePendingAuthorization(kv: KVNamespace, id: string): Promise<void> {
  await kv.delete(key(id));
}
