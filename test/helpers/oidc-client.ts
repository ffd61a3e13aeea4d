/** OIDC clients as test fixtures, stored straight through the repo (src/repo/oidc-clients.ts). */
import { insertOidcClient, type OidcClientRow } from "../../src/repo/oidc-clients";

/** Inserts a client, audited as an administrator's create would be (the repo records the event in its batch). */
export const insertClientFixture = (d1: D1Database, row: OidcClientRow) =>
  insertOidcClient(d1, row, {
    tenantId: row.tenantId,
    actor: "test",
    type: "config.changed",
    details: { resource: "oidc_client", workspace_id: row.workspaceId, id: row.clientId, action: "create" },
  });
