/** Storage of system clients (table system_clients). */
import { and, asc, eq } from "drizzle-orm";
import { orm, statementOf } from "../db/client";
import { systemClients } from "../db/schema";
import { type AuditEvent, auditIfStmt, auditStmt } from "./audit";

export type SystemClientRow = typeof systemClients.$inferSelect;

export async function clientById(d1: D1Database, tenantId: string, clientId: string): Promise<SystemClientRow | undefined> {
  return orm(d1)
    .select()
    .from(systemClients)
    .where(and(eq(systemClients.tenantId, tenantId), eq(systemClients.clientId, clientId)))
    .get();
}

/** Inserts a client and records `audit` in one batch (a failed insert, e.g. a taken id, records nothing). */
export async function insertClient(d1: D1Database, row: SystemClientRow, audit: AuditEvent, now: number): Promise<void> {
  await d1.batch([statementOf(d1, orm(d1).insert(systemClients).values(row)), auditStmt(d1, audit, now)]);
}

export async function listClients(d1: D1Database, tenantId: string): Promise<SystemClientRow[]> {
  return orm(d1)
    .select()
    .from(systemClients)
    .where(eq(systemClients.tenantId, tenantId))
    .orderBy(asc(systemClients.createdAt), asc(systemClients.clientId));
}

/** Deletes a stored client and records `audit` in one batch, the event only when it existed; false when it did not. */
export async function deleteClient(d1: D1Database, tenantId: string, clientId: string, audit: AuditEvent, now: number): Promise<boolean> {
  const [, del] = await d1.batch([
    auditIfStmt(d1, audit, now, "SELECT 1 FROM system_clients WHERE tenant_id = ? AND client_id = ?", [tenantId, clientId]),
    d1.prepare("DELETE FROM system_clients WHERE tenant_id = ? AND client_id = ? RETURNING client_id").bind(tenantId, clientId),
  ]);
  return (del?.results.length ?? 0) === 1;
}
