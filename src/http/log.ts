/**
 * One structured JSON log line per request: {request_id, method, route, status, duration_ms}. `route` is the
 * matched route pattern (ids elided, never the query string); nothing else of the request is logged (no bodies,
 * tokens, codes or secrets). The request id comes from `cf-ray` or is random, and is returned as X-Request-Id.
 */
import type { Context, MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import { b64url, randomBytes } from "../crypto/bytes";

const RAY = /^[A-Za-z0-9-]{1,64}$/;

/** The pattern of the handler that answered: the last matched route that is not a middleware (`use`, method ALL). */
export function routeOf(c: Context): string | null {
  const routes = matchedRoutes(c);
  for (let i = routes.length - 1; i >= 0; i--) {
    const r = routes[i]!;
    if (r.method !== "ALL") return r.path;
  }
  return null;
}

export const requestLog: MiddlewareHandler = async (c, next) => {
  const started = Date.now();
  const ray = c.req.header("cf-ray");
  const requestId = ray && RAY.test(ray) ? ray : b64url(randomBytes(12));
  try {
    await next();
  } finally {
    c.res.headers.set("x-request-id", requestId);
    console.log(
      JSON.stringify({
        request_id: requestId,
        method: c.req.method,
        route: routeOf(c),
        status: c.res.status,
        duration_ms: Date.now() - started,
      }),
    );
  }
};
