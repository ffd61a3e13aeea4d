/**
 * The authorization endpoint of each workspace's OpenID Provider (part B of issue 10; ../shared/api.md "OpenID
 * Connect"): the authorization request, the resume step after the hosted sign-in, consent, and RP-initiated logout.
 *
 * An authorization with a usable provider session costs two D1 round trips (readAuthorizationContext, then the code
 * insert) and no KV. Otherwise the validated request waits in KV (`authz:<id>`, repo/pending-authorizations.ts) while
 * the browser signs in on the hosted page (`/{tid}/{wid}/login?authz=<id>`) or answers the consent page; the resume
 * step (`/oauth2/authorize/resume?authz=<id>`) decides again with the new session.
 *
 * No HTTP: outcomes say "render this error page", "show consent" or "send the browser to this URL"; the route
 * (src/routes/oidc-authorize.ts) turns them into responses and handles the cookie.
 */
import { compactVerify, decodeJwt, decodeProtectedHeader } from "jose";
import { b64url, newId, newOpaqueSecret, secretHash, timingSafeEqualStr } from "../crypto/bytes";
import { hmac, hmacKey } from "../crypto/derive";
import { verificationKey } from "../crypto/keys";
import {
  type AuthorizationRequest,
  type AuthorizeFailure,
  authorizeClientId,
  checkAuthorizationRequest,
  decideSession,
  scopesCovered,
} from "../domain/oidc";
import { TTL } from "../domain/ttl";
import type { OidcClientRow } from "../repo/oidc-clients";
import { insertOidcCode, sessionFacts } from "../repo/oidc-codes";
import { rememberConsent } from "../repo/oidc-consents";
import { type AuthorizationContext, readAuthorizationContext } from "../repo/oidc-sessions";
import { workspaceConfig } from "../repo/config-cache";
import {
  deletePendingAuthorization,
  getPendingAuthorization,
  type PendingAuthorization,
  putPendingAuthorization,
} from "../repo/pending-authorizations";
import type { WorkspaceCall } from "./call";
import { endProviderSession } from "./oidc-session";
import { workspaceIssuer } from "./oidc-tokens-mint";

/** What the route does with an authorization step. */
export type AuthorizeOutcome =
  /** An error page (400), never a redirect: the client or redirect URI is not known to be valid. */
  | { kind: "error_page"; error: string; description: string }
  /** Send the browser to this URL (the client's redirect URI with a code or an error, the sign-in or consent page). */
  | { kind: "redirect"; to: string }
  /** Show the consent page. */
  /** Show the consent page; its answer redirects to `redirectUri`. */
  | { kind: "consent"; view: ConsentView; redirectUri: string };

export interface ConsentView {
  authz: string;
  clientName: string;
  clientId: string;
  scopes: string[];
  /** Binds the form to this pending request and this provider session. */
  csrf: string;
}

/** The workspace's issuer, for `iss` on authorization responses and to check an id_token_hint. */
const issuerOf = (s: WorkspaceCall) => workspaceIssuer(s.origin().issuerBase, s.tenantId, s.workspaceId);

const path = (s: WorkspaceCall, rest: string) => `/${encodeURIComponent(s.tenantId)}/${encodeURIComponent(s.workspaceId)}/${rest}`;

/** `uri` with these query parameters added (values null are left out); works for private-use schemes too. */
function withParams(uri: string, params: Record<string, string | null>): string {
  const url = new URL(uri);
  for (const [k, v] of Object.entries(params)) if (v !== null) url.searchParams.append(k, v);
  return url.toString();
}

const errorPage = (f: { error: string; message: string }): AuthorizeOutcome => ({
  kind: "error_page",
  error: f.error,
  description: f.message,
});

function errorRedirect(s: WorkspaceCall, redirectUri: string, state: string | null, error: string, description: string): AuthorizeOutcome {
  return { kind: "redirect", to: withParams(redirectUri, { error, error_description: description, state, iss: issuerOf(s) }) };
}

function refused(s: WorkspaceCall, f: AuthorizeFailure): AuthorizeOutcome {
  return f.redirect ? errorRedirect(s, f.redirectUri, f.state, f.error, f.message) : errorPage(f);
}

