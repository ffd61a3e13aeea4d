/**
 * Bearer-token middleware. Checks signature, expiry and issuer (against the keys of the tenant the token names),
 * then the tenant of the path (another tenant's path is 404, as if it did not exist) and the scope (403).
 */
import type { MiddlewareHandler } from "hono";
import { createMiddleware } from "hono/factory";
import { ApiError, notFound } from "../errors";
import { validationError } from "./app";
import { serviceOrigin } from "../services/origin";
import { tenantExistsStmt } from "../repo/tenants";
import { userIsActiveStmt } from "../repo/users";
import { LivenessGuard } from "./liveness";
import { ID_RE } from "../api/common";
import { verifyAccessToken } from "../crypto/jwt";
import { verifyOidcAccessToken } from "../services/oidc-tokens-mint";
import type { AppEnv, Principal, RequestOf, UserEnv } from "./principal";
import { TTL } from "../domain/ttl";

/** Base of the token issuer; the rule (ISSUER_BASE_URL, never the Host header in production) is serviceOrigin's. */
const issuerBase = (c: RequestOf) => serviceOrigin(c.env, c.req.url).issuerBase;

const unauthorized = (message: string, bad: boolean) =>
  new ApiError(
    bad ? "invalid_token" : "unauthorized",
    message,
    {},
    {
      "www-authenticate": bad ? `Bearer realm="passkey-edge", error="invalid_token"` : `Bearer realm="passkey-edge"`,
    },
  );

const insufficientScope = (scope: string) =>
  new ApiError(
    "insufficient_scope",
    `this endpoint needs scope "${scope}"`,
    { required_scope: scope },
    {
      "www-authenticate": `Bearer realm="passkey-edge", error="insufficient_scope", scope="${scope}"`,
    },
  );

export async function authenticate(c: RequestOf, now: number): Promise<Principal> {
  const header = c.req.header("authorization") ?? "";
  const m = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i.exec(header);
  if (!m) throw unauthorized("a bearer token is required", false);
  // The tenant's own tokens (sign-in, system), else an RFC 9068 access token of one of its workspaces' OpenID Providers
  // (it carries tid, wid and pool_id, so every check below applies to it alike; it never has the scope `identity`).
  const base = issuerBase(c);
  const claims = (await verifyAccessToken(c.env.DB, base, m[1]!, now)) ?? (await verifyOidcAccessToken(c.env.DB, base, m[1]!, now));
  if (!claims) throw unauthorized("the access token is invalid or expired", true);
  return { tenantId: claims.tid, subject: claims.sub, scopes: new Set(claims.scope.split(" ").filter(Boolean)), claims };
}

/** Requires a valid token of the path's tenant carrying `scope`. */
export function requireScope(scope: string): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (!ID_RE.test(c.req.param("tid") ?? ""))
      throw validationError("param", [{ path: ["tid"], message: "must match ^[A-Za-z0-9_-]{1,64}$" }]);
    const principal = await authenticate(c, Date.now());
    if (principal.tenantId !== c.req.param("tid")) throw notFound("tenant");
    if (!principal.scopes.has(scope)) throw insufficientScope(scope);
    // One check: an administrator's token stops working once the administrator is deactivated or deleted, a client's
    // once its tenant is deleted (signing keys are cached per isolate, so the signature alone cannot tell). It runs
    // in the request's first D1 read (http/liveness.ts), not a round trip of its own.
    const { claims } = principal;
    const guard = guardLiveness(
      c,
      (d1) => (claims.pool_id ? userIsActiveStmt(d1, claims.tid, claims.pool_id, claims.sub) : tenantExistsStmt(d1, claims.tid)),
      () => unauthorized("the token's user or tenant no longer exists", true),
    );
    c.set("auth", principal);
    await next();
    await guard.settle();
  };
}

/** Gives the request a D1 binding that runs the token's liveness check with its first read (http/liveness.ts). */
function guardLiveness(c: RequestOf, check: (d1: D1Database) => D1PreparedStatement, dead: () => ApiError): LivenessGuard {
  const guard = new LivenessGuard(c.env.DB, check, dead);
  c.env = { ...c.env, DB: guard.binding() };
  return guard;
}

/**
 * Requires a user token of the path's tenant and workspace with `scope`; with `recent`, a sign-in within the last
 * 5 minutes (else 401 insufficient_user_authentication with max_age=300).
 */
export function requireUser(scope: string, opts: { recent?: boolean } = {}) {
  return createMiddleware<UserEnv>(async (c, next) => {
    for (const name of ["tid", "wid"]) {
      if (!ID_RE.test(c.req.param(name) ?? ""))
        throw validationError("param", [{ path: [name], message: "must match ^[A-Za-z0-9_-]{1,64}$" }]);
    }
    const now = Date.now();
    const principal = await authenticate(c, now);
    const { claims } = principal;
    if (principal.tenantId !== c.req.param("tid")) throw notFound("tenant");
    // A valid token without the scope (a system token, say) is 403 before any workspace comparison.
    if (!principal.scopes.has(scope)) throw insufficientScope(scope);
    const { wid, pool_id: poolId } = claims;
    if (!wid || wid !== c.req.param("wid") || !poolId) throw notFound("workspace");
    const guard = guardLiveness(
      c,
      (d1) => userIsActiveStmt(d1, claims.tid, poolId, claims.sub),
      () => unauthorized("the user is no longer active", true),
    );
    // auth_time has whole seconds (OIDC), so the age is compared in whole seconds too: comparing milliseconds against a
    // floored auth_time made a sign-in 299 s old look older than 300 s whenever the clock crossed a second.
    if (opts.recent && !(typeof claims.auth_time === "number" && Math.floor(now / 1000) - claims.auth_time <= TTL.recentAuth)) {
      await guard.settle(); // an inactive user's token is invalid_token first, as before
      throw new ApiError(
        "insufficient_user_authentication",
        "sign in again: this needs a sign-in within the last 5 minutes",
        { max_age: TTL.recentAuth },
        {
          "www-authenticate": `Bearer error="insufficient_user_authentication", max_age=${TTL.recentAuth}`,
        },
      );
    }
    c.set("auth", principal);
    c.set("user", { tenantId: claims.tid, workspaceId: wid, poolId, userId: claims.sub });
    await next();
    await guard.settle();
  });
}
