/** Audit events (table audit_events). Builders return D1 statements so events join the batch of their change. */
import { and, desc, eq, lt, or, type SQL } from "drizzle-orm";
import { newId } from "../crypto/bytes";
import { orm } from "../db/client";
import { auditEvents } from "../db/schema";

export type AuditType =
  | "passkey.registered"
  | "passkey.renamed"
  | "passkey.deleted"
  | "passkey.clone_warning"
  | "passkey.recovered"
  | "otp.requested"
  | "otp.failed"
  | "signin.succeeded"
  | "signin.failed"
  | "config.changed"
  | "user.created"
  | "user.deactivated"
  | "user.deleted"
  | "rate_limited";

export interface AuditEvent {
  tenantId: string;
  poolId?: string | null;
  userId?: string | null;
  actor: string;
  type: AuditType;
  details?: Record<string, unknown>;
}

const INSERT = "INSERT INTO audit_events (id, tenant_id, pool_id, user_id, actor, type, details, created_at)";

function values(e: AuditEvent, now: number): unknown[] {
  return [newId(), e.tenantId, e.poolId ?? null, e.userId ?? null, e.actor, e.type, JSON.stringify(e.details ?? {}), now];
}

export function auditStmt(d1: D1Database, e: AuditEvent, now: number): D1PreparedStatement {
  return d1.prepare(`${INSERT} VALUES (?, ?, ?, ?, ?, ?, ?, ?)`).bind(...values(e, now));
}

/** An audit insert that happens only when `existsSql` (with its binds) finds a row: for batches whose change may be a no-op. */
export function auditIfStmt(d1: D1Database, e: AuditEvent, now: number, existsSql: string, binds: unknown[]): D1PreparedStatement {
  return d1.prepare(`${INSERT} SELECT ?, ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (${existsSql})`).bind(...values(e, now), ...binds);
}

export async function recordAudit(d1: D1Database, e: AuditEvent, now: number): Promise<void> {
  await auditStmt(d1, e, now).run();
}

export type AuditRow = typeof auditEvents.$inferSelect;

/** Where a page of events starts: strictly older than this (created_at, id), in the listing's order. */
export interface AuditPosition {
  createdAt: number;
  id: string;
}

export interface AuditQuery {
  userId?: string;
  type?: string;
  after?: AuditPosition;
  limit: number;
}

/** A tenant's events, newest first, ordered by (created_at, id) so pages are stable; at most `limit` rows. */
export async function listAudit(d1: D1Database, tenantId: string, q: AuditQuery): Promise<AuditRow[]> {
  const where: SQL[] = [eq(auditEvents.tenantId, tenantId)];
  if (q.userId !== undefined) where.push(eq(auditEvents.userId, q.userId));
  if (q.type !== undefined) where.push(eq(auditEvents.type, q.type));
  if (q.after) {
    const { createdAt, id } = q.after;
    where.push(or(lt(auditEvents.createdAt, createdAt), and(eq(auditEvents.createdAt, createdAt), lt(auditEvents.id, id)))!);
  }
  return orm(d1)
    .select()
    .from(auditEvents)
    .where(and(...where))
    .orderBy(desc(auditEvents.createdAt), desc(auditEvents.id))
    .limit(q.limit);
}
