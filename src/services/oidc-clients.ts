/**
 * OpenID Connect clients of a workspace (../shared/api.md "Clients"): registration through the system API, merged and
 * validated as a whole by src/domain/oidc.ts mergeClient, stored by src/repo/oidc-clients.ts. A confidential client's
 * secret is 256 random bits, returned once (create, rotate, or an update that makes a public client confidential) and
 * stored as a SHA-256 (base64url); verifyOidcClientSecret is the check for the token and revocation endpoints.
 */
import type { OidcClientInput, OidcClientUpdate } from "../api/oidc-client";
import { newId, newOpaqueSecret, secretHash, timingSafeEqualStr } from "../crypto/bytes";
import { CLIENT_DEFAULTS, type ClientSettings, mergeClient } from "../domain/oidc";
import { ApiError, notFound } from "../errors";
import { configWrite } from "../repo/config-cache";
import * as repo from "../repo/oidc-clients";
import type { OidcClientRow } from "../repo/oidc-clients";
import * as workspaceRepo from "../repo/workspaces";
import type { WorkspaceCall } from "./call";
import { configChanged } from "./audit";
import { orThrow } from "./pools";

/**
 * Whether `secret` is the client's current secret, in constant time. A public client (no stored hash) never matches;
 * pass `undefined` for an unknown client so the comparison still runs (timing does not tell which ids exist).
 */
export async function verifyOidcClientSecret(client: Pick<OidcClientRow, "secretHash"> | undefined, secret: string): Promise<boolean> {
  const ok = await timingSafeEqualStr(await secretHash(secret), client?.secretHash ?? "no-secret");
  return ok && typeof client?.secretHash === "string";
}

const settingsOf = (row: OidcClientRow): ClientSettings => ({
  clientName: row.clientName,
  redirectUris: row.redirectUris,
  postLogoutRedirectUris: row.postLogoutRedirectUris,
  grantTypes: row.grantTypes,
  tokenEndpointAuthMethod: row.tokenEndpointAuthMethod,
  scopes: row.scopes,
  idTokenAlg: row.idTokenAlg,
  trusted: row.trusted,
});

/** The `config.changed` event of a write of one of the workspace's clients. */
const clientEvent = (call: WorkspaceCall, clientId: string, action: "create" | "update" | "delete" | "rotate_secret") =>
  configChanged(call, { resource: "oidc_client", workspace_id: call.workspaceId, id: clientId, action });

/** A client and, when one was just made, its secret (shown once). */
export interface ClientWithSecret {
  client: OidcClientRow;
  secret?: string;
}

export async function getOidcClient(call: WorkspaceCall, clientId: string): Promise<OidcClientRow> {
  const row = await repo.getOidcClient(call.env.DB, call.tenantId, call.workspaceId, clientId);
  if (!row) throw notFound("client");
  return row;
}

/** The workspace's clients, oldest first; 404 when the workspace does not exist (both reads run in parallel). */
export async function listOidcClients(call: WorkspaceCall): Promise<OidcClientRow[]> {
  const [workspace, rows] = await Promise.all([
    workspaceRepo.getWorkspace(call.env.DB, call.tenantId, call.workspaceId),
    repo.listOidcClients(call.env.DB, call.tenantId, call.workspaceId),
  ]);
  if (!workspace) throw notFound("workspace");
  return rows;
}

export async function createOidcClient(call: WorkspaceCall, input: OidcClientInput): Promise<ClientWithSecret> {
  const settings = orThrow(mergeClient(CLIENT_DEFAULTS, input));
  const secret = settings.tokenEndpointAuthMethod === "none" ? undefined : newOpaqueSecret();
  const client: OidcClientRow = {
    tenantId: call.tenantId,
    workspaceId: call.workspaceId,
    clientId: input.client_id ?? newId(),
    ...settings,
    secretHash: secret === undefined ? null : await secretHash(secret),
    createdAt: call.now,
    updatedAt: call.now,
  };
  const event = clientEvent(call, client.clientId, "create");
  const outcome = await configWrite(call.tenantId, repo.insertOidcClient(call.env.DB, client, event));
  if (outcome === "no_workspace") throw notFound("workspace");
  if (outcome === "taken") throw new ApiError("client_exists", undefined, { client_id: client.clientId });
  return { client, ...(secret === undefined ? {} : { secret }) };
}

/**
 * Merges the update over the stored settings. Becoming public drops the secret; becoming confidential makes one,
 * returned in this answer only; otherwise the secret is kept.
 */
export async function updateOidcClient(call: WorkspaceCall, clientId: string, input: OidcClientUpdate): Promise<ClientWithSecret> {
  const current = await getOidcClient(call, clientId);
  const settings = orThrow(mergeClient(settingsOf(current), input));
  let secret: string | undefined;
  let newHash: string | null | undefined;
  if (settings.tokenEndpointAuthMethod === "none") newHash = null;
  else if (current.secretHash === null) {
    secret = newOpaqueSecret();
    newHash = await secretHash(secret);
  }
  const key = { tenantId: call.tenantId, workspaceId: call.workspaceId, clientId };
  const event = clientEvent(call, clientId, "update");
  const client = await configWrite(call.tenantId, repo.updateOidcClient(call.env.DB, key, settings, newHash, event, call.now));
  if (!client) throw notFound("client");
  return { client, ...(secret === undefined ? {} : { secret }) };
}

/** A new secret for a confidential client; the old one stops working at once. 409 public_client for a public one. */
export async function rotateOidcClientSecret(call: WorkspaceCall, clientId: string): Promise<{ client: OidcClientRow; secret: string }> {
  const secret = newOpaqueSecret();
  const key = { tenantId: call.tenantId, workspaceId: call.workspaceId, clientId };
  const event = clientEvent(call, clientId, "rotate_secret");
  const client = await repo.rotateOidcClientSecret(call.env.DB, key, await secretHash(secret), event, call.now);
  if (!client) {
    await getOidcClient(call, clientId); // 404 when absent; else it exists and is public
    throw new ApiError("public_client", undefined, { client_id: clientId });
  }
  return { client, secret };
}

export async function deleteOidcClient(call: WorkspaceCall, clientId: string): Promise<void> {
  const event = clientEvent(call, clientId, "delete");
  const deleted = await configWrite(
    call.tenantId,
    repo.deleteOidcClient(call.env.DB, call.tenantId, call.workspaceId, clientId, event, call.now),
  );
  if (!deleted) throw notFound("client");
}
