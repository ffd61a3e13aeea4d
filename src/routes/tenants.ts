/** Tenants: `/api/identity/system/tenants`, for the bootstrap system client only (mounted with requireBootstrap). */
import { createRoute, z } from "@hono/zod-openapi";
import { iso } from "../db/client";
import { newApp } from "../http/app";
import type { TenantRow } from "../repo/tenants";
import { bearerSecurity, errors, json, jsonBody } from "../api/common";
import { Tenant, TenantIdParams, TenantInput } from "../api/tenant";
import { createTenant, listAllTenants, removeTenant, requireTenant } from "../services/tenants";

const tags = ["Tenants"];
const security = bearerSecurity;
const common = errors(400, 401, 403);

const tenantView = (t: TenantRow) => ({ id: t.id, name: t.name, created_at: iso(t.createdAt)! });

export const tenants = newApp()
  .openapi(
    createRoute({
      method: "get",
      path: "/tenants",
      tags,
      security,
      responses: { 200: json(z.object({ tenants: z.array(Tenant) }), "All tenants"), ...common },
    }),
    async (c) => c.json({ tenants: (await listAllTenants(c.env.DB)).map(tenantView) }, 200),
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/tenants",
      tags,
      security,
      request: jsonBody(TenantInput),
      description:
        "Creates the tenant with its `admins` pool, its `admin` workspace (Smart mode, over `admins`) and its signing key. 409 tenant_exists.",
      responses: { 201: json(Tenant, "The created tenant"), ...common, ...errors(409, 413, 415) },
    }),
    async (c) => c.json(tenantView(await createTenant(c.env, c.req.valid("json"), Date.now())), 201),
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/tenants/{tid}",
      tags,
      security,
      request: { params: TenantIdParams },
      responses: { 200: json(Tenant, "The tenant"), ...common, ...errors(404) },
    }),
    async (c) => c.json(tenantView(await requireTenant(c.env.DB, c.req.valid("param").tid)), 200),
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/tenants/{tid}",
      tags,
      security,
      request: { params: TenantIdParams },
      description:
        "Deletes the tenant and everything it holds (pools, workspaces, users, credentials, clients, keys, codes, audit events) in one batch. " +
        "Any tenant may be deleted, `default` included. Tokens already issued for it stop working once their keys are gone.",
      responses: { 204: { description: "Deleted" }, ...common, ...errors(404) },
    }),
    async (c) => {
      await removeTenant(c.env.DB, c.req.valid("param").tid);
      return c.body(null, 204);
    },
  );
