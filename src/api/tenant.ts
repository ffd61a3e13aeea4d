/** Tenants and their system (client-credentials) clients: the bootstrap client's API. */
import { z } from "@hono/zod-openapi";
import { SYSTEM_SCOPES } from "../services/clients";
import { Id, Timestamp } from "./common";

export const TenantInput = z
  .object({
    id: Id.optional().openapi({ description: "optional; generated (128 random bits, base64url) when absent" }),
    name: z.string().trim().min(1).max(128),
  })
  .openapi("TenantInput");

export const Tenant = z.object({ id: z.string(), name: z.string(), created_at: Timestamp }).openapi("Tenant");

/** /api/identity/system/tenants/{tid} */
export const TenantIdParams = z.object({ tid: Id });

export const SystemClientInput = z
  .object({
    name: z.string().trim().max(128).optional(),
    scopes: z
      .array(z.enum(SYSTEM_SCOPES))
      .min(1)
      .max(SYSTEM_SCOPES.length)
      .optional()
      .openapi({ description: `default ${JSON.stringify([...SYSTEM_SCOPES])}` }),
  })
  .openapi("SystemClientInput");

export const SystemClient = z
  .object({ client_id: z.string(), tenant_id: z.string(), name: z.string(), scopes: z.array(z.string()), created_at: Timestamp })
  .openapi("SystemClient");

export const SystemClientCreated = SystemClient.extend({
  client_secret: z.string().openapi({ description: "shown only in this answer; stored as a SHA-256 hash" }),
}).openapi("SystemClientCreated");

export const ClientParams = z.object({ tid: Id, cid: Id });
