/** Storage of signing keys (table signing_keys). */
import { and, asc, eq } from "drizzle-orm";
import { orm } from "../db/client";
import { signingKeys } from "../db/schema";

export type SigningKeyRow = typeof signingKeys.$inferSelect;

export async function activeKeys(d1: D1Database, tenantId: string): Promise<SigningKeyRow[]> {
  return orm(d1)
    .select()
    .from(signingKeys)
    .where(and(eq(signingKeys.tenantId, tenantId), eq(signingKeys.status, "active")))
    .orderBy(asc(signingKeys.createdAt), asc(signingKeys.kid));
}

export async function keyById(d1: D1Database, tenantId: string, kid: string): Promise<SigningKeyRow | undefined> {
  return orm(d1)
    .select()
    .from(signingKeys)
    .where(and(eq(signingKeys.kid, kid), eq(signingKeys.tenantId, tenantId)))
    .get();
}

export async function insertKey(d1: D1Database, row: SigningKeyRow): Promise<void> {
  await orm(d1).insert(signingKeys).values(row);
}
