import { z } from "@hono/zod-openapi";
import { MECHANISMS } from "../domain/mechanisms";
import { isWellFormed } from "../domain/names";

export const ID_RE = /^[A-Za-z0-9_-]{1,64}$/;
export const Id = z.string().regex(ID_RE, "must match ^[A-Za-z0-9_-]{1,64}$");
export const Mechanism = z.enum(MECHANISMS);
/** Identifiers and addresses: 1..256 characters after trimming, well-formed Unicode (no lone surrogates). */
export const IdentifierText = z.string().trim().min(1).max(256).refine(isWellFormed, "must be well-formed Unicode text");
export const Timestamp = z.string().openapi({ format: "date-time", example: "2026-11-25T10:00:00.000Z" });

export const ErrorBody = z
  .object({
    status_code: z.number().int(),
    error: z.string(),
    error_code: z.string(),
    details: z.record(z.string(), z.unknown()),
  })
  .openapi("Error");

export const TenantParams = z.object({ tid: Id });

/** Response entries for the error statuses a route can give. */
export function errors(...statuses: number[]) {
  const out: Record<number, { description: string; content: { "application/json": { schema: typeof ErrorBody } } }> = {};
  for (const s of statuses) out[s] = { description: `Error ${s}`, content: { "application/json": { schema: ErrorBody } } };
  return out;
}

export const json = <T extends z.ZodType>(schema: T, description = "") => ({
  description,
  content: { "application/json": { schema } },
});

export const jsonBody = <T extends z.ZodType>(schema: T) => ({
  body: { content: { "application/json": { schema } }, required: true },
});

export const bearerSecurity = [{ bearer: [] }];