const contextOf = async (s: WorkspaceCall, clientId: string, cookieSecret: string | null) =>
  readAuthorizationContext(
    s.env.DB,
    { tenantId: s.tenantId, workspaceId: s.workspaceId, clientId, cookieHash: cookieSecret ? await secretHash(cookieSecret) : null },
    s.now,
  );

/**
 * GET|POST /oauth2/authorize. Validates in the contract's order (client and redirect URI first: those failures render
 * an error page), then decides with the provider session: a code now, a sign-in, consent, or (prompt=none) an error.
 */
export async function authorize(s: WorkspaceCall, params: URLSearchParams, cookieSecret: string | null): Promise<AuthorizeOutcome> {
  s.origin(); // the issuer (iss) is needed for every answer: 503 not_configured before any read
  const id = authorizeClientId(params);
  if (!id.ok) return errorPage(id);
  const ctx = await contextOf(s, id.value, cookieSecret);
  const client = ctx.client && { clientId: ctx.client.clientId, redirectUris: ctx.client.redirectUris, scopes: ctx.client.scopes };
  const checked = checkAuthorizationRequest(params, client);
  if (!checked.ok) return refused(s, checked);
  return proceed(s, { request: checked.value, requestedAt: s.now, id: null }, ctx, false);
}

/** A request on its way: the pending record's id once it was stored (null: not yet). */
interface InFlight {
  request: AuthorizationRequest;
  requestedAt: number;
  id: string | null;
}

/** Decides with the session and consent, and acts: issue a code, send to sign-in or consent, or redirect an error. */
async function proceed(s: WorkspaceCall, f: InFlight, ctx: AuthorizationContext, consentGiven: boolean): Promise<AuthorizeOutcome> {
  const client = ctx.client as OidcClientRow;
  const r = f.request;
  const consent = consentGiven
    ? "given"
    : client.trusted
      ? "trusted"
      : scopesCovered(ctx.consentedScopes, r.scopes)
        ? "remembered"
        : "missing";
  const session = ctx.session ? { authTime: ctx.session.authTime, amr: ctx.session.amr, acr: ctx.session.acr } : null;
  const d = decideSession({
    session,
    prompt: r.prompt,
    maxAge: r.maxAge,
    acrValues: r.acrValues,
    requestedAt: f.requestedAt,
    consent,
    now: s.now,
  });
  if (d.action === "issue") return issueCode(s, f, ctx);
  if (d.action === "error") {
    if (f.id) await deletePendingAuthorization(s.env.CHALLENGES, f.id);
    const why = d.error === "login_required" ? "the user must sign in" : "the user must consent";
    return errorRedirect(s, r.redirectUri, r.state, d.error, why);
  }
  const id = f.id ?? newId();
  if (!f.id) {
    const pending: PendingAuthorization = {
      id,
      tenantId: s.tenantId,
      workspaceId: s.workspaceId,
      request: r,
      requestedAt: f.requestedAt,
      expiresAt: s.now + TTL.pendingAuthorization * 1000,
    };
    await putPendingAuthorization(s.env.CHALLENGES, pending);
  }
  if (d.action === "consent") return { kind: "redirect", to: path(s, `oauth2/consent?authz=${id}`) };
  const reason = d.reason === "acr" ? "&reason=acr" : "";
  return { kind: "redirect", to: path(s, `login?authz=${id}${reason}`) };
}

/** Stores a code bound to the request and the session (only its hash) and redirects with code, state and iss. */
async function issueCode(s: WorkspaceCall, f: InFlight, ctx: AuthorizationContext): Promise<AuthorizeOutcome> {
  const session = ctx.session!;
  const r = f.request;
  const code = newOpaqueSecret();
  await insertOidcCode(s.env.DB, {
    codeHash: await secretHash(code),
    tenantId: s.tenantId,
    workspaceId: s.workspaceId,
    clientId: r.clientId,
    redirectUri: r.redirectUri,
    codeChallenge: r.codeChallenge,
    nonce: r.nonce,
    scope: r.scopes.join(" "),
    ...sessionFacts(session),
    createdAt: s.now,
    expiresAt: s.now + TTL.authorizationCode * 1000,
  });
  if (f.id) await deletePendingAuthorization(s.env.CHALLENGES, f.id);
  return { kind: "redirect", to: withParams(r.redirectUri, { code, state: r.state, iss: issuerOf(s) }) };
}

