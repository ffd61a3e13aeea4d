/**
 * System clients: client authentication at the token endpoint, and a tenant's stored clients (bootstrap client only).
 * The bootstrap client (SYSTEM_CLIENT_ID / SYSTEM_CLIENT_SECRET) is valid for every tenant; further clients live in D1
 * with only a SHA-256 of their secret (secrets are random, high-entropy).
 */
import { b64url, newId, randomBytes, secretHash, timingSafeEqualStr } from "../crypto/bytes";
import { notFound } from "../errors";
import * as clientRepo from "../repo/clients";
import type { SystemClientRow } from "../repo/clients";
import type { Call } from "./call";
import { configChanged } from "./audit";

export const SYSTEM_SCOPES = ["identity"] as const;

/** Returns the client's allowed scopes in the call's tenant, or null when the id or secret is wrong. */
export async function authenticateClient(call: Call, clientId: string, secret: string): Promise<string[] | null> {
  const { SYSTEM_CLIENT_ID: bootId, SYSTEM_CLIENT_SECRET: bootSecret } = call.env;
  if (bootId && bootSecret && (await timingSafeEqualStr(clientId, bootId))) {
    return (await timingSafeEqualStr(secret, bootSecret)) ? [...SYSTEM_SCOPES] : null;
  }
  const row = await clientRepo.clientById(call.env.DB, call.tenantId, clientId);
  // Compare against a hash even when the client is unknown, so timing does not tell which ids exist.
  const ok = await timingSafeEqualStr(await secretHash(secret), row?.secretHash ?? "unknown-client");
  return row && ok ? row.scopes.split(" ").filter(Boolean) : null;
}

/** A stored client without its secret hash. */
export type ClientInfo = Omit<SystemClientRow, "secretHash">;

export async function listClients(call: Call): Promise<ClientInfo[]> {
  return (await clientRepo.listClients(call.env.DB, call.tenantId)).map(({ secretHash: _h, ...c }) => c);
}

/** A new client-credentials client of the tenant; its secret is returned here only (stored as a hash). */
export async function createClient(
  call: Call,
  input: { name?: string; scopes?: readonly string[] },
): Promise<{ client: ClientInfo; secret: string }> {
  const client: ClientInfo = {
    tenantId: call.tenantId,
    clientId: newId(),
    scopes: [...new Set(input.scopes ?? SYSTEM_SCOPES)].join(" "),
    name: input.name?.trim() ?? "",
    createdAt: call.now,
  };
  const secret = b64url(randomBytes(32));
  const event = configChanged(call, { resource: "system_client", id: client.clientId, action: "create" });
  await clientRepo.insertClient(call.env.DB, { ...client, secretHash: await secretHash(secret) }, event, call.now);
  return { client, secret };
}

export async function deleteClient(call: Call, clientId: string): Promise<void> {
  const event = configChanged(call, { resource: "system_client", id: clientId, action: "delete" });
  if (!(await clientRepo.deleteClient(call.env.DB, call.tenantId, clientId, event, call.now))) throw notFound("client");
}
