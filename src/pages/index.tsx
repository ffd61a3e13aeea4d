/**
 * The hosted pages as one sub-app, mounted at "/" by src/app.ts: sign-in, portal, admin console, enrollment link.
 *
 * Every page route, and the HTML 404 page, gets the pages' header policy (src/http/security.ts `pageHeaders`: strict
 * CSP, no framing, no referrer) and Cache-Control: no-store. The policy is attached to the page routes themselves:
 * a `use("*")` here would reach every route of the app this one is mounted in, the JSON API included.
 */
import { Hono, type HonoRequest, type NotFoundHandler } from "hono";
import { every } from "hono/combine";
import type { AppEnv } from "../http/principal";
import { onNotFound } from "../http/errors";
import { noStore } from "../http/guards";
import { pageHeaders } from "../http/security";
import { accountPages } from "./account";
import { adminPages } from "./admin";
import { enrollPages } from "./enroll";
import { recoverPages } from "./recover";
import { signinPages } from "./signin";
import { signupPages } from "./signup";
import { NotFoundPage } from "./not-found";

const pageResponse = every(noStore, pageHeaders);
const pageApps = [signinPages, signupPages, accountPages, adminPages, enrollPages, recoverPages];

export const pages = new Hono<AppEnv>();
for (const { method, path } of pageApps.flatMap((p) => p.routes)) pages.on(method, path, pageResponse);
for (const p of pageApps) pages.route("/", p);

/** Paths of the JSON API: under /api/, the sign-in and enrollment ceremonies under a page, self-service, tokens, keys. */
const API_PATH = /^\/api\/|^\/[^/]+\/[^/]+\/(login|enroll|recover|signup)\/|\/(identity|oauth2|\.well-known)(\/|$)/;

/** A browser navigating to an address that is not an API path: it gets the HTML 404 page. */
function wantsPage(req: HonoRequest): boolean {
  return (req.method === "GET" || req.method === "HEAD") && /\btext\/html\b/i.test(req.header("accept") ?? "") && !API_PATH.test(req.path);
}

/** No route matched: the HTML 404 page for a browser, the contract's JSON 404 for everybody else. */
export const notFound: NotFoundHandler<AppEnv> = async (c) => {
  if (!wantsPage(c.req)) return onNotFound();
  await pageResponse(c, async () => {
    c.res = await c.html(<NotFoundPage />, 404);
  });
  return c.res;
};