const expired = (): AuthorizeOutcome =>
  errorPage({
    error: "invalid_request",
    message: "This sign-in request has expired or was already used. Go back to the app and start again.",
  });

/** Reads a pending request and its context; an error page when it is gone or its client was deleted. */
async function load(s: WorkspaceCall, authzId: string, cookieSecret: string | null) {
  const pending = await getPendingAuthorization(s.env.CHALLENGES, { id: authzId, tenantId: s.tenantId, workspaceId: s.workspaceId }, s.now);
  if (!pending) return { outcome: expired() };
  const ctx = await contextOf(s, pending.request.clientId, cookieSecret);
  if (!ctx.client) return { outcome: errorPage({ error: "invalid_client", message: "unknown client_id" }) };
  return { pending, ctx };
}

/** GET /oauth2/authorize/resume?authz=: after the hosted sign-in, decide again with the new session. */
export async function resumeAuthorization(s: WorkspaceCall, authzId: string, cookieSecret: string | null): Promise<AuthorizeOutcome> {
  s.origin();
  const l = await load(s, authzId, cookieSecret);
  if (!l.pending) return l.outcome;
  return proceed(s, { request: l.pending.request, requestedAt: l.pending.requestedAt, id: l.pending.id }, l.ctx, false);
}

/** The consent form's token: an HMAC of the pending request's id and the provider session's id. */
async function consentToken(s: WorkspaceCall, authzId: string, sessionId: string): Promise<string> {
  const k = await hmacKey(s.env, "oidc-consent-csrf-v1");
  return b64url(await hmac(k, `${s.tenantId}\u0000${s.workspaceId}\u0000${authzId}\u0000${sessionId}`));
}

/** GET /oauth2/consent?authz=: the consent page for the pending request (a session is needed, else back to sign-in). */
export async function consentPage(s: WorkspaceCall, authzId: string, cookieSecret: string | null): Promise<AuthorizeOutcome> {
  s.origin();
  const l = await load(s, authzId, cookieSecret);
  if (!l.pending) return l.outcome;
  if (!l.ctx.session) return { kind: "redirect", to: path(s, `login?authz=${l.pending.id}`) };
  const c = l.ctx.client!;
  return {
    kind: "consent",
    view: {
      authz: l.pending.id,
      clientId: c.clientId,
      clientName: c.clientName || c.clientId,
      scopes: l.pending.request.scopes,
      csrf: await consentToken(s, l.pending.id, l.ctx.session.id),
    },
    redirectUri: l.pending.request.redirectUri,
  };
}

/**
 * POST /oauth2/consent: the user's answer, bound to the pending request and the session by `csrf`. Allow remembers the
 * scopes and issues the code; deny redirects access_denied. A wrong token or no session: an error page.
 */
export async function answerConsent(
  s: WorkspaceCall,
  form: { authz: string; csrf: string; decision: string },
  cookieSecret: string | null,
): Promise<AuthorizeOutcome> {
  s.origin();
  const l = await load(s, form.authz, cookieSecret);
  if (!l.pending) return l.outcome;
  const session = l.ctx.session;
  if (!session || !(await timingSafeEqualStr(form.csrf, await consentToken(s, l.pending.id, session.id)))) {
    return errorPage({
      error: "invalid_request",
      message: "This consent form is not valid for your session. Go back to the app and start again.",
    });
  }
  const r = l.pending.request;
  if (form.decision !== "allow") {
    await deletePendingAuthorization(s.env.CHALLENGES, l.pending.id);
    return errorRedirect(s, r.redirectUri, r.state, "access_denied", "the user denied the request");
  }
  await rememberConsent(s.env.DB, { tenantId: s.tenantId, clientId: r.clientId, userId: session.userId }, r.scopes, s.now);
  return proceed(s, { request: r, requestedAt: l.pending.requestedAt, id: l.pending.id }, l.ctx, true);
}

/** What the hosted sign-in page shows for a pending request: the login hint, and whether the app needs a device-bound passkey. */
export async function pendingForSignin(
  s: WorkspaceCall,
  authzId: string,
): Promise<{ loginHint: string | null; deviceBound: boolean } | null> {
  const p = await getPendingAuthorization(s.env.CHALLENGES, { id: authzId, tenantId: s.tenantId, workspaceId: s.workspaceId }, s.now);
  if (!p) return null;
  return { loginHint: p.request.loginHint, deviceBound: p.request.acrValues[0] === "phrh" };
}

