/** System API: the tenant's audit trail. */
import { createRoute, z } from "@hono/zod-openapi";
import { iso } from "../../db/client";
import { newApp } from "../../http/app";
import type { AuditRow } from "../../repo/audit";
import { bearerSecurity, errors, Id, json, TenantParams, Timestamp } from "../../api/common";
import { callOf } from "../../http/context";
import { AUDIT_PAGE_DEFAULT, AUDIT_PAGE_MAX, listAuditEvents } from "../../services/audit";

const tags = ["Audit"];

const AuditQuery = z.object({
  user_id: Id.optional().openapi({ description: "only events about this user" }),
  type: z
    .string()
    .regex(/^[a-z0-9_.]{1,64}$/, "must be an event type, e.g. signin.failed")
    .optional()
    .openapi({ description: "only events of this type" }),
  after: z.string().min(1).max(200).optional().openapi({ description: "the `next` cursor of the previous page (opaque)" }),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(AUDIT_PAGE_MAX)
    .optional()
    .openapi({ description: `page size, default ${AUDIT_PAGE_DEFAULT}, at most ${AUDIT_PAGE_MAX}` }),
});

const AuditEvent = z
  .object({
    id: z.string(),
    type: z.string().openapi({
      description:
        "passkey.registered, passkey.renamed, passkey.deleted, passkey.clone_warning, passkey.recovered, otp.requested, otp.failed, " +
        "signin.succeeded, signin.failed, config.changed, user.created (sign-up), user.deactivated, user.deleted, …",
    }),
    actor: z.string().openapi({ description: "system:<client_id>, user:<user_id> or anonymous" }),
    pool_id: z.string().nullable(),
    user_id: z.string().nullable(),
    details: z.record(z.string(), z.unknown()),
    created_at: Timestamp,
  })
  .openapi("AuditEvent");

const AuditPage = z
  .object({
    events: z.array(AuditEvent),
    next: z.string().nullable().openapi({ description: "cursor of the next page; null on the last page" }),
  })
  .openapi("AuditPage");

const view = (e: AuditRow) => ({
  id: e.id,
  type: e.type,
  actor: e.actor,
  pool_id: e.poolId,
  user_id: e.userId,
  details: e.details,
  created_at: iso(e.createdAt)!,
});

export const audit = newApp().openapi(
  createRoute({
    method: "get",
    path: "/audit-events",
    tags,
    security: bearerSecurity,
    request: { params: TenantParams, query: AuditQuery },
    description:
      "The tenant's audit events, newest first (by created_at, then id). Page with `after` = the previous page's `next`; " +
      "a cursor that this endpoint did not return is 400.",
    responses: { 200: json(AuditPage, "A page of events"), ...errors(400, 401, 403, 404) },
  }),
  async (c) => {
    const { tid } = c.req.valid("param");
    const q = c.req.valid("query");
    const page = await listAuditEvents(callOf(c, tid), { userId: q.user_id, type: q.type, after: q.after, limit: q.limit });
    return c.json({ events: page.events.map(view), next: page.next }, 200);
  },
);
