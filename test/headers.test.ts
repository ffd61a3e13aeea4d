/** Issue 8, defect 8: nosniff on every answer, a strict CSP on /docs, HSTS on https only. */
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { call, expectError, json, ORIGIN, sys } from "./helpers/api";

const HSTS = "max-age=31536000; includeSubDomains";

describe("X-Content-Type-Options: nosniff", () => {
  it("on a 200 JSON answer (system API and JWKS)", async () => {
    const res = await sys("GET", "/pools");
    await json(res);
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    const jwks = await SELF.fetch(`${ORIGIN}/default/.well-known/jwks.json`);
    await json(jwks);
    expect(jwks.headers.get("x-content-type-options")).toBe("nosniff");
  });

  it("on 4xx errors built by the error handler (401, 400, 415)", async () => {
    const unauth = await sys("GET", "/pools", { token: null });
    await expectError(unauth, 401, "unauthorized");
    expect(unauth.headers.get("x-content-type-options")).toBe("nosniff");
    const badPath = await sys("GET", "/pools/bad.id");
    await expectError(badPath, 400, "invalid_path_parameter");
    expect(badPath.headers.get("x-content-type-options")).toBe("nosniff");
    const wrongType = await call("POST", "/default/default/login/webauthn/options", {
      rawBody: "{}",
      headers: { "content-type": "text/plain" },
    });
    await expectError(wrongType, 415, "unsupported_media_type");
    expect(wrongType.headers.get("x-content-type-options")).toBe("nosniff");
  });

  it("on a 404 for an unknown route", async () => {
    const res = await call("GET", "/no/such/route/at/all");
    await expectError(res, 404, "not_found");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
  });

  it("on /docs, /openapi.json and the redirect from /", async () => {
    for (const path of ["/docs", "/openapi.json", "/"]) {
      const res = await SELF.fetch(`${ORIGIN}${path}`, { redirect: "manual" });
      await res.arrayBuffer();
      expect(res.status, path).toBeLessThan(400);
      expect(res.headers.get("x-content-type-options"), path).toBe("nosniff");
    }
  });
});

describe("/docs Content-Security-Policy", () => {
  it("is strict: nothing but its own inline stylesheet, named by a per-response nonce; no framing", async () => {
    const res = await SELF.fetch(`${ORIGIN}/docs`);
    const html = await res.text();
    expect(res.status).toBe(200);
    const csp = res.headers.get("content-security-policy") ?? "";
    const directives = new Map(
      csp
        .split(";")
        .map((d) => d.trim().split(/\s+/))
        .map(([name, ...values]) => [name!, values]),
    );
    expect(directives.get("default-src")).toEqual(["'none'"]);
    expect(directives.get("frame-ancestors")).toEqual(["'none'"]);
    expect(directives.get("base-uri")).toEqual(["'none'"]);
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
    expect(directives.has("script-src")).toBe(false); // default-src 'none' covers scripts: the page has none
    expect(html).not.toMatch(/<script/i);

    const styleSrc = directives.get("style-src") ?? [];
    expect(styleSrc).toHaveLength(1);
    const nonce = /^'nonce-([A-Za-z0-9+/=]{16,})'$/.exec(styleSrc[0] ?? "")?.[1];
    expect(nonce, csp).toBeDefined();
    const styles = [...html.matchAll(/<style([^>]*)>/g)].map((m) => m[1]);
    expect(styles.length).toBeGreaterThan(0);
    for (const attrs of styles) expect(attrs).toContain(`nonce="${nonce}"`);
    expect(res.headers.get("x-frame-options")).toBe("DENY");

    const again = await SELF.fetch(`${ORIGIN}/docs`);
    await again.text();
    expect(again.headers.get("content-security-policy")).not.toBe(csp); // a fresh nonce per answer
  });
});

describe("Strict-Transport-Security", () => {
  it("is sent on https requests (JSON, errors, pages)", async () => {
    for (const path of [
      "/default/.well-known/jwks.json",
      "/api/identity/default/system/pools",
      "/no/such/route/at/all",
      "/docs",
      "/default/default/login",
    ]) {
      const res = await SELF.fetch(`https://localhost${path}`);
      await res.arrayBuffer();
      expect(res.headers.get("strict-transport-security"), path).toBe(HSTS);
      expect(res.headers.get("x-content-type-options"), path).toBe("nosniff");
    }
  });

  it("is not sent on plain http", async () => {
    for (const path of ["/default/.well-known/jwks.json", "/api/identity/default/system/pools", "/docs", "/default/default/login"]) {
      const res = await SELF.fetch(`http://localhost:8787${path}`);
      await res.arrayBuffer();
      expect(res.headers.get("strict-transport-security"), path).toBeNull();
    }
  });
});
