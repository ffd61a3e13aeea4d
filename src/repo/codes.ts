/**
 * One-time codes (table one_time_codes, one live code per user and purpose; only an HMAC of the code is kept) and
 * the development outbox (table outbox). Every write that must hold under concurrency is a single conditional
 * statement: a new code replaces the old one (upsert, in one batch with its audit event), every guess first takes one
 * of the code's attempts by one conditional UPDATE, and a right code is consumed by one conditional DELETE.
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
export async function saveCode(
  d1: D1Database,
  k: CodeKey,
  codeHash: string,
  expiresAt: number,
  audit: AuditEvent,
  now: number,
): Promise<void> {
  await d1.batch([
    d1
      .prepare(
        `INSERT INTO one_time_codes (tenant_id, pool_id, user_id, purpose, code_hash, attempts, expires_at, created_at)
       VALUES (?, ?, ?, ?, ?, 0, ?, ?)
       ON CONFLICT (user_id, purpose) DO UPDATE SET
         tenant_id = excluded.tenant_id, pool_id = excluded.pool_id, code_hash = excluded.code_hash,
         attempts = 0, expires_at = excluded.expires_at, created_at = excluded.created_at`,
      )
      .bind(k.tenantId, k.poolId, k.userId, k.purpose, codeHash, expiresAt, now),
    auditStmt(d1, audit, now),
  ]);
}

const ofUser = "tenant_id = ? AND pool_id = ? AND user_id = ? AND purpose = ?";
const keyBinds = (k: CodeKey) => [k.tenantId, k.poolId, k.userId, k.purpose];

/**
 * Takes one of the code's attempts: one conditional UPDATE that counts the attempt only while the code is live
 * (unexpired, fewer than MAX_CODE_ATTEMPTS so far), returning the stored hash to compare with. Parallel guesses
 * cannot compare more than MAX_CODE_ATTEMPTS times. Null when no live code is left.
 */
export async function takeCodeAttempt(d1: D1Database, k: CodeKey, now: number): Promise<string | null> {
  const row = await d1
    .prepare(
      `UPDATE one_time_codes SET attempts = attempts + 1 WHERE ${ofUser} AND attempts < ${MAX_CODE_ATTEMPTS} AND expires_at > ? RETURNING code_hash`,
    )
    .bind(...keyBinds(k), now)
    .first<{ code_hash: string }>();
  return row?.code_hash ?? null;
}

/** Gives back an attempt taken for the right code that is not consumed yet (an enrollment link checked it early). */
export async function returnCodeAttempt(d1: D1Database, k: CodeKey, codeHash: string): Promise<void> {
  await d1
    .prepare(`UPDATE one_time_codes SET attempts = attempts - 1 WHERE ${ofUser} AND code_hash = ? AND attempts > 0`)
    .bind(...keyBinds(k), codeHash)
    .run();
}

/**
 * Consumes the code whose attempt the caller holds and whose hash it has checked: one conditional DELETE, so of two
 * parallel calls with the right code exactly one gets true.
 */
export async function consumeCode(d1: D1Database, k: CodeKey, codeHash: string, now: number): Promise<boolean> {
  const row = await d1
    .prepare(`DELETE FROM one_time_codes WHERE ${ofUser} AND code_hash = ? AND expires_at > ? RETURNING user_id`)
    .bind(...keyBinds(k), codeHash, now)
    .first<{ user_id: string }>();
  return row !== null;
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
  const rows = await orm(d1)
    .select()
    .from(outbox)
    .where(eq(outbox.tenantId, tenantId))
    .orderBy(desc(outbox.createdAt), desc(sql`rowid`))
    .limit(limit);
  return rows.map((r) => ({ to: r.to, purpose: r.purpose, code: r.code, created_at: iso(r.createdAt)! }));
}
