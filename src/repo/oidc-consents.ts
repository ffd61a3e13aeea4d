/**
 * Consents (table oidc_consents): the scopes a user granted a client that is not trusted, per (tenant, client, user).
 * Remembering a consent adds its scopes to the stored set; a request is covered when all its scopes are in the set.
 * Each function is one D1 statement. Consents go with their client or user (foreign keys, cascade).
 */
import { and, eq } from "drizzle-orm";
import { orm } from "../db/client";
import { oidcConsents } from "../db/schema";

/**
 * Remembers that the user granted the client these scopes: one upsert whose stored set becomes the sorted union of
 * the previous set and these scopes (so granting `openid email` after `openid profile` covers all three).
 */
export async function rememberConsent(
  d1: D1Database,
  k: { tenantId: string; clientId: string; userId: string },
  scopes: string[],
  now: number,
): Promise<void> {
  const set = JSON.stringify([...new Set(scopes)].sort());
  await d1
    .prepare(
      `INSERT INTO oidc_consents (tenant_id, client_id, user_id, scopes, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (tenant_id, client_id, user_id) DO UPDATE SET updated_at = excluded.updated_at,
         scopes = (SELECT json_group_array(value) FROM (SELECT value FROM json_each(oidc_consents.scopes)
                   UNION SELECT value FROM json_each(excluded.scopes) ORDER BY value))`,
    )
    .bind(k.tenantId, k.clientId, k.userId, set, now, now)
    .run();
}

/** The scopes the user granted the client so far ([] when none). One query (primary key). */
export async function consentedScopes(d1: D1Database, k: { tenantId: string; clientId: string; userId: string }): Promise<string[]> {
  const row = await orm(d1)
    .select({ scopes: oidcConsents.scopes })
    .from(oidcConsents)
    .where(and(eq(oidcConsents.tenantId, k.tenantId), eq(oidcConsents.clientId, k.clientId), eq(oidcConsents.userId, k.userId)))
    .get();
  return row?.scopes ?? [];
}

/** Whether the user's remembered consent for the client covers every one of these scopes. One query. */
export async function hasConsent(
  d1: D1Database,
  k: { tenantId: string; clientId: string; userId: string },
  scopes: string[],
): Promise<boolean> {
  const granted = new Set(await consentedScopes(d1, k));
  return scopes.every((s) => granted.has(s));
}
