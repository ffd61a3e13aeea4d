import { describe, expect, it } from "vitest";
import { expectError, json, sys, uid } from "./helpers/api";

type Workspace = {
  id: string;
  tenant_id: string;
  name: string;
  authentication_mechanisms: string[];
  identity_pools: string[];
  passkey_mode: string | null;
  created_at: string;
  updated_at: string;
};

async function newPool(): Promise<string> {
  return (await json<{ id: string }>(await sys("POST", "/pools", { body: { name: uid("pool") } }), 201)).id;
}

describe("workspaces", () => {
  it("shows the seeded default workspace in Smart mode with pool default", async () => {
    const ws = await json<Workspace>(await sys("GET", "/workspaces/default"));
    expect(ws).toMatchObject({
      id: "default",
      tenant_id: "default",
      authentication_mechanisms: ["usernameless_webauthn", "password"],
      identity_pools: ["default"],
      passkey_mode: "smart",
    });
  });

  it("creates, reads, lists, switches mode, and deletes", async () => {
    const pool = await newPool();
    const ws = await json<Workspace>(
      await sys("POST", "/workspaces", {
        body: { name: "Shop", authentication_mechanisms: ["webauthn", "password"], identity_pools: [pool] },
      }),
      201,
    );
    expect(ws).toMatchObject({
      tenant_id: "default",
      name: "Shop",
      authentication_mechanisms: ["webauthn", "password"],
      identity_pools: [pool],
      passkey_mode: "classic",
    });
    expect(await json(await sys("GET", `/workspaces/${ws.id}`))).toEqual(ws);
    expect((await json<{ workspaces: Workspace[] }>(await sys("GET", "/workspaces"))).workspaces.map((w) => w.id)).toContain(ws.id);

    const smart = await json<Workspace>(
      await sys("PUT", `/workspaces/${ws.id}`, { body: { authentication_mechanisms: ["usernameless_webauthn"] } }),
    );
    expect(smart).toMatchObject({ passkey_mode: "smart", identity_pools: [pool], name: "Shop" });
    const none = await json<Workspace>(
      await sys("PUT", `/workspaces/${ws.id}`, { body: { authentication_mechanisms: ["password"], identity_pools: [] } }),
    );
    expect(none).toMatchObject({ passkey_mode: null, identity_pools: [] });

    expect((await sys("DELETE", `/workspaces/${ws.id}`)).status).toBe(204);
    await expectError(await sys("GET", `/workspaces/${ws.id}`), 404, "not_found");
  });

  it("defaults to Smart mode", async () => {
    expect((await json<Workspace>(await sys("POST", "/workspaces", { body: { name: "w" } }), 201)).passkey_mode).toBe("smart");
  });

  it("refuses the id `system` (the path of the tenant's system API) with 400, and creates nothing", async () => {
    const body = await expectError(await sys("POST", "/workspaces", { body: { id: "system", name: "System" } }), 400, "validation_failed");
    expect(JSON.stringify(body.details)).toContain("reserved");
    await expectError(await sys("GET", "/workspaces/system"), 404, "not_found");
    expect((await json<Workspace>(await sys("POST", "/workspaces", { body: { id: uid("systems"), name: "S" } }), 201)).name).toBe("S");
  });

  it("rejects both passkey modes at once with 422 passkey_mode_conflict, on create and update, storing nothing", async () => {
    const body = await expectError(
      await sys("POST", "/workspaces", { body: { name: "w", authentication_mechanisms: ["webauthn", "usernameless_webauthn"] } }),
      422,
      "passkey_mode_conflict",
    );
    expect(body.details.field).toBe("authentication_mechanisms");
    const ws = await json<Workspace>(
      await sys("POST", "/workspaces", { body: { name: "w", authentication_mechanisms: ["webauthn"] } }),
      201,
    );
    await expectError(
      await sys("PUT", `/workspaces/${ws.id}`, { body: { authentication_mechanisms: ["usernameless_webauthn", "webauthn"] } }),
      422,
      "passkey_mode_conflict",
    );
    expect((await json<Workspace>(await sys("GET", `/workspaces/${ws.id}`))).authentication_mechanisms).toEqual(["webauthn"]);
  });

  it("rejects unknown or foreign identity pools with 422", async () => {
    const foreign = (await json<{ id: string }>(await sys("POST", "/pools", { tid: "other", body: { name: "theirs" } }), 201)).id;
    const body = await expectError(
      await sys("POST", "/workspaces", { body: { name: "w", identity_pools: [foreign] } }),
      422,
      "unknown_identity_pool",
    );
    expect(body.details.field).toBe("identity_pools");
    await expectError(await sys("POST", "/workspaces", { body: { name: "w", identity_pools: ["nope"] } }), 422, "unknown_identity_pool");
  });

  it("409 workspace_exists for a taken id; 404 across tenants", async () => {
    const id = uid("w");
    await json(await sys("POST", "/workspaces", { body: { id, name: "w" } }), 201);
    await expectError(await sys("POST", "/workspaces", { body: { id, name: "w" } }), 409, "workspace_exists");
    await expectError(await sys("GET", `/workspaces/${id}`, { tid: "other" }), 404, "not_found");
    await expectError(await sys("DELETE", `/workspaces/${id}`, { tid: "other" }), 404, "not_found");
    expect((await sys("GET", `/workspaces/${id}`)).status).toBe(200);
  });
});
