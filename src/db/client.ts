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

/** A drizzle query builder (insert, update, delete, select). */
export type Query = { toSQL(): { sql: string; params: unknown[] } };

/**
 * A drizzle query as a plain D1 statement, for a batch that also holds statements built elsewhere (e.g. an audit event
 * or the end of a user's sessions joining a user update).
 */
export function statementOf(d1: D1Database, q: Query): D1PreparedStatement {
  const { sql, params } = q.toSQL();
  return d1.prepare(sql).bind(...params);
}

export const iso = (ms: number | null | undefined) => (ms == null ? null : new Date(ms).toISOString());
