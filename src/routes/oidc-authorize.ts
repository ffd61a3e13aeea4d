/**
 * The authorization side of each workspace's OpenID Provider (part B of issue 10), HTML and redirects:
 *   GET|POST /{tid}/{wid}/oauth2/authorize          the authorization request (POST: form-encoded)
 *   GET      /{tid}/{wid}/oauth2/authorize/resume   finishes a pending request after the hosted sign-in
 *   GET|POST /{tid}/{wid}/oauth2/consent            the consent page and its answer
 *   GET|POST /{tid}/{wid}/oidc/logout               RP-Initiated Logout 1.0 (POST: the confirmation's answer)
 * Thin: read the parameters and the session cookie, call services/oidc-authorize.ts, shape its outcome (an error page,
 * a redirect, the consent or logout confirmation page). Every answer: Cache-Control no-store and the pages' strict CSP.
 * The handlers are plain Hono routes (they answer HTML, not the JSON error body); their OpenAPI entries are
 * registered from src/api/oidc-pages.ts.
 */
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { OIDC_PAGE_ROUTES } from "../api/oidc-pages";
import { newApp } from "../http/app";
import { callOf } from "../http/context";
import { limitBody } from "../http/guards";
import type { AppEnv } from "../http/principal";
import { PAGE_CSP } from "../http/security";
import { ConsentPage } from "../pages/consent";
import { LogoutConfirmPage, SignedOutPage, StillSignedInPage } from "../pages/logout";
import { AuthorizeErrorPage } from "../pages/oidc-error";
import { inWorkspace, type WorkspaceCall } from "../services/call";
import {
  answerConsent,
  answerLogout,
  type AuthorizeOutcome,
  authorize,
  consentPage,
  type LogoutOutcome,
  logout,
  resumeAuthorization,
} from "../services/oidc-authorize";
import { SESSION_COOKIE, type StartedSession } from "../services/oidc-session";

type C = Context<AppEnv>;
const ID = /^[A-Za-z0-9_-]{1,64}$/;
const FORM = /^application\/x-www-form-urlencoded\s*(;|$)/i;

const kebab = (k: string) => k.replace(/[A-Z]/g, (m) => `-${m.toLowerCase()}`);
/** The pages' CSP, with extra form-action sources (the consent form's answer redirects to the client). */
function csp(formAction: string[] = []): string {
  const policy: Record<string, string[]> = { ...PAGE_CSP, formAction: [...PAGE_CSP.formAction, ...formAction] };
  return Object.entries(policy)
    .map(([k, v]) => `${kebab(k)} ${v.join(" ")}`)
    .join("; ");
}

/** Where a redirect URI's navigation goes, as a CSP source: its origin (http/https) or its scheme. */
function cspSource(uri: string): string {
  const url = new URL(uri);
  return url.protocol === "http:" || url.protocol === "https:" ? url.origin : url.protocol;
}

const pathCookie = (tid: string, wid: string) => `/${tid}/${wid}`;

/** Sets the provider session cookie: HttpOnly, SameSite=Lax, Secure on https, Path=/{tid}/{wid}. */
export function setSessionCookie(c: C, tid: string, wid: string, session: StartedSession): void {
  setCookie(c, SESSION_COOKIE, session.secret, {
    httpOnly: true,
    sameSite: "Lax",
    secure: c.req.url.startsWith("https:"),
    path: pathCookie(tid, wid),
    expires: new Date(session.expiresAt),
  });
}

function page(c: C, body: unknown, status: 200 | 400 = 200, formAction: string[] = []) {
  c.header("Cache-Control", "no-store");
  c.header("Content-Security-Policy", csp(formAction));
  c.header("X-Frame-Options", "DENY");
  c.header("Referrer-Policy", "no-referrer");
  return c.html(body as string, status);
}

function redirect(c: C, to: string) {
  c.header("Cache-Control", "no-store");
  return c.redirect(to, 302);
}

function respond(c: C, o: AuthorizeOutcome) {
  if (o.kind === "redirect") return redirect(c, o.to);
  if (o.kind === "error_page") return page(c, AuthorizeErrorPage({ error: o.error, description: o.description }), 400);
  return page(c, ConsentPage({ view: o.view, action: c.req.path }), 200, [cspSource(o.redirectUri)]);
}

