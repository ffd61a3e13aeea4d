import { drizzle, type DrizzleD1Database } from "drizzle-orm/d1";

export type Orm = DrizzleD1Database;
const cache = new WeakMap<D1Database, Orm>();

/**
 * Drizzle over a D1 binding (one instance per binding). Without the schema option: nothing uses the relational query
 * API (`db.query.*`), and building its metadata from the schema cost ~0.5 ms per instance, paid per request on bearer
 * routes, whose D1 binding is made per request (http/liveness.ts).
 */
export function orm(d1: D1Database): Orm {
  let db = cache.get(d1);
  if (!db) {
    db = drizzle(d1);
    cache.set(d1, db);
  }
  return db;
}

export const iso = (ms: number | null | undefined) => (ms == null ? null : new Date(ms).toISOString());
