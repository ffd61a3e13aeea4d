/** OIDC clients through the system API (../shared/api.md "Clients"): every rule, secrets shown once, isolation. */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { getOidcClient } from "../src/repo/oidc-clients";
import { verifyOidcClientSecret } from "../src/services/oidc-clients";
import { call, expectError, json, sys, uid } from "./helpers/api";

type Client = {
  client_id: string;
  tenant_id: string;
  workspace_id: string;
  client_name: string;
  redirect_uris: string[];
  post_logout_redirect_uris: string[];
  grant_types: string[];
  token_endpoint_auth_method: string;
  scopes: string[];
  id_token_signed_response_alg: string;
  trusted: boolean;
  created_at: string;
  updated_at: string;
  client_secret?: string;
};

const CLIENT_KEYS = [
  "client_id",
  "client_name",
  "created_at",
  "grant_types",
  "id_token_signed_response_alg",
  "post_logout_redirect_uris",
  "redirect_uris",
  "scopes",
  "tenant_id",
  "token_endpoint_auth_method",
  "trusted",
  "updated_at",
  "workspace_id",
];

async function newWorkspace(tid = "default", id?: string): Promise<string> {
  return (await json<{ id: string }>(await sys("POST", "/workspaces", { tid, body: { id, name: uid("ws") } }), 201)).id;
}

const base = (wid: string) => `/workspaces/${wid}/clients`;

async function create(wid: string, body: Record<string, unknown>, tid = "default"): Promise<Client> {
  return json<Client>(await sys("POST", base(wid), { tid, body }), 201);
}

/** Whether `secret` is the stored secret of the client (the check the token endpoint uses). */
async function secretWorks(tid: string, wid: string, cid: string, secret: string): Promise<boolean> {
  return verifyOidcClientSecret(await getOidcClient(env.DB, tid, wid, cid), secret);
}

