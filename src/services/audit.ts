/** The audit trail: the events of configuration writes, and reading a tenant's events, newest first, paged by an opaque cursor. */
import { b64url, fromB64url, utf8 } from "../crypto/bytes";
import { validationFailed } from "../errors";
import { type AuditEvent, listAudit, type AuditPosition, type AuditRow } from "../repo/audit";
import type { Call } from "./call";

export const AUDIT_PAGE_DEFAULT = 50;
export const AUDIT_PAGE_MAX = 200;

/** The cursor is base64url("<created_at>.<id>") of the last event of a page; clients treat it as opaque. */
export function encodeCursor(p: AuditPosition): string {
  return b64url(utf8.encode(`${p.createdAt}.${p.id}`));
}

export function decodeCursor(cursor: string): AuditPosition | null {
  const bytes = cursor.length <= 200 ? fromB64url(cursor) : null;
  if (!bytes) return null;
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    return null;
  }
  const m = /^(0|[1-9][0-9]{0,15})\.([A-Za-z0-9_-]{1,64})$/.exec(text);
  if (!m) return null;
  const createdAt = Number(m[1]);
  return Number.isSafeInteger(createdAt) ? { createdAt, id: m[2]! } : null;
}

const badCursor = () => validationFailed("query", [{ field: "after", message: "not a cursor returned by this endpoint" }]);

export interface AuditFilter {
  userId?: string;
  type?: string;
  after?: string;
  limit?: number;
}

export async function listAuditEvents(call: Call, f: AuditFilter): Promise<{ events: AuditRow[]; next: string | null }> {
  const after =
    f.after === undefined
      ? undefined
      : (decodeCursor(f.after) ??
        (() => {
          throw badCursor();
        })());
  const limit = Math.min(Math.max(f.limit ?? AUDIT_PAGE_DEFAULT, 1), AUDIT_PAGE_MAX);
  // One row more than the page tells whether another page follows.
  const rows = await listAudit(call.env.DB, call.tenantId, { userId: f.userId, type: f.type, after, limit: limit + 1 });
  const events = rows.slice(0, limit);
  const last = events[events.length - 1];
  return { events, next: rows.length > limit && last ? encodeCursor(last) : null };
}

/**
 * The `config.changed` event of a configuration write (pools, workspaces, system and OIDC clients); the repo write
 * records it in the change's own batch, only when the change takes effect. Pool events name the pool.
 */
export const configChanged = (
  call: Call,
  details: { resource: string; id: string; action: string } & Record<string, string>,
): AuditEvent => ({
  tenantId: call.tenantId,
  poolId: details.resource === "pool" ? details.id : null,
  actor: call.actor,
  type: "config.changed",
  details,
});
