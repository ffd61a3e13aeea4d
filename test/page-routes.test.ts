/**
 * The pages sub-app (src/pages/index.tsx): the page header policy on every page route and on the HTML 404 page, none
 * of it on the JSON API; the 404 page for a browser, the contract's JSON 404 for everybody else.
 */
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { expectError, ORIGIN, uid } from "./helpers/api";

/** The hosted pages' CSP, letter for letter as before the pages moved to hono/secure-headers. */
const PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; " +
  "frame-ancestors 'none'; base-uri 'none'";

const BROWSER = { accept: "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8" };

const fetchPath = (path: string, init: RequestInit = {}) => SELF.fetch(`${ORIGIN}${path}`, { redirect: "manual", ...init });

function expectPageHeaders(res: Response, path: string) {
  expect(res.headers.get("content-type"), path).toMatch(/^text\/html/);
  expect(res.headers.get("content-security-policy"), path).toBe(PAGE_CSP);
  expect(res.headers.get("x-frame-options"), path).toBe("DENY");
  expect(res.headers.get("x-content-type-options"), path).toBe("nosniff");
  expect(res.headers.get("referrer-policy"), path).toBe("no-referrer");
  expect(res.headers.get("cache-control"), path).toBe("no-store");
}

function expectNoPageHeaders(res: Response, path: string) {
  expect(res.headers.get("content-security-policy"), path).toBeNull();
  expect(res.headers.get("x-frame-options"), path).toBeNull();
  expect(res.headers.get("referrer-policy"), path).toBeNull();
  expect(res.headers.get("x-content-type-options"), path).toBe("nosniff");
}

describe("page headers", () => {
  it("every page route has them, found or not, with or without a browser's Accept", async () => {
    const pages: [string, number][] = [
      ["/default/default/login", 200],
      ["/default/admin/login", 200],
      ["/default/default/account", 200],
      ["/default/admin", 200],
      ["/default/default/enroll?user=u&code=1", 200],
      ["/default/admin/enroll", 200],
      [`/default/${uid("nows")}/login`, 404],
      [`/default/${uid("nows")}/account`, 404],
      [`/${uid("noten")}/admin`, 404],
      [`/default/${uid("nows")}/enroll`, 404],
    ];
    for (const [path, status] of pages) {
      for (const headers of [{}, BROWSER]) {
        const res = await fetchPath(path, { headers });
        await res.text();
        expect(res.status, path).toBe(status);
        expectPageHeaders(res, path);
      }
    }
  });

  it("no API answer has them: JSON routes next to the pages, the system API, tokens, keys, API 404s", async () => {
    const json = { "content-type": "application/json" };
    const requests: [string, string, RequestInit?][] = [
      ["GET", "/default/default/login/config"],
      ["GET", "/default/admin/login/config"],
      ["POST", "/default/admin/login/webauthn/options", { headers: json, body: "{}" }],
      ["POST", "/default/default/login/webauthn/options", { headers: json, body: "{}" }],
      ["POST", "/default/admin/enroll/webauthn/options", { headers: json, body: "{}" }],
      ["GET", "/default/default/identity/v2/self/me"],
      ["GET", "/default/.well-known/jwks.json"],
      ["POST", "/default/system/oauth2/token", { headers: { "content-type": "application/x-www-form-urlencoded" }, body: "grant_type=x" }],
      ["GET", "/api/identity/default/system/pools"],
      ["GET", "/openapi.json"],
      ["GET", "/default/admin/no-such-thing"],
      ["POST", "/default/default/login"],
    ];
    for (const [method, path, init] of requests) {
      const res = await fetchPath(path, { method, ...init });
      await res.arrayBuffer();
      expect(res.headers.get("content-type"), `${method} ${path}`).toMatch(/^application\/json/);
      expectNoPageHeaders(res, `${method} ${path}`);
      // The ceremonies next to the pages stay uncached as before (their own noStore, no longer also the pages').
      if (/\/(login|enroll|identity)\//.test(path)) expect(res.headers.get("cache-control"), path).toBe("no-store");
    }
  });
});

describe("not-found page", () => {
  it("a browser asking for an unknown address gets the HTML 404 page in the shared layout, with the page headers", async () => {
    for (const path of ["/no/such/page", "/default/default/settings", "/default/admin/users", "/favicon-ish"]) {
      const res = await fetchPath(path, { headers: BROWSER });
      const html = await res.text();
      expect(res.status, path).toBe(404);
      expectPageHeaders(res, path);
      expect(html.startsWith("<!DOCTYPE html>"), path).toBe(true);
      expect(html).toContain('<link rel="stylesheet" href="/assets/app.css"/>');
      expect(html).toContain("<title>Page not found · passkey-edge</title>");
      expect(html).toMatch(/<h1>We can(&#39;|')t find this page<\/h1>/);
      expect(html).toContain("There is no page at this address.");
      expect(html).not.toContain("<script");
    }
    const head = await fetchPath("/no/such/page", { method: "HEAD", headers: BROWSER });
    expect(head.status).toBe(404);
    expectPageHeaders(head, "HEAD /no/such/page");
  });

  it("API clients keep the contract's JSON 404, also for a browser's Accept on an API path or a non-GET method", async () => {
    const cases: [string, string, Record<string, string>][] = [
      ["GET", "/no/such/page", {}],
      ["GET", "/no/such/page", { accept: "application/json" }],
      ["GET", "/no/such/page", { accept: "*/*" }],
      ["POST", "/no/such/page", BROWSER],
      ["DELETE", "/default/default/settings", BROWSER],
      ["GET", "/api/identity/nothing-here", BROWSER],
      ["GET", "/default/default/login/", BROWSER],
      ["GET", "/api/nothing", BROWSER],
      ["GET", "/default/default/login/nothing", BROWSER],
      ["GET", "/default/admin/enroll/webauthn", BROWSER],
      ["GET", "/default/default/identity/v2/self/nothing", BROWSER],
      ["GET", "/default/system/oauth2/authorize", BROWSER],
      ["GET", "/default/.well-known/openid-configuration", BROWSER],
    ];
    for (const [method, path, headers] of cases) {
      const res = await fetchPath(path, { method, headers });
      const body = await expectError(res, 404, "not_found");
      expect(body, `${method} ${path}`).toEqual({ status_code: 404, error: "no such route", error_code: "not_found", details: {} });
      expect(res.headers.get("cache-control")).toBe("no-store");
      expectNoPageHeaders(res, `${method} ${path}`);
    }
  });
});
