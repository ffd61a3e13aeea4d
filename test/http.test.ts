import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { call, expectError, json, ORIGIN, sys, systemToken } from "./helpers/api";

describe("request handling", () => {
  it("415 for a body that is not JSON", async () => {
    await expectError(
      await sys("POST", "/pools", { rawBody: "name=x", headers: { "content-type": "application/x-www-form-urlencoded" } }),
      415,
      "unsupported_media_type",
    );
    await expectError(
      await sys("POST", "/pools", { rawBody: JSON.stringify({ name: "x" }), headers: { "content-type": "text/plain" } }),
      415,
      "unsupported_media_type",
    );
    await expectError(await sys("POST", "/pools", { rawBody: JSON.stringify({ name: "x" }) }), 415, "unsupported_media_type");
  });

  it("413 over 64 KiB, with or without Content-Length", async () => {
    const big = JSON.stringify({ name: "x", description: "a".repeat(70 * 1024) });
    await expectError(
      await sys("POST", "/pools", { rawBody: big, headers: { "content-type": "application/json" } }),
      413,
      "payload_too_large",
    );
    const token = await systemToken();
    const stream = new ReadableStream({
      start(c) {
        for (let i = 0; i < 80; i++) c.enqueue(new TextEncoder().encode("a".repeat(1024)));
        c.close();
      },
    });
    const res = await SELF.fetch(`${ORIGIN}/api/identity/default/system/pools`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: stream,
    });
    await expectError(res, 413, "payload_too_large");
  });

  it("400 for malformed JSON and for a JSON value that is not an object", async () => {
    await expectError(
      await sys("POST", "/pools", { rawBody: '{"name": ', headers: { "content-type": "application/json" } }),
      400,
      "invalid_request",
    );
    await expectError(
      await sys("POST", "/pools", { rawBody: "[1,2]", headers: { "content-type": "application/json" } }),
      400,
      "validation_failed",
    );
    await expectError(
      await sys("POST", "/pools", { rawBody: "null", headers: { "content-type": "application/json" } }),
      400,
      "validation_failed",
    );
  });

  it("400 invalid_path_parameter for ids outside ^[A-Za-z0-9_-]{1,64}$", async () => {
    await expectError(await sys("GET", `/pools/${"a".repeat(65)}`), 400, "invalid_path_parameter");
    await expectError(await sys("GET", "/pools/a%20b"), 400, "invalid_path_parameter");
    await expectError(await sys("GET", "/pools/%C3%A9"), 400, "invalid_path_parameter");
  });

  it("404 in the error shape for unknown routes", async () => {
    await expectError(await call("GET", "/nope"), 404, "not_found");
  });

  it("serves the OpenAPI document and the reference page", async () => {
    const doc = await json<{ openapi: string; paths: Record<string, unknown> }>(await SELF.fetch(`${ORIGIN}/openapi.json`));
    expect(doc.openapi).toBe("3.1.0");
    for (const p of [
      "/{tid}/system/oauth2/token",
      "/api/identity/{tid}/system/pools",
      "/api/identity/{tid}/system/pools/{ipID}/users/{userID}",
      "/api/identity/{tid}/system/workspaces/{wid}",
    ]) {
      expect(Object.keys(doc.paths)).toContain(p);
    }
    const page = await SELF.fetch(`${ORIGIN}/docs`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("/api/identity/{tid}/system/pools");
  });

  it("never answers 500 to odd bodies, headers and paths", async () => {
    const bodies = [
      "",
      "{}",
      '"str"',
      "1e999",
      '{"name":null}',
      '{"name":"x","limits":{"max_credentials":1e309}}',
      '{"__proto__":{"x":1},"name":"p"}',
      '{"name":"x","passkey_settings":{"relying_party_origins":["https://[::1"]}}',
      "\u0000",
      '{"name":"\\ud800"}',
    ];
    for (const rawBody of bodies) {
      const res = await sys("POST", "/pools", { rawBody, headers: { "content-type": "application/json" } });
      expect(res.status, rawBody).toBeLessThan(500);
      await res.arrayBuffer();
    }
    const headers: Record<string, string>[] = [
      { authorization: `Bearer ${"a".repeat(5000)}` },
      { authorization: "Basic xyz" },
      { authorization: "Bearer a.b.c" },
      { "content-type": "application/json; charset=\u00ff" },
    ];
    for (const h of headers) {
      const res = await call("GET", "/api/identity/default/system/pools", { headers: h });
      expect(res.status).toBeLessThan(500);
      await res.arrayBuffer();
    }
    for (const p of [
      "/api/identity/%/system/pools",
      "/api/identity/default/system/pools/%E0%A4%A",
      "/default/.well-known/jwks.json/..",
      "/%00/system/oauth2/token",
    ]) {
      const res = await call("GET", p);
      expect(res.status, p).toBeLessThan(500);
      await res.arrayBuffer();
    }
  });
});

describe("error mapping", () => {
  it("maps transient storage failures to 503 with Retry-After and SQL bugs to 500, neither leaking the message", async () => {
    const { toApiError } = await import("../src/http/errors");
    const transient = toApiError(new Error("query failed", { cause: new Error("D1_ERROR: Network connection lost.") }));
    expect([transient.status, transient.code, transient.headers["retry-after"]]).toEqual([503, "storage_unavailable", "1"]);
    expect(toApiError(new Error("D1 DB is overloaded. Requests queued for too long.")).status).toBe(503);
    const bug = toApiError(new Error("D1_ERROR: no such column: foo: SQLITE_ERROR"));
    expect([bug.status, bug.code, bug.message]).toEqual([500, "internal_error", "internal error"]);
  });
});