// ---------------------------------------------------------------------------------------------------------------
// RP-Initiated Logout 1.0

export type LogoutOutcome =
  | { kind: "error_page"; error: string; description: string }
  /** Send the browser here; `ended`: the provider session is over (the route clears the cookie). */
  | { kind: "redirect"; to: string; ended: boolean }
  /** The signed-out page (the session is over, or there was none). */
  | { kind: "signed_out" }
  /** Ask first (§2, §4): the confirmation page; its answer may redirect to `redirectUri`. */
  | { kind: "confirm_logout"; view: LogoutView; redirectUri: string | null }
  /** "Stay signed in" without a redirect target: the session stays. */
  | { kind: "still_signed_in" };

export interface LogoutView {
  workspaceName: string;
  /** The client that asked (client_id or the id_token_hint's aud), when it is known. */
  clientName: string | null;
  /** Carried through the form; validated again on the answer. */
  clientId: string | null;
  postLogoutRedirectUri: string | null;
  state: string | null;
  /** Binds the form to the provider session. */
  csrf: string;
}

/** The claims of a verified id_token_hint that matter here. */
interface HintClaims {
  aud: string;
  sub: string;
  sid: string | null;
}

/**
 * An id_token_hint: an ID token (typ JWT, not an access token) signed by one of the tenant's keys, with this
 * workspace's issuer; expiry is not checked (a hint may be old). Null when it is not such a token.
 */
async function verifiedHint(s: WorkspaceCall, hint: string): Promise<HintClaims | null> {
  try {
    const { kid, alg, typ } = decodeProtectedHeader(hint);
    if (typeof kid !== "string" || (alg !== "RS256" && alg !== "ES256") || typ === "at+jwt") return null;
    const key = await verificationKey(s.env.DB, s.tenantId, kid, s.now);
    if (!key) return null;
    await compactVerify(hint, key, { algorithms: [alg] });
    const claims = decodeJwt(hint);
    if (claims.iss !== issuerOf(s)) return null;
    const aud = Array.isArray(claims.aud) ? claims.aud[0] : claims.aud;
    if (typeof aud !== "string" || typeof claims.sub !== "string") return null;
    return { aud, sub: claims.sub, sid: typeof claims.sid === "string" ? claims.sid : null };
  } catch {
    return null;
  }
}

/**
 * Whether the hint names this session: its `sid` (every ID token of this provider has one), or, for a hint without
 * `sid`, its `sub`. An ID token of an earlier session of the same user does not end the current one unasked.
 */
const hintMatches = (h: HintClaims, session: { id: string; userId: string }) =>
  h.sid !== null ? h.sid === session.id : h.sub === session.userId;

/** The logout form's token: an HMAC of the provider session's id (another key than the consent form's). */
async function logoutToken(s: WorkspaceCall, sessionId: string): Promise<string> {
  const k = await hmacKey(s.env, "oidc-logout-csrf-v1");
  return b64url(await hmac(k, `${s.tenantId}\u0000${s.workspaceId}\u0000${sessionId}`));
}

/** A checked logout request: the client (when named), the exact registered redirect target (or null), and state. */
interface LogoutRequest {
  clientId: string | null;
  target: string | null;
  state: string | null;
  ctx: AuthorizationContext;
}

const badLogout = (description: string): LogoutOutcome => ({ kind: "error_page", error: "invalid_request", description });

/**
 * Validates what a logout request names (for the GET and again for the confirmation form's answer) and reads the client
 * and the session behind the cookie in one batch: `post_logout_redirect_uri` must be exactly one the client registered
 * (the client from client_id or the hint's aud). Any failure: an error page, never a redirect (§4).
 */
