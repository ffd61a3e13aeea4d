import { drizzle, type DrizzleD1Database } from "drizzle-orm/d1";
import * as schema from "./schema";

export type Orm = DrizzleD1Database<typeof schema>;
const cache = new WeakMap<D1Database, Orm>();

/** Drizzle over a D1 binding (one instance per binding). */
export function orm(d1: D1Database): Orm {
  let db = cache.get(d1);
  if (!db) {
    db = drizzle(d1, { schema });
    cache.set(d1, db);
  }
  return db;
}

export const iso = (ms: number | null | undefined) => (ms == null ? null : new Date(ms).toISOString());
