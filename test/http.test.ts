import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { basic, CLIENT, call, expectError, json, ORIGIN, sys, systemToken } from "./helpers/api";

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

// ---------- the OpenAPI document ----------

type Schema = {
  $ref?: string;
  allOf?: Schema[];
  properties?: Record<string, Schema>;
  required?: string[];
  enum?: string[];
  type?: string;
};
type Header = { description?: string };
type Response_ = { description: string; headers?: Record<string, Header>; content?: Record<string, { schema: Schema }> };
type Operation = {
  parameters?: { name: string; in: string }[];
  requestBody?: { content: Record<string, { schema: Schema }>; required?: boolean };
  responses: Record<string, Response_>;
};
type Doc = { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, Schema> } };

const openapi = async () => json<Doc>(await SELF.fetch(`${ORIGIN}/openapi.json`));

function op(doc: Doc, method: string, path: string): Operation {
  const o = doc.paths[path]?.[method];
  expect(o, `${method} ${path} documented`).toBeDefined();
  return o!;
}

/** A schema's properties, through a $ref or an allOf of them. */
function propertiesOf(doc: Doc, s: Schema): Record<string, Schema> {
  if (s.$ref) return propertiesOf(doc, doc.components.schemas[s.$ref.replace("#/components/schemas/", "")]!);
  if (s.allOf) return Object.assign({}, ...s.allOf.map((p) => propertiesOf(doc, p)));
  return s.properties ?? {};
}

const AUTHORIZE_PARAMS = [
  "response_type",
  "client_id",
  "redirect_uri",
  "scope",
  "state",
  "nonce",
  "code_challenge",
  "code_challenge_method",
  "prompt",
  "max_age",
  "login_hint",
  "acr_values",
];

