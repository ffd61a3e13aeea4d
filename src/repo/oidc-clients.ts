/**
 * Storage of OpenID Connect clients (table oidc_clients). A client id is unique in its tenant and every function
 * also names the workspace, so a client of another workspace (or tenant) reads as absent. Only a SHA-256 of the
 * secret is stored (the caller hashes: crypto/bytes.ts secretHash); a public client has none. Deleting a
 * client cascades (foreign keys) to its codes, refresh tokens and consents. Each function is one D1 round trip; the
 * writes record their audit event (`config.changed`) in the same batch, only when the write took effect.
 */
import { and, asc, eq, isNotNull } from "drizzle-orm";
import { orm, statementOf } from "../db/client";
import { oidcClients } from "../db/schema";
import { type AuditEvent, auditIfStmt } from "./audit";
import { mapped, rowMapper } from "./rows";

export type OidcClientRow = typeof oidcClients.$inferSelect;
/** What registration sets (RFC 7591 metadata); the rest of a row is identity, secret and times. */
export type OidcClientSettings = Omit<OidcClientRow, "tenantId" | "workspaceId" | "clientId" | "secretHash" | "createdAt" | "updatedAt">;

const clientRow = rowMapper(oidcClients);
const CLIENT = "SELECT 1 FROM oidc_clients WHERE tenant_id = ? AND workspace_id = ? AND client_id = ?";

const byId = (tenantId: string, workspaceId: string, clientId: string) =>
  and(eq(oidcClients.tenantId, tenantId), eq(oidcClients.workspaceId, workspaceId), eq(oidcClients.clientId, clientId));

/** The workspace's client, or undefined. One query (primary key). */
export async function getOidcClient(
  d1: D1Database,
  tenantId: string,
  workspaceId: string,
  clientId: string,
): Promise<OidcClientRow | undefined> {
  return orm(d1)
    .select()
    .from(oidcClients)
    .where(byId(tenantId, workspaceId, clientId))
    .get();
}

/** The workspace's clients, oldest first. One query. */
export async function listOidcClients(d1: D1Database, tenantId: string, workspaceId: string): Promise<OidcClientRow[]> {
  return orm(d1)
    .select()
    .from(oidcClients)
    .where(and(eq(oidcClients.tenantId, tenantId), eq(oidcClients.workspaceId, workspaceId)))
    .orderBy(asc(oidcClients.createdAt), asc(oidcClients.clientId));
}

/**
 * Inserts a client while its workspace exists. One batch: `audit` (dated `row.createdAt`) when the insert will take
 * effect, the conditional insert (nothing on a taken id) and the workspace check that tells the two refusals apart.
 * `taken`: the client id is used in the tenant.
 */
export async function insertOidcClient(
  d1: D1Database,
  row: OidcClientRow,
  audit: AuditEvent,
): Promise<"created" | "taken" | "no_workspace"> {
  const cols = [
    "tenant_id, workspace_id, client_id, client_name, secret_hash, redirect_uris, post_logout_redirect_uris, grant_types",
    "token_endpoint_auth_method, scopes, id_token_signed_response_alg, trusted, created_at, updated_at",
  ].join(", ");
  const willInsert =
    "SELECT 1 FROM workspaces WHERE tenant_id = ? AND id = ? AND NOT EXISTS (SELECT 1 FROM oidc_clients WHERE tenant_id = ? AND client_id = ?)";
  const [, inserted, workspace] = await d1.batch([
    auditIfStmt(d1, audit, row.createdAt, willInsert, [row.tenantId, row.workspaceId, row.tenantId, row.clientId]),
    d1
      .prepare(
        `INSERT INTO oidc_clients (${cols}) SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?
         WHERE EXISTS (SELECT 1 FROM workspaces WHERE tenant_id = ? AND id = ?) ON CONFLICT DO NOTHING RETURNING client_id`,
      )
      .bind(
        row.tenantId,
        row.workspaceId,
        row.clientId,
        row.clientName,
        row.secretHash,
        JSON.stringify(row.redirectUris),
        JSON.stringify(row.postLogoutRedirectUris),
        JSON.stringify(row.grantTypes),
        row.tokenEndpointAuthMethod,
        JSON.stringify(row.scopes),
        row.idTokenAlg,
        row.trusted ? 1 : 0,
        row.createdAt,
        row.updatedAt,
        row.tenantId,
        row.workspaceId,
      ),
    d1.prepare("SELECT 1 AS ok FROM workspaces WHERE tenant_id = ? AND id = ?").bind(row.tenantId, row.workspaceId),
  ]);
  if ((inserted?.results.length ?? 0) === 1) return "created";
  return (workspace?.results.length ?? 0) === 1 ? "taken" : "no_workspace";
}

/**
 * Replaces the client's settings (the caller merged and validated them) and records `audit` in one batch, the event
 * only when the client exists. `secretHash`: undefined keeps the stored one, null removes it (the client became
 * public), a string replaces it. Undefined when absent.
 */
export async function updateOidcClient(
  d1: D1Database,
  key: { tenantId: string; workspaceId: string; clientId: string },
  settings: OidcClientSettings,
  secretHash: string | null | undefined,
  audit: AuditEvent,
  now: number,
): Promise<OidcClientRow | undefined> {
  const update = orm(d1)
    .update(oidcClients)
    .set({ ...settings, ...(secretHash === undefined ? {} : { secretHash }), updatedAt: now })
    .where(byId(key.tenantId, key.workspaceId, key.clientId))
    .returning();
  const [, rows] = await d1.batch([
    auditIfStmt(d1, audit, now, CLIENT, [key.tenantId, key.workspaceId, key.clientId]),
    statementOf(d1, update),
  ]);
  return mapped(rows, clientRow)[0];
}

/**
 * Replaces the secret of a confidential client (the old one stops working at once) and records `audit` in one batch,
 * the event only when it is replaced. Undefined when the workspace has no such client or it is public (it has no
 * secret to rotate).
 */
export async function rotateOidcClientSecret(
  d1: D1Database,
  key: { tenantId: string; workspaceId: string; clientId: string },
  secretHash: string,
  audit: AuditEvent,
  now: number,
): Promise<OidcClientRow | undefined> {
  const update = orm(d1)
    .update(oidcClients)
    .set({ secretHash, updatedAt: now })
    .where(and(byId(key.tenantId, key.workspaceId, key.clientId), isNotNull(oidcClients.secretHash)))
    .returning();
  const [, rows] = await d1.batch([
    auditIfStmt(d1, audit, now, `${CLIENT} AND secret_hash IS NOT NULL`, [key.tenantId, key.workspaceId, key.clientId]),
    statementOf(d1, update),
  ]);
  return mapped(rows, clientRow)[0];
}

/**
 * Deletes the client (its codes, refresh tokens and consents follow by cascade) and records `audit` in one batch, the
 * event only when it existed. False when absent.
 */
export async function deleteOidcClient(
  d1: D1Database,
  tenantId: string,
  workspaceId: string,
  clientId: string,
  audit: AuditEvent,
  now: number,
): Promise<boolean> {
  const [, del] = await d1.batch([
    auditIfStmt(d1, audit, now, CLIENT, [tenantId, workspaceId, clientId]),
    d1
      .prepare("DELETE FROM oidc_clients WHERE tenant_id = ? AND workspace_id = ? AND client_id = ? RETURNING client_id")
      .bind(tenantId, workspaceId, clientId),
  ]);
  return (del?.results.length ?? 0) === 1;
}
