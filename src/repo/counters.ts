/**
 * Fixed-window abuse counters (table rate_counters). Each change is one conditional statement, so parallel requests
 * cannot push a counter past its limit: `reserve` takes a slot (or starts a new window) only while the count is under
 * the limit, `refund` gives a slot back within the same window. A refusal bumps `refused` and, for the first refusal
 * of the window, writes the audit event in the same batch.
 *
 * For a check that must run in one batch with what it guards (the one-time code's, src/repo/codes.ts), the same
 * statements come as batch members gated by a condition (`refuseWhen`, `reserveWhen`): a batch is one transaction, so
 * the counter's state read by one statement is the state the next one changes.
 */
import { auditIfStmt, type AuditEvent } from "./audit";

/** A piece of SQL with its bind values, composed with the `sqlOf` tag (nested fragments are inlined, values bound). */
export class Fragment {
  constructor(
    readonly text: string,
    readonly binds: readonly unknown[] = [],
  ) {}
}

/** SQL text with `${value}` bound as `?` and `${fragment}` inlined with its binds. */
export function sqlOf(strings: TemplateStringsArray, ...parts: unknown[]): Fragment {
  let text = strings[0] ?? "";
  const binds: unknown[] = [];
  parts.forEach((p, i) => {
    if (p instanceof Fragment) {
      text += p.text;
      binds.push(...p.binds);
    } else {
      text += "?";
      binds.push(p);
    }
    text += strings[i + 1] ?? "";
  });
  return new Fragment(text, binds);
}

/** An integer written into the SQL text (limits and windows of our own constants, never request input). */
export function literal(n: number): Fragment {
  if (!Number.isSafeInteger(n)) throw new Error(`not an integer: ${n}`);
  return new Fragment(String(n));
}

export const prepareFragment = (d1: D1Database, f: Fragment): D1PreparedStatement => d1.prepare(f.text).bind(...f.binds);

export interface CounterRef {
  tenantId: string;
  key: string;
}

export type Reservation = { ok: true; expiresAt: number } | { ok: false; expiresAt: number };

const REFUSE = `UPDATE rate_counters SET refused = refused + 1 WHERE tenant_id = ? AND "key" = ? AND expires_at > ? RETURNING refused, expires_at`;
const FIRST_REFUSAL = `SELECT 1 FROM rate_counters WHERE tenant_id = ? AND "key" = ? AND expires_at > ? AND refused = 1`;

/**
 * Takes one slot of the counter's current window (a new window of `windowMs` starts when the last one has passed).
 * Refused when the window already holds `limit`; the first refusal of a window is audited with `audit`.
 */
export async function reserve(
  d1: D1Database,
  c: CounterRef,
  limit: number,
  windowMs: number,
  now: number,
  audit: AuditEvent,
): Promise<Reservation> {
  for (let attempt = 0; attempt < 2; attempt++) {
    const counter = { ref: c, limit: sqlOf`${limit}`, windowMs, now };
    const taken = await reserveWhen(d1, counter, sqlOf`1`).first<{ count: number; expires_at: number }>();
    if (taken) return { ok: true, expiresAt: taken.expires_at };
    const [refused] = await d1.batch<{ refused: number; expires_at: number }>([
      d1.prepare(REFUSE).bind(c.tenantId, c.key, now),
      auditIfStmt(d1, audit, now, FIRST_REFUSAL, [c.tenantId, c.key, now]),
    ]);
    const row = refused?.results[0];
    if (row) return { ok: false, expiresAt: row.expires_at };
    // The window ended between the two statements: try again in the new one.
  }
  return { ok: false, expiresAt: now + 1000 };
}

/** Gives back a slot taken by `reserve` in the window that ends at `expiresAt` (a no-op once that window has passed). */
export async function refund(d1: D1Database, c: CounterRef, expiresAt: number): Promise<void> {
  await d1
    .prepare(`UPDATE rate_counters SET "count" = "count" - 1 WHERE tenant_id = ? AND "key" = ? AND expires_at = ? AND "count" > 0`)
    .bind(c.tenantId, c.key, expiresAt)
    .run();
}

/** The counter's state in its live window, or null (tests and diagnostics). */
export async function readCounter(
  d1: D1Database,
  c: CounterRef,
  now: number,
): Promise<{ count: number; refused: number; expiresAt: number } | null> {
  const row = await d1
    .prepare(`SELECT "count", refused, expires_at FROM rate_counters WHERE tenant_id = ? AND "key" = ? AND expires_at > ?`)
    .bind(c.tenantId, c.key, now)
    .first<{ count: number; refused: number; expires_at: number }>();
  return row && { count: row.count, refused: row.refused, expiresAt: row.expires_at };
}

/** A counter used inside a batch: its limit is SQL (it may be read from the pool in the same statement). */
export interface BatchCounter {
  ref: CounterRef;
  limit: Fragment;
  windowMs: number;
  now: number;
}

const liveWindow = (c: BatchCounter) => sqlOf`tenant_id = ${c.ref.tenantId} AND "key" = ${c.ref.key} AND expires_at > ${c.now}`;

/** True while the counter's live window holds its limit (a reservation would be refused). */
export const counterFull = (c: BatchCounter) =>
  sqlOf`EXISTS (SELECT 1 FROM rate_counters WHERE ${liveWindow(c)} AND "count" >= ${c.limit})`;

/** When `when` holds and the window is full: counts the refusal; returns `refused, expires_at` (a row iff refused). */
export const refuseWhen = (d1: D1Database, c: BatchCounter, when: Fragment) =>
  prepareFragment(
    d1,
    sqlOf`UPDATE rate_counters SET refused = refused + 1 WHERE ${liveWindow(c)} AND "count" >= ${c.limit} AND ${when} RETURNING refused, expires_at`,
  );

/** True right after `refuseWhen` counted the window's first refusal (for its audit event). */
export const firstRefusalOf = (c: BatchCounter) =>
  sqlOf`EXISTS (SELECT 1 FROM rate_counters WHERE ${liveWindow(c)} AND "count" >= ${c.limit} AND refused = 1)`;

/**
 * Takes a slot when `when` holds and the window is not full (or has passed: a new window starts). One conditional
 * upsert, so parallel requests cannot pass the limit; a row (`count`, `expires_at`) iff the slot was taken. `reserve`
 * runs it on its own; the one-time code's check runs it as a batch member.
 */
export const reserveWhen = (d1: D1Database, c: BatchCounter, when: Fragment) =>
  prepareFragment(
    d1,
    sqlOf`INSERT INTO rate_counters (tenant_id, "key", window_start, "count", refused, expires_at)
  SELECT ${c.ref.tenantId}, ${c.ref.key}, ${c.now}, 1, 0, ${c.now} + ${c.windowMs} WHERE ${when}
  ON CONFLICT (tenant_id, "key") DO UPDATE SET
    window_start = CASE WHEN rate_counters.expires_at <= ${c.now} THEN excluded.window_start ELSE rate_counters.window_start END,
    "count" = CASE WHEN rate_counters.expires_at <= ${c.now} THEN 1 ELSE rate_counters."count" + 1 END,
    refused = CASE WHEN rate_counters.expires_at <= ${c.now} THEN 0 ELSE rate_counters.refused END,
    expires_at = CASE WHEN rate_counters.expires_at <= ${c.now} THEN excluded.expires_at ELSE rate_counters.expires_at END
  WHERE rate_counters.expires_at <= ${c.now} OR rate_counters."count" < ${c.limit}
  RETURNING "count", expires_at`,
  );
