/**
 * The service's header policy, all with hono/secure-headers: X-Content-Type-Options nosniff on every answer,
 * Strict-Transport-Security when the request came over https, a strict CSP for /docs, and the hosted pages' headers.
 */
import type { MiddlewareHandler } from "hono";
import { NONCE, secureHeaders } from "hono/secure-headers";

export const HSTS = "max-age=31536000; includeSubDomains";

/** Every header secureHeaders sets by default, off: each use below turns on only what it means. */
const NONE = {
  crossOriginResourcePolicy: false,
  crossOriginOpenerPolicy: false,
  originAgentCluster: false,
  referrerPolicy: false,
  strictTransportSecurity: false,
  xContentTypeOptions: false,
  xDnsPrefetchControl: false,
  xDownloadOptions: false,
  xFrameOptions: false,
  xPermittedCrossDomainPolicies: false,
  xXssProtection: false,
  removePoweredBy: false,
} as const;

const plain = secureHeaders({ ...NONE, xContentTypeOptions: true });
const overHttps = secureHeaders({ ...NONE, xContentTypeOptions: true, strictTransportSecurity: HSTS });

/** nosniff on every answer (JSON, errors, pages, redirects); HSTS only on https (not on http://localhost). */
export const responseHeaders: MiddlewareHandler = (c, next) => (c.req.url.startsWith("https:") ? overHttps : plain)(c, next);

/**
 * /docs: no script, no connections, no framing; its one inline stylesheet carries a per-response nonce
 * (`c.get("secureHeadersNonce")`).
 */
export const docsHeaders = secureHeaders({
  ...NONE,
  contentSecurityPolicy: {
    defaultSrc: ["'none'"],
    styleSrc: [NONCE],
    formAction: ["'none'"],
    frameAncestors: ["'none'"],
    baseUri: ["'none'"],
  },
  xFrameOptions: "DENY",
  referrerPolicy: "no-referrer",
});

/**
 * The hosted pages (src/pages): scripts, styles and connections only from this origin, no inline script or style,
 * no framing, no referrer. Nosniff comes from `responseHeaders`; pages add Cache-Control: no-store (`noStore`).
 */
export const PAGE_CSP = {
  defaultSrc: ["'none'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", "data:"],
  connectSrc: ["'self'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
  baseUri: ["'none'"],
};

export const pageHeaders = secureHeaders({
  ...NONE,
  contentSecurityPolicy: PAGE_CSP,
  xFrameOptions: "DENY",
  referrerPolicy: "no-referrer",
});
