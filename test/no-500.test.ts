/**
 * Property: no request body, header or path value makes the worker answer 500. fast-check throws arbitrary JSON,
 * raw strings and odd path segments at every route family; each answer must be < 500 in the error shape.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { call, systemToken } from "./helpers/api";

const routes: [method: string, path: string, auth: "system" | "none"][] = [
  ["POST", "/api/identity/default/system/pools", "system"],
  ["PUT", "/api/identity/default/system/pools/default", "system"],
  ["POST", "/api/identity/default/system/workspaces", "system"],
  ["PUT", "/api/identity/default/system/workspaces/default", "system"],
  ["POST", "/api/identity/default/system/pools/default/users", "system"],
  ["POST", "/api/identity/default/system/pools/default/users/nobody/webauthn/create/complete", "system"],
  ["POST", "/api/identity/default/system/pools/default/users/nobody/usernameless-webauthn/create/complete", "system"],
  ["PUT", "/api/identity/default/system/pools/default/users/nobody/webauthn/AAAA/name", "system"],
  ["POST", "/api/identity/default/system/pools/default/user/webauthn/add/request", "system"],
  ["POST", "/api/identity/default/system/pools/default/user/webauthn/add/complete", "system"],
  ["POST", "/default/default/login/webauthn/options", "none"],
  ["POST", "/default/default/login/webauthn/finish", "none"],
  ["POST", "/default/default/login/password", "none"],
  ["POST", "/default/default/identity/v2/self/usernameless-webauthn/create/complete", "none"],
];

async function expectNo500(res: Response, what: string) {
  const text = await res.text();
  expect(res.status, `${what} → ${res.status} ${text.slice(0, 200)}`).toBeLessThan(500);
  if (res.status >= 400) expect(Object.keys(JSON.parse(text)).sort()).toEqual(["details", "error", "error_code", "status_code"]);
}

// Hundreds of requests per test: give each test a budget that fits a loaded 2-core machine.
describe("no 500 on bad input (property-based)", { timeout: 60_000 }, () => {
  for (const [method, path, auth] of routes) {
    it(`${method} ${path}`, async () => {
      const token = auth === "system" ? await systemToken() : null;
      await fc.assert(
        fc.asyncProperty(fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.object({ maxDepth: 2 })), async (body) => {
          await expectNo500(await call(method, path, { token, body }), JSON.stringify(body).slice(0, 100));
        }),
        { numRuns: 25 },
      );
      await fc.assert(
        fc.asyncProperty(fc.string({ maxLength: 200 }), async (raw) => {
          await expectNo500(await call(method, path, { token, rawBody: raw, headers: { "content-type": "application/json" } }), raw.slice(0, 100));
        }),
        { numRuns: 15 },
      );
    });
  }

  it("odd path segments", async () => {
    const token = await systemToken();
    await fc.assert(
      fc.asyncProperty(fc.string({ minLength: 1, maxLength: 80 }), async (seg) => {
        const enc = encodeURIComponent(seg);
        for (const p of [`/api/identity/default/system/pools/${enc}`, `/api/identity/default/system/pools/default/users/${enc}`,
          `/api/identity/default/system/pools/default/users/x/webauthn/${enc}`, `/default/${enc}/login/config`, `/${enc}/.well-known/jwks.json`]) {
          await expectNo500(await call("GET", p, { token }), p);
        }
      }),
      { numRuns: 30 },
    );
  });

  it("odd Authorization headers", async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 300 }).filter((s) => !/[\r\n\0]/.test(s)), async (h) => {
        let res: Response;
        try {
          res = await call("GET", "/api/identity/default/system/pools", { headers: { authorization: h } });
        } catch {
          return; // not a valid header value for fetch itself
        }
        await expectNo500(res, h.slice(0, 80));
      }),
      { numRuns: 40 },
    );
  });
});
