/** Storage of tenants (table tenants). */
import { eq } from "drizzle-orm";
import { orm } from "../db/client";
import { tenants } from "../db/schema";

export async function tenantExists(d1: D1Database, id: string): Promise<boolean> {
  return (await orm(d1).select({ id: tenants.id }).from(tenants).where(eq(tenants.id, id)).get()) !== undefined;
}