describe("the OpenAPI document", () => {
  it("documents the OpenID Provider's browser endpoints: parameters, form-encoded bodies, redirects and HTML pages", async () => {
    const doc = await openapi();
    const queryOf = (o: Operation) => (o.parameters ?? []).filter((p) => p.in === "query").map((p) => p.name);
    const formOf = (o: Operation) => {
      const media = o.requestBody?.content["application/x-www-form-urlencoded"];
      expect(media, "a form-encoded body").toBeDefined();
      expect(Object.keys(o.requestBody!.content)).toEqual(["application/x-www-form-urlencoded"]);
      return Object.keys(propertiesOf(doc, media!.schema));
    };
    const authorize = "/{tid}/{wid}/oauth2/authorize";
    expect(queryOf(op(doc, "get", authorize)).sort()).toEqual([...AUTHORIZE_PARAMS].sort());
    expect(formOf(op(doc, "post", authorize)).sort()).toEqual([...AUTHORIZE_PARAMS].sort());
    expect(queryOf(op(doc, "get", `${authorize}/resume`))).toEqual(["authz"]);
    expect(queryOf(op(doc, "get", "/{tid}/{wid}/oauth2/consent"))).toEqual(["authz"]);
    expect(formOf(op(doc, "post", "/{tid}/{wid}/oauth2/consent")).sort()).toEqual(["authz", "csrf", "decision"]);
    const logout = "/{tid}/{wid}/oidc/logout";
    expect(queryOf(op(doc, "get", logout)).sort()).toEqual(["client_id", "id_token_hint", "post_logout_redirect_uri", "state"]);
    expect(formOf(op(doc, "post", logout)).sort()).toEqual(["client_id", "csrf", "decision", "post_logout_redirect_uri", "state"]);

    // Redirects name what Location carries; pages are text/html, the error page too.
    const redirect = op(doc, "get", authorize).responses["302"]!.headers!.Location!.description!;
    for (const p of ["code", "state", "iss", "error", "error_description"]) expect(redirect).toContain(`\`${p}\``);
    for (const [method, path] of [
      ["get", authorize],
      ["post", authorize],
      ["get", `${authorize}/resume`],
      ["get", "/{tid}/{wid}/oauth2/consent"],
      ["post", "/{tid}/{wid}/oauth2/consent"],
      ["get", logout],
      ["post", logout],
    ] as const) {
      const r = op(doc, method, path).responses;
      expect(Object.keys(r["400"]!.content!), `${method} ${path}`).toEqual(["text/html"]);
      expect(r["302"]?.headers?.Location, `${method} ${path}`).toBeDefined();
    }
    expect(Object.keys(op(doc, "get", "/{tid}/{wid}/oauth2/consent").responses["200"]!.content!)).toEqual(["text/html"]);
    expect(op(doc, "get", logout).responses["200"]!.content!["text/html"]).toBeDefined();
    expect(op(doc, "get", logout).responses["302"]!.headers!.Location!.description).toContain("`state`");
  });

  it("the OAuth endpoints' errors are OAuthError bodies with error_description; userinfo keeps the project's body", async () => {
    const doc = await openapi();
    const oauthError = doc.components.schemas.OAuthError!;
    expect(Object.keys(oauthError.properties ?? {}).sort()).toEqual(["details", "error", "error_code", "error_description", "status_code"]);
    expect(oauthError.required).toContain("error_description");
    const codes = (path: string, status: string) => {
      const r = op(doc, "post", path).responses[status];
      const schema = r?.content?.["application/json"]?.schema;
      expect(schema?.allOf?.[0]?.$ref, `${path} ${status}`).toBe("#/components/schemas/OAuthError");
      const props = propertiesOf(doc, schema!);
      expect(props.error_description, `${path} ${status}`).toBeDefined();
      expect(props.error_code?.enum).toEqual(props.error?.enum);
      return props.error!.enum!;
    };
    const token = "/{tid}/{wid}/oauth2/token";
    expect(codes(token, "400")).toEqual(
      expect.arrayContaining(["invalid_request", "invalid_grant", "unsupported_grant_type", "invalid_scope", "unauthorized_client"]),
    );
    expect(codes("/{tid}/{wid}/oauth2/revoke", "400")).toEqual(["invalid_request", "invalid_path_parameter"]);
    expect(codes("/{tid}/system/oauth2/token", "400")).toEqual(
      expect.arrayContaining(["invalid_request", "unsupported_grant_type", "invalid_scope"]),
    );
    expect(codes("/{tid}/system/oauth2/token", "400")).not.toContain("invalid_grant");
    for (const path of [token, "/{tid}/{wid}/oauth2/revoke", "/{tid}/system/oauth2/token"]) {
      expect(codes(path, "401"), path).toEqual(["invalid_client"]);
      expect(op(doc, "post", path).responses["401"]!.headers?.["WWW-Authenticate"], path).toBeDefined();
      for (const status of ["413", "415", "429"]) codes(path, status);
    }
    // Userinfo is a bearer resource: the project's error body, and its 401 names the challenge.
    for (const method of ["get", "post"]) {
      const r = doc.paths["/{tid}/{wid}/userinfo"]![method]!.responses["401"]!;
      expect(r.content!["application/json"]!.schema.$ref).toBe("#/components/schemas/Error");
      expect(r.headers?.["WWW-Authenticate"]?.description).toContain("Bearer");
    }
  });

  it("the OAuth endpoints answer only the error codes documented for the status", async () => {
    const doc = await openapi();
    const form = (path: string, body: string, headers: Record<string, string> = {}) =>
      SELF.fetch(`${ORIGIN}${path}`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
        body,
      });
    const app = { authorization: basic("example-app", "example-app-secret-dev-only") };
    const system = { authorization: basic(CLIENT.id, CLIENT.secret) };
    const cases: [string, string, Promise<Response>][] = [
      ["/{tid}/{wid}/oauth2/token", "unsupported_grant_type", form("/default/default/oauth2/token", "grant_type=password", app)],
      ["/{tid}/{wid}/oauth2/token", "invalid_request", form("/default/default/oauth2/token", "grant_type=authorization_code", app)],
      [
        "/{tid}/{wid}/oauth2/token",
        "invalid_grant",
        form(
          "/default/default/oauth2/token",
          `grant_type=authorization_code&code=nope&redirect_uri=${encodeURIComponent("http://localhost:3000/callback")}&code_verifier=${"v".repeat(43)}`,
          app,
        ),
      ],
      [
        "/{tid}/{wid}/oauth2/token",
        "invalid_grant",
        form("/default/default/oauth2/token", "grant_type=refresh_token&refresh_token=nope", app),
      ],
      ["/{tid}/{wid}/oauth2/token", "invalid_client", form("/default/default/oauth2/token", "grant_type=refresh_token&refresh_token=x")],
      [
        "/{tid}/{wid}/oauth2/token",
        "unsupported_media_type",
        form("/default/default/oauth2/token", "{}", { "content-type": "application/json" }),
      ],
      [
        "/{tid}/{wid}/oauth2/token",
        "invalid_path_parameter",
        form(`/${"t".repeat(65)}/default/oauth2/token`, "grant_type=refresh_token", app),
      ],
      ["/{tid}/{wid}/oauth2/revoke", "invalid_request", form("/default/default/oauth2/revoke", "", app)],
      ["/{tid}/{wid}/oauth2/revoke", "invalid_client", form("/default/default/oauth2/revoke", "token=x")],
      ["/{tid}/system/oauth2/token", "unsupported_grant_type", form("/default/system/oauth2/token", "grant_type=password", system)],
      [
        "/{tid}/system/oauth2/token",
        "invalid_scope",
        form("/default/system/oauth2/token", "grant_type=client_credentials&scope=nope", system),
      ],
      ["/{tid}/system/oauth2/token", "invalid_client", form("/default/system/oauth2/token", "grant_type=client_credentials")],
      ["/{tid}/system/oauth2/token", "payload_too_large", form("/default/system/oauth2/token", `a=${"x".repeat(70_000)}`)],
    ];
    for (const [path, expected, pending] of cases) {
      const res = await pending;
      const body = await json<{ error: string; error_description: string; error_code: string }>(res, res.status);
      expect(body.error, `${path} → ${res.status}`).toBe(expected);
      expect(typeof body.error_description).toBe("string");
      const documented = propertiesOf(doc, doc.paths[path]!.post!.responses[String(res.status)]!.content!["application/json"]!.schema);
      expect(documented.error?.enum, `${path} ${res.status} documents ${expected}`).toContain(expected);
    }
  });

  it("every documented operation is a real route (none answers the router's 404)", async () => {
    const doc = await openapi();
    const token = await systemToken();
    let n = 0;
    for (const [template, ops] of Object.entries(doc.paths)) {
      // Path values that exist nowhere, except the system API's own tenant (else its guard answers before the router).
      const path = template.replace(/\{(\w+)\}/g, (_, name: string) =>
        name === "tid" && template.startsWith("/api/identity/{tid}/") ? "default" : `doc-check-${name}`,
      );
      for (const method of Object.keys(ops)) {
        const res = await SELF.fetch(`${ORIGIN}${path}`, {
          method: method.toUpperCase(),
          redirect: "manual",
          headers: { accept: "application/json", authorization: `Bearer ${token}` },
        });
        const text = await res.text();
        expect(res.status, `${method} ${path}`).toBeLessThan(500);
        const routerMiss = res.status === 404 && text.includes('"no such route"');
        expect(routerMiss, `${method} ${template} is documented but not routed`).toBe(false);
        n++;
      }
    }
    expect(n).toBeGreaterThan(40);
  });
});
