/**
 * OpenAPI entries of the OpenID Provider's browser endpoints (src/routes/oidc-authorize.ts): authorize, its resume
 * step, consent and RP-initiated logout. Their handlers are plain Hono routes that answer HTML pages and redirects (an
 * invalid request is an HTML error page, never the JSON error body), so these schemas document the parameters the
 * service reads (services/oidc-authorize.ts, domain/oidc.ts) and do not validate them.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { errors } from "./common";
import { OidcParams } from "./oidc";

const text = (description: string) => z.string().optional().openapi({ description });
const required = (description: string) => z.string().openapi({ description });

/** OpenID Connect Core §3.1.2.1 as this provider reads it (GET query or POST form). */
const AuthorizationRequest = z
  .object({
    response_type: required("`code`, the only response type"),
    client_id: required("A client of this workspace"),
    redirect_uri: required("Exactly one of the client's registered redirect_uris"),
    scope: required("Space-separated; must contain `openid` and only scopes the client is registered for"),
    state: text("Returned unchanged on the redirect"),
    nonce: text("Copied into the ID token"),
    code_challenge: required("PKCE (RFC 7636), required for every client"),
    code_challenge_method: required("`S256`, the only method"),
    prompt: text("`none`, `login` or `consent`"),
    max_age: text("Seconds: an older sign-in signs in again"),
    login_hint: text("Prefills the Classic sign-in's identifier"),
    acr_values: text("`phr` (any passkey) or `phrh` (a device-bound passkey with user verification)"),
  })
  .openapi("AuthorizationRequest");

const Authz = z.object({ authz: required("The pending authorization request's id") });

const ConsentAnswer = z
  .object({
    authz: required("The pending authorization request's id"),
    csrf: required("The consent page's token, bound to the request and the provider session"),
    decision: required("`allow` or `deny`"),
  })
  .openapi("ConsentAnswer");

/** OpenID Connect RP-Initiated Logout 1.0 §2. */
const LogoutRequest = z.object({
  id_token_hint: text(
    "An ID token this workspace issued (expired is fine). When its `sid` names the current provider session the session " +
      "ends without a question; otherwise the user is asked",
  ),
  client_id: text("The client asking; needed with post_logout_redirect_uri unless id_token_hint names it"),
  post_logout_redirect_uri: text("Exactly one of the client's registered post_logout_redirect_uris"),
  state: text("Returned unchanged on the redirect"),
});

const LogoutAnswer = z
  .object({
    csrf: required("The confirmation page's token, bound to the provider session"),
    decision: required("`logout` (end the session) or `stay` (keep it)"),
    client_id: text("Carried from the logout request"),
    post_logout_redirect_uri: text("Carried from the logout request; checked again"),
    state: text("Carried from the logout request"),
  })
  .openapi("LogoutConfirmation");

const form = <T extends z.ZodType>(schema: T) => ({
  body: { content: { "application/x-www-form-urlencoded": { schema } }, required: true as const },
});

const location = (description: string) => ({
  Location: { description, required: true, schema: { type: "string" as const, format: "uri" } },
});

const clearsCookie = {
  "Set-Cookie": {
    description: "Clears the provider session cookie `pe_session` when the session is over",
    schema: { type: "string" as const },
  },
};

const html = (description: string) => ({ description, content: { "text/html": { schema: z.string() } } });

const AUTHORIZE_REDIRECT =
  "To the client's redirect_uri with `code`, `state` and `iss` (success), or with `error`, `error_description`, " +
  "`state` and `iss` (RFC 6749 §4.1.2.1, RFC 9207: login_required, consent_required, access_denied, invalid_scope, " +
  "invalid_request...); or to the hosted sign-in page `/{tid}/{wid}/login?authz=…` or the consent page " +
  "`/{tid}/{wid}/oauth2/consent?authz=…` while the request waits";

const ERROR_PAGE = html(
  "HTML error page, never a redirect: the client or redirect target is not known to be valid, or the request expired, " +
    "or the form is not valid for the session",
);

