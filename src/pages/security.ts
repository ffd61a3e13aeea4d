/** Headers for the hosted pages: a strict CSP (scripts only from this origin, no inline script), no framing. */
import type { MiddlewareHandler } from "hono";

export const PAGE_CSP = [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'",
  "form-action 'self'", "frame-ancestors 'none'", "base-uri 'none'",
].join("; ");

export const pageHeaders: MiddlewareHandler = async (c, next) => {
  await next();
  c.res.headers.set("content-security-policy", PAGE_CSP);
  c.res.headers.set("x-frame-options", "DENY");
  c.res.headers.set("x-content-type-options", "nosniff");
  c.res.headers.set("referrer-policy", "no-referrer");
  c.res.headers.set("cache-control", "no-store");
};
