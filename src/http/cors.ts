/**
 * CORS for the browser-facing APIs of a workspace (sign-in, self-service): allowed only for an Origin that is one of
 * the `relying_party_origins` of the workspace's pools. The system API has none. A request without Origin, or from
 * the service's own origin (same origin needs no CORS), costs no storage read; a cross-origin one reads the isolate's
 * configuration cache (repo/config-cache.ts: the origin sets are built once per entry), so no D1 read when it is warm.
 * Tokens are bearer tokens, so credentials are never allowed.
 */
import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "./principal";
import { type WorkspaceConfig, workspaceConfig } from "../repo/config-cache";
import { ID_RE } from "../api/common";
import { serviceOrigin } from "../services/origin";

const ALLOW_METHODS = "GET, POST, PUT, DELETE";
const ALLOW_HEADERS = "authorization, content-type";
const EXPOSE_HEADERS = "www-authenticate, retry-after";
const MAX_AGE_SECONDS = "600";
/** Only what a pool can list (scheme://host[:port]) is worth a lookup; "null" and junk are refused at once. */
const ORIGIN_SHAPE = /^https?:\/\/[^/?#\s]+$/;

function isOwnOrigin(c: Context<AppEnv>, origin: string): boolean {
  if (origin === new URL(c.req.url).origin) return true;
  try {
    return origin === serviceOrigin(c.env, c.req.url).origin;
  } catch {
    return false; // not configured: the route itself answers 503
  }
}

/** The path's workspace configuration (cached), or undefined for ids that cannot exist and unknown workspaces. */
function configOfPath(c: Context<AppEnv>): Promise<WorkspaceConfig | undefined> {
  const tid = c.req.param("tid") ?? "";
  const wid = c.req.param("wid") ?? "";
  if (!ID_RE.test(tid) || !ID_RE.test(wid)) return Promise.resolve(undefined);
  return workspaceConfig(c.env.DB, tid, wid, Date.now());
}

/** An origin listed in `relying_party_origins` of one of the workspace's pools. */
const poolsAllow = async (c: Context<AppEnv>, origin: string) => (await configOfPath(c))?.poolOrigins.has(origin) ?? false;

/**
 * CORS middleware that allows an Origin when `allows` says so (after the cheap checks: a well-formed, cross-origin
 * Origin), for preflights of `methods`. Everything else passes through with `Vary: Origin`.
 */
function corsWhen(allows: (c: Context<AppEnv>, origin: string) => Promise<boolean>, methods: string): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const origin = c.req.header("origin");
    const allowed = !!origin && ORIGIN_SHAPE.test(origin) && !isOwnOrigin(c, origin) && (await allows(c, origin));
    if (!allowed) {
      await next();
      c.res.headers.append("vary", "Origin");
      return;
    }
    if (c.req.method === "OPTIONS" && c.req.header("access-control-request-method")) {
      return c.body(null, 204, {
        "access-control-allow-origin": origin,
        "access-control-allow-methods": methods,
        "access-control-allow-headers": ALLOW_HEADERS,
        "access-control-max-age": MAX_AGE_SECONDS,
        vary: "Origin",
      });
    }
    await next();
    c.res.headers.set("access-control-allow-origin", origin);
    c.res.headers.set("access-control-expose-headers", EXPOSE_HEADERS);
    c.res.headers.append("vary", "Origin");
  };
}

/** Mount on `/:tid/:wid/...` paths, before the guards, so error answers are readable by the allowed page too. */
export const workspaceCors = corsWhen(poolsAllow, ALLOW_METHODS);

/** An origin (scheme://host[:port], http or https) of a redirect URI of one of the workspace's OIDC clients. */
const clientsAllow = async (c: Context<AppEnv>, origin: string) => (await configOfPath(c))?.clientOrigins.has(origin) ?? false;

/**
 * CORS for a workspace's OAuth endpoints that browsers call (token, revocation, userinfo): allowed only for an Origin
 * of one of the workspace's clients' redirect URIs (a single-page app redeeming its code). Same rules otherwise as
 * workspaceCors: no credentials, no lookup without a cross-origin Origin.
 */
export const clientCors = corsWhen(clientsAllow, "GET, POST");

/** Public metadata (discovery, JWKS): readable from any origin (`Access-Control-Allow-Origin: *`), errors included. */
export const publicCors: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (c.req.method === "OPTIONS" && c.req.header("access-control-request-method")) {
    return c.body(null, 204, {
      "access-control-allow-origin": "*",
      "access-control-allow-methods": "GET",
      "access-control-max-age": MAX_AGE_SECONDS,
    });
  }
  await next();
  c.res.headers.set("access-control-allow-origin", "*");
};
