/**
 * CORS: none on the system API; the sign-in and self-service APIs of a workspace answer CORS only for the
 * `relying_party_origins` of the workspace's pools. Requests without a cross-origin Origin read nothing extra.
 */
import { describe, expect, it } from "vitest";
import { call, expectError, json, ORIGIN, sys } from "./helpers/api";
import { newPool, newUser } from "./helpers/passkeys";
import { setup, userToken } from "./helpers/signin";
import { measuredFetch } from "./helpers/storage-use";

const APP = "https://app.example.com";
const OTHER = "https://other.example.org";
const POOL = { passkey_settings: { relying_party_id: "example.com", relying_party_origins: [APP, "https://admin.example.com"] } };

const accessControl = (res: Response) => [...res.headers.keys()].filter((k) => k.startsWith("access-control-"));
const vary = (res: Response) => (res.headers.get("vary") ?? "").split(",").map((v) => v.trim().toLowerCase());

function preflight(path: string, origin: string, method = "POST", headers = "authorization, content-type") {
  return call("OPTIONS", path, { headers: { origin, "access-control-request-method": method, "access-control-request-headers": headers } });
}

function expectAllowed(res: Response, origin: string) {
  expect(res.headers.get("access-control-allow-origin")).toBe(origin);
  expect(vary(res)).toContain("origin");
  expect(res.headers.get("access-control-allow-credentials")).toBeNull(); // bearer tokens, no cookies
}

function expectPreflightAllowed(res: Response, origin: string, method: string) {
  expect(res.status).toBe(204);
  expectAllowed(res, origin);
  const methods = (res.headers.get("access-control-allow-methods") ?? "").split(",").map((m) => m.trim());
  expect(methods).toContain(method);
  const headers = (res.headers.get("access-control-allow-headers") ?? "").split(",").map((h) => h.trim().toLowerCase());
  expect(headers).toEqual(expect.arrayContaining(["authorization", "content-type"]));
}

describe("sign-in API", () => {
  it("an origin of one of the workspace's pools gets CORS on the preflight and on the request", async () => {
    const { wid } = await setup("smart", POOL);
    const path = `/default/${wid}/login/webauthn/options`;
    const pre = await preflight(path, APP);
    await pre.arrayBuffer();
    expectPreflightAllowed(pre, APP, "POST");

    const res = await call("POST", path, { body: {}, headers: { origin: APP } });
    expectAllowed(res, APP);
    expect((await json<{ publicKey: { rpId: string } }>(res)).publicKey.rpId).toBe("example.com");

    const config = await call("GET", `/default/${wid}/login/config`, { headers: { origin: "https://admin.example.com" } });
    await json(config);
    expectAllowed(config, "https://admin.example.com");
  });

  it("error answers carry CORS too, so the page can read them", async () => {
    const { wid } = await setup("smart", POOL);
    const res = await call("POST", `/default/${wid}/login/webauthn/options`, {
      rawBody: "{}",
      headers: { origin: APP, "content-type": "text/plain" },
    });
    expectAllowed(res, APP);
    await expectError(res, 415, "unsupported_media_type");
    const bad = await call("POST", `/default/${wid}/login/webauthn/finish`, {
      body: { login_id: "nope", credential: {} },
      headers: { origin: APP },
    });
    expectAllowed(bad, APP);
    expect(bad.status).toBeGreaterThanOrEqual(400);
    expect(bad.status).toBeLessThan(500);
    await bad.arrayBuffer();
  });

  it("another origin, or an origin of a pool outside the workspace, gets none", async () => {
    const { wid } = await setup("smart", POOL);
    const elsewhere = await newPool({ passkey_settings: { relying_party_id: "other.example.org", relying_party_origins: [OTHER] } });
    expect(elsewhere).toBeTruthy();
    const path = `/default/${wid}/login/webauthn/options`;
    for (const origin of [OTHER, "https://evil.example.com", "null", "https://app.example.com.evil.org"]) {
      const pre = await preflight(path, origin);
      await pre.arrayBuffer();
      expect(pre.status, origin).toBeLessThan(500);
      expect(pre.status, origin).not.toBe(204);
      expect(accessControl(pre), origin).toEqual([]);
      const res = await call("POST", path, { body: {}, headers: { origin } });
      await json(res);
      expect(accessControl(res), origin).toEqual([]);
    }
  });

  it("an unknown workspace gets none, and no 5xx", async () => {
    const pre = await preflight("/default/no-such-workspace/login/webauthn/options", APP);
    await pre.arrayBuffer();
    expect(pre.status).toBeLessThan(500);
    expect(accessControl(pre)).toEqual([]);
  });

  it("same origin needs no CORS: the request works and gets no CORS headers", async () => {
    const { wid } = await setup("smart", POOL);
    const res = await call("POST", `/default/${wid}/login/webauthn/options`, { body: {}, headers: { origin: ORIGIN } });
    await json(res);
    expect(accessControl(res)).toEqual([]);
  });
});

