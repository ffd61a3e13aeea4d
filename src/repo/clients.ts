/** Storage of system clients (table system_clients). */
import { and, eq } from "drizzle-orm";
import { orm } from "../db/client";
import { systemClients } from "../db/schema";

export type SystemClientRow = typeof systemClients.$inferSelect;

export async function clientById(d1: D1Database, tenantId: string, clientId: string): Promise<SystemClientRow | undefined> {
  return orm(d1).select().from(systemClients)
    .where(and(eq(systemClients.tenantId, tenantId), eq(systemClients.clientId, clientId))).get();
}

export async function insertClient(d1: D1Database, row: SystemClientRow): Promise<void> {
  await orm(d1).insert(systemClients).values(row);
}