/** A logout step's answer; the session cookie is cleared once the session is over (or there was none to end). */
function respondLogout(c: C, s: WorkspaceCall, o: LogoutOutcome) {
  if (o.kind === "signed_out" || (o.kind === "redirect" && o.ended))
    deleteCookie(c, SESSION_COOKIE, {
      path: pathCookie(s.tenantId, s.workspaceId),
      httpOnly: true,
      sameSite: "Lax",
      secure: c.req.url.startsWith("https:"),
    });
  switch (o.kind) {
    case "redirect":
      return redirect(c, o.to);
    case "error_page":
      return page(c, AuthorizeErrorPage({ error: o.error, description: o.description, request: "sign-out" }), 400);
    case "signed_out":
      return page(c, SignedOutPage({}));
    case "still_signed_in":
      return page(c, StillSignedInPage({}));
    case "confirm_logout":
      return page(c, LogoutConfirmPage({ view: o.view, action: c.req.path }), 200, o.redirectUri ? [cspSource(o.redirectUri)] : []);
  }
}

/** The call in the path's workspace, or null for a malformed id. */
function workspaceCall(c: C): WorkspaceCall | null {
  const tid = c.req.param("tid") ?? "";
  const wid = c.req.param("wid") ?? "";
  return ID.test(tid) && ID.test(wid) && wid !== "system" ? inWorkspace(callOf(c, tid), wid) : null;
}

/** A malformed id: the error page. `/{tid}/system/...` is the tenant's system API (tokens), not a workspace: 404. */
const badPath = (c: C) =>
  c.req.param("wid") === "system"
    ? c.notFound()
    : respond(c, { kind: "error_page", error: "invalid_request", description: "the tenant or workspace id is malformed" });

/** The request's parameters: the query for GET, the form-encoded body for POST (else null). */
async function paramsOf(c: C): Promise<URLSearchParams | null> {
  if (c.req.method === "GET") return new URL(c.req.url).searchParams;
  if (!FORM.test(c.req.header("content-type") ?? "")) return null;
  return new URLSearchParams(new TextDecoder().decode(await c.req.arrayBuffer()));
}

/** An OpenAPIHono only to carry the OpenAPI entries of these HTML endpoints; the handlers are plain Hono routes. */
export const oidcAuthorize = newApp();
for (const route of OIDC_PAGE_ROUTES) oidcAuthorize.openAPIRegistry.registerPath(route);
oidcAuthorize.use("/:tid/:wid/oauth2/authorize", limitBody);
oidcAuthorize.use("/:tid/:wid/oauth2/consent", limitBody);
oidcAuthorize.use("/:tid/:wid/oidc/logout", limitBody);

oidcAuthorize.on(["GET", "POST"], "/:tid/:wid/oauth2/authorize", async (c) => {
  const s = workspaceCall(c);
  if (!s) return badPath(c);
  const params = await paramsOf(c);
  if (!params) return respond(c, { kind: "error_page", error: "invalid_request", description: "a POST must be form-encoded" });
  return respond(c, await authorize(s, params, getCookie(c, SESSION_COOKIE) ?? null));
});

oidcAuthorize.get("/:tid/:wid/oauth2/authorize/resume", async (c) => {
  const s = workspaceCall(c);
  if (!s) return badPath(c);
  return respond(c, await resumeAuthorization(s, c.req.query("authz") ?? "", getCookie(c, SESSION_COOKIE) ?? null));
});

oidcAuthorize.get("/:tid/:wid/oauth2/consent", async (c) => {
  const s = workspaceCall(c);
  if (!s) return badPath(c);
  return respond(c, await consentPage(s, c.req.query("authz") ?? "", getCookie(c, SESSION_COOKIE) ?? null));
});

oidcAuthorize.post("/:tid/:wid/oauth2/consent", async (c) => {
  const s = workspaceCall(c);
  if (!s) return badPath(c);
  const form = await paramsOf(c);
  if (!form) return respond(c, { kind: "error_page", error: "invalid_request", description: "the consent form must be form-encoded" });
  const answer = { authz: form.get("authz") ?? "", csrf: form.get("csrf") ?? "", decision: form.get("decision") ?? "" };
  return respond(c, await answerConsent(s, answer, getCookie(c, SESSION_COOKIE) ?? null));
});

oidcAuthorize.get("/:tid/:wid/oidc/logout", async (c) => {
  const s = workspaceCall(c);
  if (!s) return badPath(c);
  return respondLogout(c, s, await logout(s, new URL(c.req.url).searchParams, getCookie(c, SESSION_COOKIE) ?? null));
});

oidcAuthorize.post("/:tid/:wid/oidc/logout", async (c) => {
  const s = workspaceCall(c);
  if (!s) return badPath(c);
  const form = await paramsOf(c);
  if (!form)
    return respondLogout(c, s, { kind: "error_page", error: "invalid_request", description: "the sign-out form must be form-encoded" });
  const answer = {
    csrf: form.get("csrf") ?? "",
    decision: form.get("decision") ?? "",
    clientId: form.get("client_id") || null,
    redirect: form.get("post_logout_redirect_uri"),
    state: form.get("state"),
  };
  return respondLogout(c, s, await answerLogout(s, answer, getCookie(c, SESSION_COOKIE) ?? null));
});