describe("OIDC clients: system API", () => {
  it("creates a confidential client with defaults; the secret is in the create answer only and stored hashed", async () => {
    const wid = await newWorkspace();
    const created = await create(wid, { client_name: " Shop ", redirect_uris: ["https://shop.example.com/cb"] });
    expect(Object.keys(created).sort()).toEqual([...CLIENT_KEYS, "client_secret"].sort());
    expect(created).toMatchObject({
      tenant_id: "default",
      workspace_id: wid,
      client_name: "Shop",
      redirect_uris: ["https://shop.example.com/cb"],
      post_logout_redirect_uris: [],
      grant_types: ["authorization_code"],
      token_endpoint_auth_method: "client_secret_basic",
      scopes: ["openid", "profile", "email"],
      id_token_signed_response_alg: "RS256",
      trusted: false,
    });
    expect(created.client_id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(created.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const secret = created.client_secret!;

    const { client_secret: _s, ...shown } = created;
    const got = await json<Client>(await sys("GET", `${base(wid)}/${created.client_id}`));
    expect(got).toEqual(shown);
    const listed = await json<{ clients: Client[] }>(await sys("GET", base(wid)));
    expect(listed.clients).toEqual([shown]);

    const row = await getOidcClient(env.DB, "default", wid, created.client_id);
    expect(row?.secretHash).toBeTruthy();
    expect(row?.secretHash).not.toContain(secret);
    expect(await secretWorks("default", wid, created.client_id, secret)).toBe(true);
    expect(await secretWorks("default", wid, created.client_id, `${secret}x`)).toBe(false);
  });

  it("creates a public client (none) without a secret, with every field set, and a chosen client_id", async () => {
    const wid = await newWorkspace();
    const cid = uid("spa");
    const body = {
      client_id: cid,
      client_name: "SPA",
      redirect_uris: ["http://localhost:5173/cb", "http://127.0.0.1:8080/cb", "http://[::1]/cb", "com.example.app:/oauth"],
      post_logout_redirect_uris: ["https://spa.example.com/"],
      grant_types: ["authorization_code", "refresh_token"],
      token_endpoint_auth_method: "none",
      scopes: ["openid", "offline_access", "view_ss_profile"],
      id_token_signed_response_alg: "ES256",
      trusted: true,
    };
    const created = await create(wid, body);
    expect(created).not.toHaveProperty("client_secret");
    expect(created).toMatchObject(body);
    expect((await getOidcClient(env.DB, "default", wid, cid))?.secretHash).toBeNull();
    expect(await secretWorks("default", wid, cid, "")).toBe(false);
    // A taken id is 409, also from another workspace of the tenant (client ids are unique per tenant).
    await expectError(await sys("POST", base(wid), { body }), 409, "client_exists");
    await expectError(await sys("POST", base(await newWorkspace()), { body }), 409, "client_exists");
    // A public client has no secret to rotate.
    await expectError(await sys("POST", `${base(wid)}/${cid}/secret`), 409, "public_client");
  });

  it.each([
    ["redirect_uris", { redirect_uris: [] }],
    ["redirect_uris", { redirect_uris: ["http://shop.example.com/cb"] }],
    ["redirect_uris", { redirect_uris: ["https://shop.example.com/cb#frag"] }],
    ["redirect_uris", { redirect_uris: ["javascript:alert(1)"] }],
    ["redirect_uris", { redirect_uris: ["data:text/html,hi"] }],
    ["redirect_uris", { redirect_uris: ["file:///etc/passwd"] }],
    ["redirect_uris", { redirect_uris: ["/relative/cb"] }],
    ["redirect_uris", { redirect_uris: ["https://user:pw@shop.example.com/cb"] }],
    ["redirect_uris", { redirect_uris: ["myapp:/cb"] }],
    ["redirect_uris", { redirect_uris: ["com.example.app://cb"] }],
    ["redirect_uris", { redirect_uris: ["https://ok.example.com/cb", "https://bad.example.com/ cb"] }],
    ["redirect_uris", { redirect_uris: Array.from({ length: 21 }, (_, i) => `https://shop.example.com/cb${i}`) }],
    ["post_logout_redirect_uris", { redirect_uris: ["https://shop.example.com/cb"], post_logout_redirect_uris: ["http://evil.example/"] }],
    ["grant_types", { redirect_uris: ["https://shop.example.com/cb"], grant_types: ["refresh_token"] }],
    ["scopes", { redirect_uris: ["https://shop.example.com/cb"], scopes: ["profile", "email"] }],
  ])("refuses %s with 422 naming the field (%j)", async (field, body) => {
    const wid = await newWorkspace();
    const err = await expectError(await sys("POST", base(wid), { body }), 422, "invalid_configuration");
    expect(err.details.field).toBe(field);
    expect((await json<{ clients: Client[] }>(await sys("GET", base(wid)))).clients).toEqual([]);
  });

  it.each([
    [{}, "redirect_uris"],
    [{ redirect_uris: "https://shop.example.com/cb" }, "redirect_uris"],
    [{ redirect_uris: ["https://shop.example.com/cb"], grant_types: ["implicit"] }, "grant_types"],
    [{ redirect_uris: ["https://shop.example.com/cb"], token_endpoint_auth_method: "private_key_jwt" }, "token_endpoint_auth_method"],
    [{ redirect_uris: ["https://shop.example.com/cb"], scopes: ["openid", "identity"] }, "scopes"],
    [{ redirect_uris: ["https://shop.example.com/cb"], id_token_signed_response_alg: "none" }, "id_token_signed_response_alg"],
    [{ redirect_uris: ["https://shop.example.com/cb"], trusted: "yes" }, "trusted"],
    [{ redirect_uris: ["https://shop.example.com/cb"], client_id: "bad id!" }, "client_id"],
  ])("refuses a schema violation with 400 naming the field (%j)", async (body, field) => {
    const err = await expectError(await sys("POST", base("default"), { body }), 400, "validation_failed");
    expect(JSON.stringify(err.details.fields)).toContain(field);
  });

  it("updates by merging, validates the merged registration, and switches between public and confidential", async () => {
    const wid = await newWorkspace();
    const created = await create(wid, {
      redirect_uris: ["https://shop.example.com/cb"],
      grant_types: ["authorization_code", "refresh_token"],
    });
    const cid = created.client_id;
    const first = created.client_secret!;
    const updated = await json<Client>(
      await sys("PUT", `${base(wid)}/${cid}`, {
        body: { redirect_uris: ["https://shop.example.com/cb", "https://shop.example.com/cb2"], trusted: true },
      }),
    );
    expect(updated).not.toHaveProperty("client_secret");
    expect(updated).toMatchObject({
      redirect_uris: ["https://shop.example.com/cb", "https://shop.example.com/cb2"],
      trusted: true,
      grant_types: ["authorization_code", "refresh_token"],
      token_endpoint_auth_method: "client_secret_basic",
      created_at: created.created_at,
    });
    expect(await secretWorks("default", wid, cid, first)).toBe(true);

    const err = await expectError(
      await sys("PUT", `${base(wid)}/${cid}`, { body: { redirect_uris: ["javascript:x"] } }),
      422,
      "invalid_configuration",
    );
    expect(err.details.field).toBe("redirect_uris");
    expect((await json<Client>(await sys("GET", `${base(wid)}/${cid}`))).redirect_uris).toEqual(updated.redirect_uris);

    // Public: the secret is gone. Confidential again: a new secret, shown in that answer only.
    const pub = await json<Client>(await sys("PUT", `${base(wid)}/${cid}`, { body: { token_endpoint_auth_method: "none" } }));
    expect(pub).not.toHaveProperty("client_secret");
    expect(await secretWorks("default", wid, cid, first)).toBe(false);
    const conf = await json<Client>(
      await sys("PUT", `${base(wid)}/${cid}`, { body: { token_endpoint_auth_method: "client_secret_post" } }),
    );
    expect(conf.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await secretWorks("default", wid, cid, conf.client_secret!)).toBe(true);
    expect(await json<Client>(await sys("GET", `${base(wid)}/${cid}`))).not.toHaveProperty("client_secret");
  });

  it("rotates the secret: the new one is returned once and works, the old one stops working", async () => {
    const wid = await newWorkspace();
    const created = await create(wid, { redirect_uris: ["https://shop.example.com/cb"] });
    const cid = created.client_id;
    const rotated = await json<Client>(await sys("POST", `${base(wid)}/${cid}/secret`), 200);
    expect(rotated.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(rotated.client_secret).not.toBe(created.client_secret);
    expect(await secretWorks("default", wid, cid, created.client_secret!)).toBe(false);
    expect(await secretWorks("default", wid, cid, rotated.client_secret!)).toBe(true);
    const again = await json<Client>(await sys("POST", `${base(wid)}/${cid}/secret`), 200);
    expect(await secretWorks("default", wid, cid, rotated.client_secret!)).toBe(false);
    expect(await secretWorks("default", wid, cid, again.client_secret!)).toBe(true);
    expect(await json<Client>(await sys("GET", `${base(wid)}/${cid}`))).not.toHaveProperty("client_secret");
    await expectError(await sys("POST", `${base(wid)}/${uid("nope")}/secret`), 404, "not_found");
  });

  it("deletes, then the client is gone (404) and its secret does not verify", async () => {
    const wid = await newWorkspace();
    const { client_id: cid, client_secret } = await create(wid, { redirect_uris: ["https://shop.example.com/cb"] });
    expect((await sys("DELETE", `${base(wid)}/${cid}`)).status).toBe(204);
    await expectError(await sys("GET", `${base(wid)}/${cid}`), 404, "not_found");
    await expectError(await sys("DELETE", `${base(wid)}/${cid}`), 404, "not_found");
    await expectError(await sys("PUT", `${base(wid)}/${cid}`, { body: { trusted: true } }), 404, "not_found");
    expect(await secretWorks("default", wid, cid, client_secret!)).toBe(false);
  });

  it("deleting the workspace answers 204 and removes its clients (D1 counts the cascaded rows in changes)", async () => {
    const wid = await newWorkspace();
    const c = await create(wid, { client_name: "Gone", redirect_uris: ["https://gone.example.com/cb"] });
    expect((await sys("DELETE", `/workspaces/${wid}`)).status).toBe(204);
    expect(await getOidcClient(env.DB, "default", wid, c.client_id)).toBeUndefined();
    await expectError(await sys("DELETE", `/workspaces/${wid}`), 404, "not_found");
  });

  it("isolates workspaces and tenants: another workspace's or tenant's client is 404 for every verb", async () => {
    const wid = await newWorkspace();
    const sibling = await newWorkspace();
    const { client_id: cid, client_secret } = await create(wid, { redirect_uris: ["https://shop.example.com/cb"] });
    await newWorkspace("other", wid); // the same workspace id in tenant "other"
    for (const [tid, w] of [
      ["default", sibling],
      ["other", wid],
    ] as const) {
      await expectError(await sys("GET", `${base(w)}/${cid}`, { tid }), 404, "not_found");
      await expectError(await sys("PUT", `${base(w)}/${cid}`, { tid, body: { trusted: true } }), 404, "not_found");
      await expectError(await sys("POST", `${base(w)}/${cid}/secret`, { tid }), 404, "not_found");
      await expectError(await sys("DELETE", `${base(w)}/${cid}`, { tid }), 404, "not_found");
      expect((await json<{ clients: Client[] }>(await sys("GET", base(w), { tid }))).clients).toEqual([]);
    }
    // Unknown workspace: list and create are 404.
    await expectError(await sys("GET", base(uid("nows"))), 404, "not_found");
    await expectError(await sys("POST", base(uid("nows")), { body: { redirect_uris: ["https://a.example.com/cb"] } }), 404, "not_found");
    // Nothing changed, and the secret still works.
    const still = await json<Client>(await sys("GET", `${base(wid)}/${cid}`));
    expect(still.trusted).toBe(false);
    expect(await secretWorks("default", wid, cid, client_secret!)).toBe(true);
  });

  it("needs a token with scope identity; bad path ids are 400", async () => {
    await expectError(await sys("GET", base("default"), { token: null }), 401, "unauthorized");
    await expectError(await call("GET", `/api/identity/default/system${base("default")}`, { token: "not-a-jwt" }), 401, "invalid_token");
    await expectError(await sys("GET", `${base("default")}/bad%20id`), 400, "invalid_path_parameter");
    await expectError(
      await sys("POST", base("default"), { rawBody: "redirect_uris=x", headers: { "content-type": "application/x-www-form-urlencoded" } }),
      415,
      "unsupported_media_type",
    );
  });

  it("the dev seed registers example-app (confidential, documented dev secret) and example-spa (public)", async () => {
    const app = await json<Client>(await sys("GET", `${base("default")}/example-app`));
    expect(app).toMatchObject({
      redirect_uris: ["http://localhost:3000/callback"],
      post_logout_redirect_uris: ["http://localhost:3000/"],
      grant_types: ["authorization_code", "refresh_token"],
      token_endpoint_auth_method: "client_secret_basic",
      scopes: ["openid", "profile", "email", "offline_access"],
      id_token_signed_response_alg: "RS256",
      trusted: true,
    });
    expect(await secretWorks("default", "default", "example-app", "example-app-secret-dev-only")).toBe(true);
    const spa = await json<Client>(await sys("GET", `${base("default")}/example-spa`));
    expect(spa).toMatchObject({ token_endpoint_auth_method: "none", redirect_uris: ["http://localhost:3000/callback"] });
    expect((await getOidcClient(env.DB, "default", "default", "example-spa"))?.secretHash).toBeNull();
  });

  it("documents the routes in the OpenAPI document", async () => {
    const doc = await json<{ paths: Record<string, Record<string, unknown>> }>(await call("GET", "/openapi.json"));
    const list = doc.paths["/api/identity/{tid}/system/workspaces/{wid}/clients"];
    const one = doc.paths["/api/identity/{tid}/system/workspaces/{wid}/clients/{cid}"];
    const secret = doc.paths["/api/identity/{tid}/system/workspaces/{wid}/clients/{cid}/secret"];
    expect(Object.keys(list ?? {}).sort()).toEqual(["get", "post"]);
    expect(Object.keys(one ?? {}).sort()).toEqual(["delete", "get", "put"]);
    expect(Object.keys(secret ?? {})).toEqual(["post"]);
  });
});
