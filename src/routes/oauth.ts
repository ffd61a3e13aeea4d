/** Tokens: the client-credentials grant and the tenant's JWKS. */
import { createRoute, z } from "@hono/zod-openapi";
import { ApiError } from "../errors";
import { callOf } from "../http/context";
import { newApp } from "../http/app";
import { oauthErrors } from "../http/errors";
import { limitBody, noStore, requireContentType } from "../http/guards";
import { errorHeaders, errors, json, oauthErrorResponses, TenantParams } from "../api/common";
import { createSystemToken, type TokenRequest } from "../services/system-token";
import { getJwks } from "../services/tenants";

const TokenForm = z
  .object({
    grant_type: z.string().max(64).optional(),
    scope: z.string().max(512).optional(),
    client_id: z.string().max(256).optional(),
    client_secret: z.string().max(512).optional(),
  })
  .openapi("TokenRequest");

const TokenResponse = z
  .object({
    access_token: z.string(),
    token_type: z.literal("Bearer"),
    expires_in: z.number().int(),
    scope: z.string(),
  })
  .openapi("TokenResponse");

/** Client credentials from `Authorization: Basic` (RFC 6749 §2.3.1: form-urlencoded id and secret) or the form. */
function clientCredentials(
  header: string | undefined,
  form: z.infer<typeof TokenForm>,
): Pick<TokenRequest, "clientId" | "clientSecret" | "method"> {
  const basic = /^Basic +([A-Za-z0-9+/]+=*) *$/i.exec(header ?? "");
  if (basic && (form.client_id !== undefined || form.client_secret !== undefined)) {
    throw new ApiError("invalid_request", "use one client authentication method, not both");
  }
  if (basic) {
    let decoded: string;
    try {
      decoded = atob(basic[1]!);
      const i = decoded.indexOf(":");
      if (i < 0) throw new Error("no colon");
      return {
        clientId: decodeURIComponent(decoded.slice(0, i).replace(/\+/g, " ")),
        clientSecret: decodeURIComponent(decoded.slice(i + 1).replace(/\+/g, " ")),
        method: "basic",
      };
    } catch {
      throw new ApiError("invalid_client", "malformed Basic credentials", {}, { "www-authenticate": `Basic realm="passkey-edge"` });
    }
  }
  if (form.client_id === undefined || form.client_secret === undefined) {
    throw new ApiError("invalid_client", "client authentication is required", {}, { "www-authenticate": `Basic realm="passkey-edge"` });
  }
  return { clientId: form.client_id, clientSecret: form.client_secret, method: "post" };
}

export const oauth = newApp();

oauth.use("/:tid/system/oauth2/token", oauthErrors, noStore, limitBody, requireContentType("form"));

oauth.openapi(
  createRoute({
    method: "post",
    path: "/{tid}/system/oauth2/token",
    tags: ["Tokens"],
    summary: "Client-credentials grant (client_secret_basic or client_secret_post)",
    request: { params: TenantParams, body: { content: { "application/x-www-form-urlencoded": { schema: TokenForm } }, required: true } },
    responses: {
      200: json(TokenResponse, "An ES256 access token"),
      ...oauthErrorResponses(
        [
          "invalid_request",
          "invalid_path_parameter",
          "unsupported_grant_type",
          "invalid_scope",
          "invalid_client",
          "not_found",
          "payload_too_large",
          "unsupported_media_type",
          "rate_limited",
          "not_configured",
          "storage_unavailable",
        ],
        {
          401: errorHeaders({ "WWW-Authenticate": 'Basic realm="passkey-edge", unless the client authenticated with client_secret_post' }),
          429: errorHeaders({ "Retry-After": "Seconds until the client may try again" }),
          503: errorHeaders({ "Retry-After": "Seconds until the service may answer again" }),
        },
      ),
    },
  }),
  async (c) => {
    const { tid } = c.req.valid("param");
    const form = c.req.valid("form");
    const creds = clientCredentials(c.req.header("authorization"), form);
    const res = await createSystemToken(callOf(c, tid), { grantType: form.grant_type, scope: form.scope, ...creds });
    return c.json(res, 200);
  },
);

const Jwks = z.object({ keys: z.array(z.record(z.string(), z.unknown())) }).openapi("JWKS");

oauth.openapi(
  createRoute({
    method: "get",
    path: "/{tid}/.well-known/jwks.json",
    tags: ["Tokens"],
    summary: "The tenant's public signing keys",
    request: { params: TenantParams },
    responses: { 200: json(Jwks, "JSON Web Key Set"), ...errors(400, 404) },
  }),
  async (c) => {
    const { tid } = c.req.valid("param");
    const keys = await getJwks(callOf(c, tid));
    c.header("cache-control", "public, max-age=300");
    return c.json(keys, 200);
  },
);
