/**
 * Storage faults, configuration writes of the system API (the other fault suites: test/faults-*.test.ts). For each
 * write (pool create/update/delete, workspace create/update/delete, system client create/delete, OIDC client
 * create/update/secret rotation/delete), a clean run through the wrapped bindings (test/helpers/faults.ts) counts the
 * request's storage calls; then a fault is injected at every call index k = 0..n-1 in turn, once before the call
 * reaches storage and once after it took effect (the answer lost on the way back). Properties, for every fault point:
 *   - the answer is 503 storage_unavailable with Retry-After, or the write's success; never another 5xx;
 *   - nothing partial: audit_events and the written tables (pools, workspaces, workspace_pools, system_clients,
 *     oidc_clients) changed either not at all or exactly as in the clean run. In particular a configuration change is
 *     never committed without its `config.changed` event (the event joins the change's batch, src/repo/*);
 *   - a success leaves exactly one event of that change (`committed`);
 *   - the same request again succeeds, or (create after a lost answer, delete after a lost answer) gives the answer a
 *     client then must get: 409 <resource>_exists, 404 not_found; afterwards the change and its event are both there.
 * The Worker is driven through its real entrypoint with the wrapped env (dispatch in test/helpers/fuzz.ts).
 */
import { env } from "cloudflare:test";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemToken, uid } from "./helpers/api";
import { faultSweep, ok, quietInjectedFaults, type Scenario, send, sysPath } from "./helpers/fault-sweep";
import { quietRequestLog, tableRows } from "./helpers/fuzz";

const { sweep, report } = faultSweep();
let SYS: string;
/** Pools and a workspace the scenarios link to (workspace pools, OIDC clients). */
let poolA: string;
let poolB: string;
let wid: string;

const REDIRECT = "https://app.example.com/cb";

type Resource = "pool" | "workspace" | "system_client" | "oidc_client";

/** The `config.changed` events of one change. */
const events = async (resource: Resource, id: string, action: string) =>
  (await env.DB.prepare(
    `SELECT count(*) AS n FROM audit_events WHERE type = 'config.changed'
       AND json_extract(details, '$.resource') = ? AND json_extract(details, '$.id') = ? AND json_extract(details, '$.action') = ?`,
  )
    .bind(resource, id, action)
    .first<{ n: number }>())!.n;

const exists = async (table: string, idColumn: string, id: string) =>
  (await env.DB.prepare(`SELECT count(*) AS n FROM ${table} WHERE tenant_id = 'default' AND ${idColumn} = ?`)
    .bind(id)
    .first<{ n: number }>())!.n === 1;

/** Sends with clean bindings and expects `status`; the body. */
const clean = async <T>(method: string, path: string, status: number, body?: unknown) =>
  ok<T>(await send(env, method, sysPath(path), { token: SYS, body }), status);

const newPool = async () => (await clean<{ id: string }>("POST", "/pools", 201, { name: uid("pool") })).id;
const newWorkspace = async () => (await clean<{ id: string }>("POST", "/workspaces", 201, { name: uid("ws"), identity_pools: [poolA] })).id;
const newSystemClient = async () => (await clean<{ client_id: string }>("POST", "/clients", 201, { name: uid("sc") })).client_id;
const newOidcClient = async () =>
  (await clean<{ client_id: string }>("POST", `/workspaces/${wid}/clients`, 201, { client_name: uid("app"), redirect_uris: [REDIRECT] }))
    .client_id;

/**
 * The retry of a create whose id the caller chose: 201 when the faulted request left nothing, else 409 `code` (the
 * lost answer's change is there, and it must be there with its one event).
 */
async function retryCreate(method: string, path: string, body: unknown, existed: boolean, code: string) {
  const res = await send(env, method, sysPath(path), { token: SYS, body });
  if (existed) expect((await ok<{ error_code: string }>(res, 409)).error_code).toBe(code);
  else await ok(res, 201);
}

/** The retry of a delete: 204 when the faulted request left the row, else 404 (it was deleted, with its event). */
async function retryDelete(path: string, existed: boolean) {
  const res = await send(env, "DELETE", sysPath(path), { token: SYS });
  if (existed) await ok(res, 204);
  else expect((await ok<{ error_code: string }>(res, 404)).error_code).toBe("not_found");
}

beforeAll(async () => {
  quietRequestLog();
  quietInjectedFaults();
  SYS = await systemToken();
  poolA = await newPool();
  poolB = await newPool();
  wid = await newWorkspace();
});

afterAll(() => report("faults (config)"));

