/**
 * One-time codes (table one_time_codes, one live code per user and purpose; only an HMAC of the code is kept) and
 * the development outbox (table outbox). Every write that must hold under concurrency is a single conditional
 * statement: a new code replaces the old one (upsert), a right code is consumed by one conditional DELETE, a wrong
 * one counts by one conditional UPDATE, each in the same D1 batch as its audit event.
 */
import { desc, eq, sql } from "drizzle-orm";
import { newId } from "../crypto/bytes";
import { iso, orm } from "../db/client";
import { outbox } from "../db/schema";
import { auditStmt, type AuditEvent } from "./audit";

/** A code dies after this many wrong attempts, even if the right code is sent afterwards. */
export const MAX_CODE_ATTEMPTS = 5;

export interface CodeKey {
  tenantId: string;
  poolId: string;
  userId: string;
  purpose: string;
}

/** Stores (or replaces, resetting attempts) the user's code for this purpose, and audits it, in one batch. */
export async function saveCode(d1: D1Database, k: CodeKey, codeHash: string, expiresAt: number, audit: AuditEvent, now: number): Promise<void> {
  await d1.batch([
    d1.prepare(
      `INSERT INTO one_time_codes (tenant_id, pool_id, user_id, purpose, code_hash, attempts, expires_at, created_at)
       VALUES (?, ?, ?, ?, ?, 0, ?, ?)
       ON CONFLICT (user_id, purpose) DO UPDATE SET
         tenant_id = excluded.tenant_id, pool_id = excluded.pool_id, code_hash = excluded.code_hash,
         attempts = 0, expires_at = excluded.expires_at, created_at = excluded.created_at`,
    ).bind(k.tenantId, k.poolId, k.userId, k.purpose, codeHash, expiresAt, now),
    auditStmt(d1, audit, now),
  ]);
}

const live = `tenant_id = ? AND pool_id = ? AND user_id = ? AND purpose = ? AND attempts < ${MAX_CODE_ATTEMPTS} AND expires_at > ?`;
const liveBinds = (k: CodeKey, now: number) => [k.tenantId, k.poolId, k.userId, k.purpose, now];

/**
 * Consumes the code if it is live and its hash matches: one conditional DELETE, so of two parallel calls with the
 * right code exactly one gets true.
 */
export async function consumeCode(d1: D1Database, k: CodeKey, codeHash: string, now: number): Promise<boolean> {
  const row = await d1.prepare(`DELETE FROM one_time_codes WHERE ${live} AND code_hash = ? RETURNING user_id`)
    .bind(...liveBinds(k, now), codeHash).first<{ user_id: string }>();
  return row !== null;
}

/**
 * Counts a failed attempt against the live code (one conditional UPDATE) and audits the failure, in one batch.
 * Returns the attempts now recorded, or null when there was no live code to count against.
 */
export async function countFailedAttempt(d1: D1Database, k: CodeKey, audit: AuditEvent, now: number): Promise<number | null> {
  const [upd] = await d1.batch<{ attempts: number }>([
    d1.prepare(`UPDATE one_time_codes SET attempts = attempts + 1 WHERE ${live} RETURNING attempts`).bind(...liveBinds(k, now)),
    auditStmt(d1, audit, now),
  ]);
  return upd?.results[0]?.attempts ?? null;
}

export interface OutboxMessage {
  tenantId: string;
  to: string;
  purpose: string;
  code: string;
}

export async function insertOutbox(d1: D1Database, m: OutboxMessage, now: number): Promise<void> {
  await orm(d1).insert(outbox).values({ id: newId(), tenantId: m.tenantId, to: m.to, purpose: m.purpose, code: m.code, createdAt: now });
}

/** The tenant's newest outbox messages first (insertion order breaks ties within a millisecond). */
export async function listOutbox(d1: D1Database, tenantId: string, limit: number) {
  const rows = await orm(d1).select().from(outbox).where(eq(outbox.tenantId, tenantId))
    .orderBy(desc(outbox.createdAt), desc(sql`rowid`)).limit(limit);
  return rows.map((r) => ({ to: r.to, purpose: r.purpose, code: r.code, created_at: iso(r.createdAt)! }));
}

/**
 * The stored hash of the user's live code for this purpose (unexpired, under the attempt limit), or null. Reads
 * only: enrollment links check a code before the ceremony and consume it (consumeCode) when it completes.
 */
export async function liveCodeHash(d1: D1Database, k: CodeKey, now: number): Promise<string | null> {
  const row = await d1.prepare(`SELECT code_hash FROM one_time_codes WHERE ${live}`).bind(...liveBinds(k, now)).first<{ code_hash: string }>();
  return row?.code_hash ?? null;
}
