/** Tenants: `/api/identity/system/tenants`, for the bootstrap system client only (mounted with requireBootstrap). */
import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { iso } from "../db/client";
import { newApp } from "../http/app";
import { callOf } from "../http/context";
import type { AppEnv } from "../http/principal";
import type { TenantRow } from "../repo/tenants";
import { bearerSecurity, errors, json, jsonBody } from "../api/common";
import { Tenant, TenantIdParams, TenantInput } from "../api/tenant";
import { createTenant, deleteTenant, getTenant, listTenants } from "../services/tenants";

const tags = ["Tenants"];
const security = bearerSecurity;
const common = errors(400, 401, 403);

const tenantView = (t: TenantRow) => ({ id: t.id, name: t.name, created_at: iso(t.createdAt)! });

/** Tenants are managed across tenants: the call runs in the caller's tenant (its token's), not the one acted on. */
const callerCall = (c: Context<AppEnv>) => callOf(c, c.var.auth?.tenantId ?? "");

export const tenants = newApp()
  .openapi(
    createRoute({
      method: "get",
      path: "/tenants",
      tags,
      security,
      responses: { 200: json(z.object({ tenants: z.array(Tenant) }), "All tenants"), ...common },
    }),
    async (c) => c.json({ tenants: (await listTenants(callerCall(c))).map(tenantView) }, 200),
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
    async (c) => c.json(tenantView(await createTenant(callerCall(c), c.req.valid("json"))), 201),
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
    async (c) => c.json(tenantView(await getTenant(callerCall(c), c.req.valid("param").tid)), 200),
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
      await deleteTenant(callerCall(c), c.req.valid("param").tid);
      return c.body(null, 204);
    },
  );
