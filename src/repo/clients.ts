/** Storage of system clients (table system_clients). */
import { and, asc, eq } from "drizzle-orm";
import { orm } from "../db/client";
import { systemClients } from "../db/schema";

export type SystemClientRow = typeof systemClients.$inferSelect;

export async function clientById(d1: D1Database, tenantId: string, clientId: string): Promise<SystemClientRow | undefined> {
  return orm(d1)
    .select()
    .from(systemClients)
    .where(and(eq(systemClients.tenantId, tenantId), eq(systemClients.clientId, clientId)))
    .get();
}

export async function insertClient(d1: D1Database, row: SystemClientRow): Promise<void> {
  await orm(d1).insert(systemClients).values(row);
}

export async function listClients(d1: D1Database, tenantId: string): Promise<SystemClientRow[]> {
  return orm(d1)
    .select()
    .from(systemClients)
    .where(eq(systemClients.tenantId, tenantId))
    .orderBy(asc(systemClients.createdAt), asc(systemClients.clientId));
}

/** Deletes a stored client; false when the tenant has no such client. */
export async function deleteClient(d1: D1Database, tenantId: string, clientId: string): Promise<boolean> {
  const rows = await orm(d1)
    .delete(systemClients)
    .where(and(eq(systemClients.tenantId, tenantId), eq(systemClients.clientId, clientId)))
    .returning({ id: systemClients.clientId });
  return rows.length === 1;
}