async function checkLogout(
  s: WorkspaceCall,
  p: { clientId: string | null; redirect: string | null; state: string | null; hint: HintClaims | null },
  cookieSecret: string | null,
): Promise<LogoutRequest | LogoutOutcome> {
  if (p.hint && p.clientId && p.hint.aud !== p.clientId) return badLogout("client_id does not match id_token_hint");
  const clientId = p.clientId ?? p.hint?.aud ?? null;
  if (p.redirect !== null && !clientId) return badLogout("post_logout_redirect_uri needs client_id or id_token_hint");
  const ctx: AuthorizationContext =
    clientId || cookieSecret
      ? await contextOf(s, clientId ?? "", cookieSecret)
      : { client: undefined, session: undefined, consentedScopes: [] };
  if (p.redirect !== null) {
    if (!ctx.client) return badLogout("unknown client_id");
    if (!ctx.client.postLogoutRedirectUris.includes(p.redirect))
      return badLogout("post_logout_redirect_uri is not registered for this client");
  }
  return { clientId, target: p.redirect, state: p.state, ctx };
}

/** After the session ended (or there was none): the registered target with `state`, or the signed-out page. */
const signedOut = (r: LogoutRequest): LogoutOutcome =>
  r.target ? { kind: "redirect", to: withParams(r.target, { state: r.state }), ended: true } : { kind: "signed_out" };

/**
 * GET /oidc/logout (RP-Initiated Logout 1.0). After the checks of `checkLogout` (and an id_token_hint, when sent, must
 * be a valid ID token of this workspace):
 * - no valid provider session behind the cookie: nothing to end; the target or the signed-out page;
 * - an id_token_hint naming this session (`hintMatches`): the session ends (row, codes, refresh tokens), then the
 *   target or the signed-out page;
 * - otherwise (no hint, or a hint naming another session or user): the confirmation page; nothing ends until the user
 *   answers it (`answerLogout`), so a cross-site link or image cannot sign the user out.
 */
export async function logout(s: WorkspaceCall, params: URLSearchParams, cookieSecret: string | null): Promise<LogoutOutcome> {
  s.origin();
  const hintText = params.get("id_token_hint");
  const hint = hintText ? await verifiedHint(s, hintText) : null;
  if (hintText && !hint) return badLogout("id_token_hint is not a valid ID token of this workspace");
  const r = await checkLogout(
    s,
    { clientId: params.get("client_id") || null, redirect: params.get("post_logout_redirect_uri"), state: params.get("state"), hint },
    cookieSecret,
  );
  if ("kind" in r) return r;
  const session = r.ctx.session;
  if (!session) return signedOut(r);
  if (hint && hintMatches(hint, session)) {
    await endProviderSession(s, cookieSecret!);
    return signedOut(r);
  }
  const config = await workspaceConfig(s.env.DB, s.tenantId, s.workspaceId, s.now);
  return {
    kind: "confirm_logout",
    view: {
      workspaceName: config?.workspace.name ?? s.workspaceId,
      clientName: r.ctx.client ? r.ctx.client.clientName || r.ctx.client.clientId : null,
      clientId: r.clientId,
      postLogoutRedirectUri: r.target,
      state: r.state,
      csrf: await logoutToken(s, session.id),
    },
    redirectUri: r.target,
  };
}

/**
 * POST /oidc/logout: the confirmation page's answer. The target is checked again as on the GET. `decision=logout` with
 * the session's token ends the session; a wrong or missing token is an error page and the session stays. With no
 * session left (ended meanwhile) there is nothing to end. `decision=stay` ends nothing: back to the target with
 * `state`, or the still-signed-in page.
 */
export async function answerLogout(
  s: WorkspaceCall,
  form: { csrf: string; decision: string; clientId: string | null; redirect: string | null; state: string | null },
  cookieSecret: string | null,
): Promise<LogoutOutcome> {
  s.origin();
  if (form.decision !== "logout" && form.decision !== "stay") return badLogout("decision must be logout or stay");
  const r = await checkLogout(s, { clientId: form.clientId, redirect: form.redirect, state: form.state, hint: null }, cookieSecret);
  if ("kind" in r) return r;
  if (form.decision === "stay") {
    return r.target ? { kind: "redirect", to: withParams(r.target, { state: r.state }), ended: false } : { kind: "still_signed_in" };
  }
  const session = r.ctx.session;
  if (!session) return signedOut(r);
  if (!(await timingSafeEqualStr(form.csrf, await logoutToken(s, session.id)))) {
    return badLogout("This sign-out form is not valid for your session. Go back to the app and try again.");
  }
  await endProviderSession(s, cookieSecret!);
  return signedOut(r);
}
