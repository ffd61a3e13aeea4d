import { z } from "@hono/zod-openapi";
import { MECHANISMS } from "../domain/mechanisms";
import { isWellFormed } from "../domain/names";
import { type ApiStatus, ERRORS, type ErrorCode } from "../errors";

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

/**
 * The error body of the OAuth endpoints (token, revocation, system token): RFC 6749 §5.2's `error` and
 * `error_description` plus the project's fields (src/http/errors.ts oauthErrorResponse).
 */
export const OAuthErrorBody = z
  .object({
    error: z.string().openapi({ description: "RFC 6749 §5.2 error code; the same value as error_code" }),
    error_description: z.string().openapi({ description: "Human-readable explanation (RFC 6749 §5.2)" }),
    status_code: z.number().int(),
    error_code: z.string(),
    details: z.record(z.string(), z.unknown()),
  })
  .openapi("OAuthError");

type ResponseHeaders = Record<string, { description: string; required?: boolean; schema: { type: "string" } }>;

/** Response headers of an error status: name → description (not always sent, so not required). */
export const errorHeaders = (h: Record<string, string>): ResponseHeaders =>
  Object.fromEntries(Object.entries(h).map(([name, description]) => [name, { description, schema: { type: "string" as const } }]));

/**
 * Response entries of an OAuth endpoint's errors, from the codes it answers with: grouped by their status in the
 * registry (src/errors.ts), each status the OAuthError body with `error` (and `error_code`) limited to its codes;
 * `headers` adds response headers per status.
 */
export function oauthErrorResponses(codes: readonly ErrorCode[], headers: Partial<Record<ApiStatus, ResponseHeaders>> = {}) {
  const byStatus = new Map<ApiStatus, [ErrorCode, ...ErrorCode[]]>();
  for (const code of codes) {
    const status = ERRORS[code].status;
    const list = byStatus.get(status);
    if (list) list.push(code);
    else byStatus.set(status, [code]);
  }
  const out: Record<number, { description: string; headers?: ResponseHeaders; content: { "application/json": { schema: z.ZodType } } }> =
    {};
  for (const [status, values] of byStatus) {
    const code = z.enum(values);
    const h = headers[status];
    out[status] = {
      description: `Error ${status}: ${values.join(", ")}`,
      ...(h ? { headers: h } : {}),
      content: { "application/json": { schema: OAuthErrorBody.extend({ error: code, error_code: code }) } },
    };
  }
  return out;
}

/** The fields of a completed sign-in's answer (also sign-up's and recovery's): the token and where the page goes next. */
export const signedInFields = {
  access_token: z.string(),
  token_type: z.literal("Bearer"),
  expires_in: z.number().int(),
  scope: z.string(),
  continue_url: z
    .string()
    .optional()
    .openapi({ description: "with authz: where the page goes next to finish the authorization (the provider session cookie is set)" }),
};

/** A completed sign-in's answer, as the hosted pages read it. */
export const SignedIn = z.object(signedInFields);

/** The fields of a hosted flow's complete step besides its own: the pending authorization it serves, the scope asked. */
export const hostedCompleteFields = (flow: string, scopeNote = "") => ({
  authz: z
    .string()
    .max(64)
    .optional()
    .openapi({ description: `the pending OpenID Connect authorization this ${flow} serves (the hosted page's ?authz=)` }),
  scope: z
    .string()
    .max(256)
    .optional()
    .openapi({ description: `space-separated, from: openid profile view_ss_profile manage_ss_profile${scopeNote}` }),
});
