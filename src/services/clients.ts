/**
 * System client authentication. The bootstrap client (SYSTEM_CLIENT_ID / SYSTEM_CLIENT_SECRET) is valid for every
 * tenant; further clients live in D1 with only a SHA-256 of their secret (secrets are random, high-entropy).
 */
import { b64url, randomBytes, sha256, timingSafeEqualStr } from "../crypto/bytes";
import { clientById, insertClient } from "../repo/clients";

export const SYSTEM_SCOPES = ["identity"] as const;

export async function hashClientSecret(secret: string): Promise<string> {
  return b64url(await sha256(secret));
}

/** Where clients are checked: the D1 binding of stored clients and the bootstrap client's id and secret, if set. */
export interface ClientStore {
  db: D1Database;
  systemClient: { id: string | undefined; secret: string | undefined };
}

/** Returns the client's allowed scopes, or null when the id or secret is wrong. */
export async function authenticateClient(store: ClientStore, tenantId: string, clientId: string, secret: string): Promise<string[] | null> {
  const { id: bootId, secret: bootSecret } = store.systemClient;
  if (bootId && bootSecret && (await timingSafeEqualStr(clientId, bootId))) {
    return (await timingSafeEqualStr(secret, bootSecret)) ? [...SYSTEM_SCOPES] : null;
  }
  const row = await clientById(store.db, tenantId, clientId);
  // Compare against a hash even when the client is unknown, so timing does not tell which ids exist.
  const ok = await timingSafeEqualStr(await hashClientSecret(secret), row?.secretHash ?? "unknown-client");
  return row && ok ? row.scopes.split(" ").filter(Boolean) : null;
}

/** Creates a stored system client; returns its secret (shown once). */
export async function createSystemClient(
  d1: D1Database,
  tenantId: string,
  clientId: string,
  scopes: string[],
  now: number,
  name = "",
): Promise<string> {
  const secret = b64url(randomBytes(32));
  await insertClient(d1, {
    tenantId,
    clientId,
    secretHash: await hashClientSecret(secret),
    scopes: scopes.join(" "),
    name,
    createdAt: now,
  });
  return secret;
}
