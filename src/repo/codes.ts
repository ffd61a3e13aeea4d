/**
 * One-time codes (table one_time_codes, one live code per user and purpose; only an HMAC of the code is kept) and
 * the development outbox (table outbox). Every write that must hold under concurrency is a single conditional
 * statement: a new code replaces the old one (upsert, in one batch with its audit event); a guess is checked by
 * conditional statements of one batch (codeCheckStmts): the submitted code's HMAC is compared with code_hash in SQL, a
 * wrong one takes one of the code's attempts and counts against the user's wrong-code window, a right one is
 * consumed by one conditional DELETE, and what the code guards (the passkey insert) runs in that batch, gated by it.
 */
import { desc, eq, sql } from "drizzle-orm";
import { newId } from "../crypto/bytes";
import { iso, orm } from "../db/client";
import { outbox } from "../db/schema";
import { auditStmt, type AuditEvent } from "./audit";
import {
  type BatchCounter,
  counterFull,
  Fragment,
  firstRefusalOf,
  literal,
  prepareFragment,
  refuseWhen,
  reserveWhen,
  sqlOf,
} from "./counters";

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

/** Who may use a code: SQL naming the pool of the code's user while that user may use it (else NULL). */
export type CodeHolder = Fragment;

const ACTIVE_USER = `users u JOIN pools p ON p.tenant_id = u.tenant_id AND p.id = u.pool_id`;

/** The user, active, in this pool (system API add/complete). */
export const userOfPool = (tenantId: string, poolId: string, userId: string): CodeHolder =>
  sqlOf`(SELECT u.pool_id FROM ${new Fragment(ACTIVE_USER)} WHERE u.tenant_id = ${tenantId} AND u.id = ${userId} AND u.pool_id = ${poolId} AND u.status = 'active')`;

/** The user, active, in one of the workspace's pools, the workspace offering passkeys (an enrollment link). */
export const userOfWorkspace = (tenantId: string, workspaceId: string, userId: string): CodeHolder =>
  sqlOf`(SELECT u.pool_id FROM ${new Fragment(ACTIVE_USER)}
    JOIN workspace_pools wp ON wp.tenant_id = u.tenant_id AND wp.pool_id = u.pool_id
    JOIN workspaces w ON w.tenant_id = wp.tenant_id AND w.id = wp.workspace_id
    WHERE u.tenant_id = ${tenantId} AND u.id = ${userId} AND w.id = ${workspaceId} AND u.status = 'active'
      AND EXISTS (SELECT 1 FROM json_each(w.authentication_mechanisms) WHERE value IN ('webauthn', 'usernameless_webauthn')))`;

/**
 * The user, active, in one of the workspace's pools that offers recovery (domain/pool.ts poolOffersRecovery: on, and no
 * second factor), the workspace offering passkeys (recovery).
 */
export const userOfRecovery = (tenantId: string, workspaceId: string, userId: string): CodeHolder =>
  sqlOf`(SELECT u.pool_id FROM ${new Fragment(ACTIVE_USER)}
    JOIN workspace_pools wp ON wp.tenant_id = u.tenant_id AND wp.pool_id = u.pool_id
    JOIN workspaces w ON w.tenant_id = wp.tenant_id AND w.id = wp.workspace_id
    WHERE u.tenant_id = ${tenantId} AND u.id = ${userId} AND w.id = ${workspaceId} AND u.status = 'active' AND p.recovery = 1
      AND p.second_factor_authentication_mechanisms = '[]'
      AND EXISTS (SELECT 1 FROM json_each(w.authentication_mechanisms) WHERE value IN ('webauthn', 'usernameless_webauthn')))`;

/** The per-user wrong-code counter: its key and window, and its limit as the pool's column with range and default. */
export interface WrongCodeCounter {
  key: string;
  name: string;
  windowMs: number;
  min: number;
  max: number;
  fallback: number;
}

export interface CodeCheck {
  tenantId: string;
  userId: string;
  purpose: string;
  subject: CodeHolder;
  /** The HMAC of the submitted code (compared with code_hash in SQL: HMAC outputs of a secret key, not chosen bytes). */
  given: string;
  /** consume: a right code is deleted (add/complete, link complete); check: it is left as it was (link options). */
  mode: "check" | "consume";
  counter: WrongCodeCounter;
  actor: string;
  /** details of the otp.failed event written for a wrong code. */
  failed: Record<string, unknown>;
  now: number;
}

/** The statements of one code check, to run in ONE batch: `head`, then what `gate` guards, then `tail`. */
export interface CodeCheckStmts {
  head: D1PreparedStatement[];
  /** True (for the statements between head and tail) iff this check succeeds: the batch's writes are gated by it. */
  gate: Fragment;
  tail: D1PreparedStatement[];
}

