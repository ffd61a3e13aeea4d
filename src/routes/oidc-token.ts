/**
 * The workspace's OAuth endpoints: token (authorization_code, refresh_token), revocation (RFC 7009) and userinfo.
 * Errors of /oauth2/* are RFC 6749 §5.2 bodies plus the project's fields: `error` is the code (same as `error_code`),
 * `error_description` the human message.
 */
import { createRoute, type z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { ApiError } from "../errors";
import { callOf } from "../http/context";
import { newApp, validationError } from "../http/app";
import { clientCors } from "../http/cors";
import { oauthErrorResponse } from "../http/errors";
import { limitBody, noStore, requireContentType } from "../http/guards";
import { errorHeaders, errors, json, oauthErrorResponses } from "../api/common";
import { OidcParams, OidcTokenForm, OidcTokenResponse, RevokeForm, UserInfoResponse } from "../api/oidc";
import { inWorkspace } from "../services/call";
import { type ClientAuth, createOidcTokens, getUserinfo, revokeOidcToken } from "../services/oidc-token";

const basicChallenge = { "www-authenticate": `Basic realm="passkey-edge"` };

/** Client authentication (RFC 6749 §2.3.1): Basic (form-urlencoded id and secret), the form's secret, or client_id alone. */
export function clientAuthOf(header: string | undefined, form: { client_id?: string; client_secret?: string }): ClientAuth {
  const basic = /^Basic +([A-Za-z0-9+/]+=*) *$/i.exec(header ?? "");
  if (basic) {
    if (form.client_secret !== undefined) throw new ApiError("invalid_request", "use one client authentication method, not both");
    let id: string, secret: string;
    try {
      const decoded = atob(basic[1]!);
      const i = decoded.indexOf(":");
      if (i < 0) throw new Error("no colon");
      id = decodeURIComponent(decoded.slice(0, i).replace(/\+/g, " "));
      secret = decodeURIComponent(decoded.slice(i + 1).replace(/\+/g, " "));
    } catch {
      throw new ApiError("invalid_client", "malformed Basic credentials", {}, basicChallenge);
    }
    if (form.client_id !== undefined && form.client_id !== id)
      throw new ApiError("invalid_request", "client_id differs from the Basic credentials");
    return { clientId: id, secret, method: "basic" };
  }
  if (!form.client_id) throw new ApiError("invalid_client", "client authentication is required", {}, basicChallenge);
  if (form.client_secret !== undefined) return { clientId: form.client_id, secret: form.client_secret, method: "post" };
  return { clientId: form.client_id, secret: null, method: "none" };
}

export const oidcToken = newApp();
oidcToken.onError((err) => oauthErrorResponse(err));

const form = <T extends typeof OidcTokenForm | typeof RevokeForm>(schema: T) => ({
  body: { content: { "application/x-www-form-urlencoded": { schema } }, required: true as const },
});

/**
 * `/{tid}/system/oauth2/token` is the system token endpoint (src/routes/oauth.ts): the workspace token route must not
 * match it (nor claim it in the request log), so `wid` excludes `system` in the router. The OpenAPI document keeps the
 * plain path; the form and params are validated here against the same schemas.
 */
const TOKEN_PATH = "/:tid/:wid{(?!system(?:/|$))[A-Za-z0-9_-]+}/oauth2/token";

/** Response headers of the OAuth endpoints' errors. */
const OAUTH_ERROR_HEADERS = {
  401: errorHeaders({ "WWW-Authenticate": 'Basic realm="passkey-edge": the client must authenticate (RFC 6749 §5.2)' }),
  429: errorHeaders({ "Retry-After": "Seconds until the client may try again" }),
  503: errorHeaders({ "Retry-After": "Seconds until the service may answer again" }),
};

/** The codes the endpoints answer with besides their grants' own: path, form, size, media type, abuse limit, storage. */
const COMMON_OAUTH_ERRORS = [
  "invalid_request",
  "invalid_path_parameter",
  "invalid_client",
  "payload_too_large",
  "unsupported_media_type",
  "rate_limited",
  "storage_unavailable",
] as const;

oidcToken.use(TOKEN_PATH, clientCors, noStore, limitBody, requireContentType("form"));
oidcToken.use("/:tid/:wid/oauth2/revoke", clientCors, noStore, limitBody, requireContentType("form"));

oidcToken.openAPIRegistry.registerPath(
  createRoute({
    method: "post",
    path: "/{tid}/{wid}/oauth2/token",
    tags: ["OpenID Connect"],
    summary: "Token endpoint: authorization_code (PKCE S256) and refresh_token (rotation)",
    description:
      "Form-encoded. Client authentication: client_secret_basic, client_secret_post or none (public clients, PKCE only). " +
      "Errors are RFC 6749 §5.2 bodies (`error`, `error_description`) plus `status_code`, `error_code` and `details`.",
    request: { params: OidcParams, ...form(OidcTokenForm) },
    responses: {
      200: json(OidcTokenResponse, "Tokens"),
      ...oauthErrorResponses(
        [...COMMON_OAUTH_ERRORS, "unsupported_grant_type", "invalid_grant", "invalid_scope", "unauthorized_client", "not_configured"],
        OAUTH_ERROR_HEADERS,
      ),
    },
  }),
);

function valid<T extends z.ZodType>(schema: T, target: string, input: unknown): z.infer<T> {
  const r = schema.safeParse(input);
  if (!r.success) throw validationError(target, r.error.issues);
  return r.data;
}

/** The form body; one the runtime cannot read as a form (a charset other than UTF-8, RFC 6749 Appendix B) is a 400. */
async function formBody(c: Context): Promise<Record<string, unknown>> {
  try {
    return await c.req.parseBody();
  } catch (e) {
    throw new ApiError("invalid_request", `the body is not a UTF-8 form: ${e instanceof Error ? e.message : String(e)}`);
  }
}

oidcToken.post(TOKEN_PATH, async (c) => {
  const { tid, wid } = valid(OidcParams, "param", c.req.param());
  const f = valid(OidcTokenForm, "form", await formBody(c));
  const auth = clientAuthOf(c.req.header("authorization"), f);
  const res = await createOidcTokens(inWorkspace(callOf(c, tid), wid), {
    grantType: f.grant_type,
    code: f.code,
    redirectUri: f.redirect_uri,
    codeVerifier: f.code_verifier,
    refreshToken: f.refresh_token,
    scope: f.scope,
    auth,
  });
  c.header("pragma", "no-cache");
  return c.json(res, 200);
});

oidcToken.openapi(
  createRoute({
    method: "post",
    path: "/{tid}/{wid}/oauth2/revoke",
    tags: ["OpenID Connect"],
    summary: "Token revocation (RFC 7009): a refresh token revokes its family; 200 whether or not the token existed",
    request: { params: OidcParams, ...form(RevokeForm) },
    responses: { 200: { description: "Revoked (or nothing to revoke)" }, ...oauthErrorResponses(COMMON_OAUTH_ERRORS, OAUTH_ERROR_HEADERS) },
  }),
  async (c) => {
    const { tid, wid } = c.req.valid("param");
    const f = c.req.valid("form");
    const auth = clientAuthOf(c.req.header("authorization"), f);
    if (!f.token) throw new ApiError("invalid_request", "token is required", { field: "token" });
    await revokeOidcToken(inWorkspace(callOf(c, tid), wid), auth, f.token);
    return c.body(null, 200);
  },
);

/** The userinfo sub-app: the project's error body (it is a bearer-protected resource, not an OAuth endpoint). */
export const userinfo = newApp();
userinfo.use("/:tid/:wid/userinfo", clientCors, noStore, limitBody);

const bearerOf = (c: Context) => /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i.exec(c.req.header("authorization") ?? "")?.[1] ?? null;

for (const method of ["get", "post"] as const) {
  userinfo.openapi(
    createRoute({
      method,
      path: "/{tid}/{wid}/userinfo",
      tags: ["OpenID Connect"],
      summary: "UserInfo: sub, with profile preferred_username and name, with email email and email_verified",
      request: { params: OidcParams },
      security: [{ bearer: [] }],
      responses: {
        200: json(UserInfoResponse, "Claims about the signed-in user"),
        ...errors(400, 401, 503),
        401: {
          ...errors(401)[401]!,
          headers: errorHeaders({
            "WWW-Authenticate":
              'Bearer realm="passkey-edge", with error="invalid_token" for a token that is invalid, expired or lacks openid',
          }),
        },
      },
    }),
    async (c) => {
      const { tid, wid } = c.req.valid("param");
      return c.json(await getUserinfo(inWorkspace(callOf(c, tid), wid), bearerOf(c)), 200);
    },
  );
}