describe("self-service API", () => {
  it("an allowed origin gets CORS on the preflight and on the authenticated request", async () => {
    const { pool, wid } = await setup("smart", POOL);
    const user = await newUser(pool);
    const path = `/default/${wid}/identity/v2/self/me`;
    for (const [p, method] of [
      [path, "GET"],
      [`/default/${wid}/identity/v2/self/webauthn/abc`, "DELETE"],
      [`/default/${wid}/identity/v2/self/webauthn/abc/name`, "PUT"],
    ] as const) {
      const pre = await preflight(p, APP, method);
      await pre.arrayBuffer();
      expectPreflightAllowed(pre, APP, method);
    }
    const token = await userToken({ wid, pool, userId: user.id });
    const res = await call("GET", path, { token, headers: { origin: APP } });
    expectAllowed(res, APP);
    expect((await json<{ id: string }>(res)).id).toBe(user.id);

    const unauth = await call("GET", path, { headers: { origin: APP } });
    expectAllowed(unauth, APP);
    await expectError(unauth, 401, "unauthorized");
  });

  it("another origin gets none", async () => {
    const { pool, wid } = await setup("smart", POOL);
    const user = await newUser(pool);
    const path = `/default/${wid}/identity/v2/self/me`;
    const pre = await preflight(path, OTHER, "GET");
    await pre.arrayBuffer();
    expect(pre.status).toBeLessThan(500);
    expect(accessControl(pre)).toEqual([]);
    const res = await call("GET", path, { token: await userToken({ wid, pool, userId: user.id }), headers: { origin: OTHER } });
    await json(res);
    expect(accessControl(res)).toEqual([]);
  });
});

describe("system API", () => {
  it("never answers CORS, not even for an origin of a pool, and a preflight is not a 5xx", async () => {
    await setup("smart", POOL);
    for (const path of ["/api/identity/default/system/pools", "/api/identity/default/system/workspaces"]) {
      const pre = await call("OPTIONS", `${path}`, {
        headers: { origin: APP, "access-control-request-method": "GET", "access-control-request-headers": "authorization" },
      });
      await pre.arrayBuffer();
      expect(pre.status, path).toBeGreaterThanOrEqual(400);
      expect(pre.status, path).toBeLessThan(500);
      expect(accessControl(pre), path).toEqual([]);
      const res = await sys("GET", path.replace("/api/identity/default/system", ""), { headers: { origin: APP } });
      await json(res);
      expect(accessControl(res), path).toEqual([]);
    }
    const token = await call("OPTIONS", "/default/system/oauth2/token", {
      headers: { origin: APP, "access-control-request-method": "POST" },
    });
    await token.arrayBuffer();
    expect(token.status).toBeLessThan(500);
    expect(accessControl(token)).toEqual([]);
  });
});

describe("storage reads", () => {
  /** Calls the Worker and counts its D1 round trips. */
  async function countingCall(path: string, headers: Record<string, string>) {
    const { res, critical } = await measuredFetch(path, { headers });
    await json(res);
    return { trips: critical.d1RoundTrips, res };
  }

  it("no Origin, same origin and a cross-origin Origin cost the same reads: the origins come from the warm configuration cache", async () => {
    const { wid } = await setup("smart", POOL);
    const path = `/default/${wid}/login/config`;
    await countingCall(path, {}); // warms the isolate's configuration cache
    const none = await countingCall(path, {});
    expect((await countingCall(path, { origin: ORIGIN })).trips).toBe(none.trips);
    const cross = await countingCall(path, { origin: APP });
    expect(cross.trips).toBe(none.trips + 0);
    expect(cross.res.headers.get("access-control-allow-origin")).toBe(APP);
    expect((await countingCall(path, { origin: OTHER })).trips).toBe(none.trips + 0);
  });
});