export type CodeOutcome = { kind: "right" } | { kind: "wrong" } | { kind: "limited"; expiresAt: number };

function auditWhen(
  d1: D1Database,
  e: { tenantId: string; poolId: Fragment; userId: string; actor: string; type: AuditEvent["type"]; details: Fragment },
  now: number,
  when: Fragment,
): D1PreparedStatement {
  return prepareFragment(
    d1,
    sqlOf`INSERT INTO audit_events (id, tenant_id, pool_id, user_id, actor, type, details, created_at)
      SELECT ${newId()}, ${e.tenantId}, ${e.poolId}, ${e.userId}, ${e.actor}, ${e.type}, ${e.details}, ${now} WHERE ${when}`,
  );
}

/**
 * One code check as conditional statements of one batch (one transaction, so every condition below reads the state
 * the earlier statements left, and parallel checks are serialised by D1). With P the subject's pool (NULL: nobody who
 * may use a code), B "the user's wrong-code window is full", M "the live code (unexpired, under MAX_CODE_ATTEMPTS)
 * has the given hash", all read before anything they depend on changes:
 * - B: the refusal is counted (429), the window's first refusal audited; nothing else happens;
 * - not B, M: the gated statements run; consume mode deletes the code last (RETURNING: this request used it);
 * - not B, not M: the code's attempt is taken (if live), otp.failed audited, a wrong code counted against the user.
 * The code row changes only in the not-M case (attempts, another hash) or last (the delete), and the counter only in
 * the not-M case, so B and M hold their values through the batch.
 */
export function codeCheckStmts(d1: D1Database, c: CodeCheck): CodeCheckStmts {
  const P = c.subject;
  const valid = sqlOf`${P} IS NOT NULL`;
  const limit = sqlOf`(SELECT CASE WHEN typeof(otp_failures_per_day) = 'integer' AND otp_failures_per_day BETWEEN ${literal(c.counter.min)}
    AND ${literal(c.counter.max)} THEN otp_failures_per_day ELSE ${literal(c.counter.fallback)} END FROM pools WHERE tenant_id = ${c.tenantId} AND id = ${P})`;
  const counter: BatchCounter = { ref: { tenantId: c.tenantId, key: c.counter.key }, limit, windowMs: c.counter.windowMs, now: c.now };
  const full = counterFull(counter);
  const code = sqlOf`tenant_id = ${c.tenantId} AND user_id = ${c.userId} AND purpose = ${c.purpose} AND pool_id = ${P}
    AND expires_at > ${c.now} AND attempts < ${literal(MAX_CODE_ATTEMPTS)}`;
  const matches = sqlOf`EXISTS (SELECT 1 FROM one_time_codes WHERE ${code} AND code_hash = ${c.given})`;
  const gate = sqlOf`${valid} AND NOT ${full} AND ${matches}`;
  const who = { tenantId: c.tenantId, poolId: P, userId: c.userId, actor: c.actor };
  const refusal = sqlOf`json_object('limit', ${c.counter.name}, 'max', ${limit}, 'window_seconds', ${literal(c.counter.windowMs / 1000)})`;
  return {
    head: [
      refuseWhen(d1, counter, valid),
      auditWhen(d1, { ...who, type: "rate_limited", details: refusal }, c.now, sqlOf`${valid} AND ${firstRefusalOf(counter)}`),
    ],
    gate,
    tail: [
      prepareFragment(
        d1,
        sqlOf`UPDATE one_time_codes SET attempts = attempts + 1 WHERE ${code} AND code_hash <> ${c.given} AND NOT ${full}`,
      ),
      auditWhen(
        d1,
        { ...who, type: "otp.failed", details: sqlOf`${JSON.stringify(c.failed)}` },
        c.now,
        sqlOf`${valid} AND NOT ${full} AND NOT ${matches}`,
      ),
      reserveWhen(d1, counter, sqlOf`${valid} AND NOT ${matches}`),
      c.mode === "consume"
        ? prepareFragment(d1, sqlOf`DELETE FROM one_time_codes WHERE ${code} AND code_hash = ${c.given} AND NOT ${full} RETURNING user_id`)
        : prepareFragment(d1, sqlOf`SELECT 1 AS ok WHERE ${gate}`),
    ],
  };
}

/** The outcome of a code check from the results of its `head` and `tail` statements. */
export function codeOutcome(head: readonly D1Result[], tail: readonly D1Result[]): CodeOutcome {
  const refused = head[0]?.results?.[0] as { expires_at: number } | undefined;
  if (refused) return { kind: "limited", expiresAt: refused.expires_at };
  return (tail[3]?.results?.length ?? 0) > 0 ? { kind: "right" } : { kind: "wrong" };
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