const tags = ["OpenID Connect"];

const authorizeResponses = {
  302: { description: "Redirect", headers: location(AUTHORIZE_REDIRECT) },
  400: ERROR_PAGE,
  ...errors(413, 503),
};

const LOGOUT_REDIRECT =
  "To the registered post_logout_redirect_uri with `state` (after the session ended, or when there was none, or after " +
  "`Stay signed in`)";

export const OIDC_PAGE_ROUTES = [
  createRoute({
    method: "get",
    path: "/{tid}/{wid}/oauth2/authorize",
    tags,
    summary: "Authorization request (code flow, PKCE S256): a code at once with a usable provider session, else sign-in or consent",
    request: { params: OidcParams, query: AuthorizationRequest },
    responses: authorizeResponses,
  }),
  createRoute({
    method: "post",
    path: "/{tid}/{wid}/oauth2/authorize",
    tags,
    summary: "Authorization request, form-encoded (same parameters as GET)",
    request: { params: OidcParams, ...form(AuthorizationRequest) },
    responses: authorizeResponses,
  }),
  createRoute({
    method: "get",
    path: "/{tid}/{wid}/oauth2/authorize/resume",
    tags,
    summary: "Finishes a pending authorization after the hosted sign-in (provider session cookie)",
    request: { params: OidcParams, query: Authz },
    responses: authorizeResponses,
  }),
  createRoute({
    method: "get",
    path: "/{tid}/{wid}/oauth2/consent",
    tags,
    summary: "The consent page of a pending authorization (provider session cookie)",
    request: { params: OidcParams, query: Authz },
    responses: {
      200: html("The consent page: a form that POSTs the answer to this address"),
      302: { description: "No provider session", headers: location("To the hosted sign-in page `/{tid}/{wid}/login?authz=…`") },
      400: ERROR_PAGE,
      ...errors(503),
    },
  }),
  createRoute({
    method: "post",
    path: "/{tid}/{wid}/oauth2/consent",
    tags,
    summary: "The consent page's answer: allow remembers the scopes and issues the code; deny redirects access_denied",
    request: { params: OidcParams, ...form(ConsentAnswer) },
    responses: authorizeResponses,
  }),
  createRoute({
    method: "get",
    path: "/{tid}/{wid}/oidc/logout",
    tags,
    summary: "RP-Initiated Logout 1.0: ends the provider session when id_token_hint names it, else asks the user first",
    description:
      "No provider session: nothing to end (redirect or signed-out page). A valid id_token_hint whose `sid` is the " +
      "current session: the session ends (its codes and refresh tokens too). Otherwise (no hint, or a hint of another " +
      "session or user) the confirmation page; nothing ends until the user answers it. An invalid id_token_hint, a " +
      "client_id that differs from the hint's, or a post_logout_redirect_uri that the client did not register: the " +
      "error page, and the session stays.",
    request: { params: OidcParams, query: LogoutRequest },
    responses: {
      200: {
        ...html("The confirmation page (Sign out / Stay signed in, a form that POSTs here) or the signed-out page"),
        headers: clearsCookie,
      },
      302: { description: "Signed out", headers: { ...location(LOGOUT_REDIRECT), ...clearsCookie } },
      400: ERROR_PAGE,
      ...errors(503),
    },
  }),
  createRoute({
    method: "post",
    path: "/{tid}/{wid}/oidc/logout",
    tags,
    summary: "The logout confirmation's answer: `logout` with the session's token ends it; `stay` keeps it",
    request: { params: OidcParams, ...form(LogoutAnswer) },
    responses: {
      200: { ...html("The signed-out page, or the still-signed-in page after `stay`"), headers: clearsCookie },
      302: { description: "Signed out, or stayed", headers: { ...location(LOGOUT_REDIRECT), ...clearsCookie } },
      400: ERROR_PAGE,
      ...errors(413, 503),
    },
  }),
];