describe("storage faults at every call of every configuration write", { timeout: 300_000 }, () => {
  const check = async <C>(s: Scenario<C>) => expect(await sweep(s)).toEqual([]);

  const pool = (id: string) => ({ id, name: `Pool ${id}` });
  it("pool create", () =>
    check({
      name: "pool create",
      prepare: async () => ({ id: uid("fp") }),
      step: (c, b) => send(b, "POST", sysPath("/pools"), { token: SYS, body: pool(c.id) }),
      success: 201,
      watch: ["pools"],
      committed: async (c) => expect(await events("pool", c.id, "create")).toBe(1),
      retry: async (c) => {
        await retryCreate("POST", "/pools", pool(c.id), await exists("pools", "id", c.id), "pool_exists");
        expect.soft(await events("pool", c.id, "create"), "the pool exists with one create event").toBe(1);
      },
    }));

  it("pool update", () =>
    check({
      name: "pool update",
      // A new name per run, so the change is visible in the row even when `now` did not move.
      prepare: async () => ({ id: await newPool(), name: uid("renamed") }),
      step: (c, b) => send(b, "PUT", sysPath(`/pools/${c.id}`), { token: SYS, body: { name: c.name } }),
      success: 200,
      watch: ["pools"],
      committed: async (c) => expect(await events("pool", c.id, "update")).toBe(1),
      retry: async (c) => {
        await clean("PUT", `/pools/${c.id}`, 200, { name: c.name });
        expect.soft(await events("pool", c.id, "update")).toBeGreaterThanOrEqual(1);
      },
    }));

  it("pool delete", () =>
    check({
      name: "pool delete",
      prepare: async () => ({ id: await newPool() }),
      step: (c, b) => send(b, "DELETE", sysPath(`/pools/${c.id}`), { token: SYS }),
      success: 204,
      watch: ["pools"],
      committed: async (c) => expect(await events("pool", c.id, "delete")).toBe(1),
      retry: async (c) => {
        await retryDelete(`/pools/${c.id}`, await exists("pools", "id", c.id));
        expect.soft(await events("pool", c.id, "delete"), "the pool is gone with one delete event").toBe(1);
      },
    }));

  const workspace = (id: string) => ({ id, name: `Workspace ${id}`, identity_pools: [poolA] });
  const workspaceTables = ["workspaces", "workspace_pools"];
  it("workspace create", () =>
    check({
      name: "workspace create",
      prepare: async () => ({ id: uid("fw") }),
      step: (c, b) => send(b, "POST", sysPath("/workspaces"), { token: SYS, body: workspace(c.id) }),
      success: 201,
      watch: workspaceTables,
      committed: async (c) => expect(await events("workspace", c.id, "create")).toBe(1),
      retry: async (c) => {
        await retryCreate("POST", "/workspaces", workspace(c.id), await exists("workspaces", "id", c.id), "workspace_exists");
        expect.soft(await events("workspace", c.id, "create")).toBe(1);
      },
    }));

  it("workspace update", () =>
    check({
      name: "workspace update",
      prepare: async () => ({ id: await newWorkspace(), name: uid("renamed") }),
      // A new name and other pools: the row and its links change.
      step: (c, b) =>
        send(b, "PUT", sysPath(`/workspaces/${c.id}`), { token: SYS, body: { name: c.name, identity_pools: [poolB, poolA] } }),
      success: 200,
      watch: workspaceTables,
      committed: async (c) => expect(await events("workspace", c.id, "update")).toBe(1),
      retry: async (c) => {
        await clean("PUT", `/workspaces/${c.id}`, 200, { name: c.name, identity_pools: [poolB, poolA] });
        expect.soft(await events("workspace", c.id, "update")).toBeGreaterThanOrEqual(1);
      },
    }));

  it("workspace delete", () =>
    check({
      name: "workspace delete",
      prepare: async () => ({ id: await newWorkspace() }),
      step: (c, b) => send(b, "DELETE", sysPath(`/workspaces/${c.id}`), { token: SYS }),
      success: 204,
      watch: workspaceTables,
      committed: async (c) => expect(await events("workspace", c.id, "delete")).toBe(1),
      retry: async (c) => {
        await retryDelete(`/workspaces/${c.id}`, await exists("workspaces", "id", c.id));
        expect.soft(await events("workspace", c.id, "delete")).toBe(1);
      },
    }));

  it("system client create", () =>
    check({
      name: "system client create",
      prepare: async () => ({ name: uid("sc") }),
      step: (c, b) => send(b, "POST", sysPath("/clients"), { token: SYS, body: { name: c.name } }),
      success: 201,
      watch: ["system_clients"],
      committed: async (_c, res) => expect(await events("system_client", (res as { client_id: string }).client_id, "create")).toBe(1),
      // The id is generated: a retry after a lost answer makes a second client (the first one's secret was lost with
      // the answer; it is listed, with its create event, and an administrator deletes it).
      retry: async (c) => {
        const { client_id } = await clean<{ client_id: string }>("POST", "/clients", 201, { name: c.name });
        expect.soft(await events("system_client", client_id, "create")).toBe(1);
      },
    }));

  it("system client delete", () =>
    check({
      name: "system client delete",
      prepare: async () => ({ id: await newSystemClient() }),
      step: (c, b) => send(b, "DELETE", sysPath(`/clients/${c.id}`), { token: SYS }),
      success: 204,
      watch: ["system_clients"],
      committed: async (c) => expect(await events("system_client", c.id, "delete")).toBe(1),
      retry: async (c) => {
        await retryDelete(`/clients/${c.id}`, await exists("system_clients", "client_id", c.id));
        expect.soft(await events("system_client", c.id, "delete")).toBe(1);
      },
    }));

  const clients = (id = "") => `/workspaces/${wid}/clients${id ? `/${id}` : ""}`;
  const oidcClient = (id: string) => ({ client_id: id, client_name: `App ${id}`, redirect_uris: [REDIRECT] });
  it("OIDC client create", () =>
    check({
      name: "OIDC client create",
      prepare: async () => ({ id: uid("fc") }),
      step: (c, b) => send(b, "POST", sysPath(clients()), { token: SYS, body: oidcClient(c.id) }),
      success: 201,
      watch: ["oidc_clients"],
      committed: async (c) => expect(await events("oidc_client", c.id, "create")).toBe(1),
      retry: async (c) => {
        await retryCreate("POST", clients(), oidcClient(c.id), await exists("oidc_clients", "client_id", c.id), "client_exists");
        expect.soft(await events("oidc_client", c.id, "create")).toBe(1);
      },
    }));

  it("OIDC client update", () =>
    check({
      name: "OIDC client update",
      prepare: async () => ({ id: await newOidcClient(), name: uid("renamed") }),
      step: (c, b) => send(b, "PUT", sysPath(clients(c.id)), { token: SYS, body: { client_name: c.name } }),
      success: 200,
      watch: ["oidc_clients"],
      committed: async (c) => expect(await events("oidc_client", c.id, "update")).toBe(1),
      retry: async (c) => {
        await clean("PUT", clients(c.id), 200, { client_name: c.name });
        expect.soft(await events("oidc_client", c.id, "update")).toBeGreaterThanOrEqual(1);
      },
    }));

  it("OIDC client secret rotation", () =>
    check({
      name: "OIDC client secret rotation",
      prepare: async () => ({ id: await newOidcClient() }),
      step: (c, b) => send(b, "POST", sysPath(`${clients(c.id)}/secret`), { token: SYS }),
      success: 200,
      watch: ["oidc_clients"],
      committed: async (c) => expect(await events("oidc_client", c.id, "rotate_secret")).toBe(1),
      retry: async (c) => {
        await clean("POST", `${clients(c.id)}/secret`, 200);
        expect.soft(await events("oidc_client", c.id, "rotate_secret")).toBeGreaterThanOrEqual(1);
      },
    }));

  it("OIDC client delete", () =>
    check({
      name: "OIDC client delete",
      prepare: async () => ({ id: await newOidcClient() }),
      step: (c, b) => send(b, "DELETE", sysPath(clients(c.id)), { token: SYS }),
      success: 204,
      watch: ["oidc_clients"],
      committed: async (c) => expect(await events("oidc_client", c.id, "delete")).toBe(1),
      retry: async (c) => {
        await retryDelete(clients(c.id), await exists("oidc_clients", "client_id", c.id));
        expect.soft(await events("oidc_client", c.id, "delete")).toBe(1);
      },
    }));

  // The events are conditioned on the change in the batch (src/repo/*): a write refused there records nothing.
  it("a refused configuration write records no event", async () => {
    const taken = await newPool();
    const oidcTaken = await newOidcClient();
    const publicClient = (
      await clean<{ client_id: string }>("POST", `/workspaces/${wid}/clients`, 201, {
        redirect_uris: [REDIRECT],
        token_endpoint_auth_method: "none",
      })
    ).client_id;
    const refuse = async (method: string, path: string, status: number, code: string, body?: unknown) => {
      const res = await send(env, method, sysPath(path), { token: SYS, body });
      expect((await ok<{ error_code: string }>(res, status)).error_code, `${method} ${path}`).toBe(code);
    };
    const before = await tableRows(["audit_events"]);
    await refuse("POST", "/pools", 409, "pool_exists", { id: taken, name: "again" });
    await refuse("DELETE", `/pools/${poolA}`, 409, "pool_in_use");
    await refuse("DELETE", `/pools/${uid("none")}`, 404, "not_found");
    await refuse("POST", "/workspaces", 409, "workspace_exists", { id: wid, name: "again" });
    await refuse("DELETE", `/workspaces/${uid("none")}`, 404, "not_found");
    await refuse("DELETE", `/clients/${uid("none")}`, 404, "not_found");
    await refuse("POST", `/workspaces/${wid}/clients`, 409, "client_exists", { client_id: oidcTaken, redirect_uris: [REDIRECT] });
    await refuse("POST", `/workspaces/${uid("none")}/clients`, 404, "not_found", { redirect_uris: [REDIRECT] });
    await refuse("POST", `/workspaces/${wid}/clients/${publicClient}/secret`, 409, "public_client");
    await refuse("DELETE", `/workspaces/${wid}/clients/${uid("none")}`, 404, "not_found");
    expect(await tableRows(["audit_events"])).toEqual(before);
    // ... while each of the creates above recorded its one event.
    expect(await events("pool", taken, "create")).toBe(1);
    expect(await events("oidc_client", publicClient, "create")).toBe(1);
  });
});
