/**
 * What client authentication at the workspace's OAuth endpoints reads, in one batch: the client and the live count of
 * its authentication failures (the abuse counter; its writes stay in src/repo/counters.ts). One D1 round trip, so a
 * token request is this plus the grant's own batch.
 */
import { and, eq, gt } from "drizzle-orm";
import { orm } from "../db/client";
import { oidcClients, rateCounters } from "../db/schema";
import type { OidcClientRow } from "./oidc-clients";

export interface ClientAuthRead {
  client: OidcClientRow | undefined;
  /** Failures counted in the counter's live window (0 when none). */
  failures: number;
}

/** The workspace's client and its failure counter `counterKey`. One batch. */
export async function readClientForAuth(
  d1: D1Database,
  k: { tenantId: string; workspaceId: string; clientId: string; counterKey: string },
  now: number,
): Promise<ClientAuthRead> {
  const db = orm(d1);
  const [clients, counters] = await db.batch([
    db
      .select()
      .from(oidcClients)
      .where(and(eq(oidcClients.tenantId, k.tenantId), eq(oidcClients.workspaceId, k.workspaceId), eq(oidcClients.clientId, k.clientId))),
    db
      .select({ count: rateCounters.count })
      .from(rateCounters)
      .where(and(eq(rateCounters.tenantId, k.tenantId), eq(rateCounters.key, k.counterKey), gt(rateCounters.expiresAt, now))),
  ]);
  return { client: clients[0], failures: counters[0]?.count ?? 0 };
}
