import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { auditStmt, type AuditType } from "../src/repo/audit";
import { signAccessToken } from "../src/crypto/jwt";
import { SoftAuthenticator } from "./authenticator";
import { call, expectError, json, ORIGIN, sys, systemToken, uid } from "./helpers/api";
import { enroll, newPool, newUser } from "./helpers/passkeys";
import { finish, newWorkspace, options, type Tokens } from "./helpers/signin";

type Event = {
  id: string;
  type: string;
  actor: string;
  pool_id: string | null;
  user_id: string | null;
  details: Record<string, unknown>;
  created_at: string;
};
type Page = { events: Event[]; next: string | null };

/** Tenants of their own (made through the tenants API), so event lists are exact whatever other files do. */
const T = uid("audit").toLowerCase();
const OTHER = uid("audit-other").toLowerCase();

const events = (query = "", tid = T, token?: string | null) => sys("GET", `/audit-events${query}`, { tid, token });
const page = async (query = "", tid = T) => json<Page>(await events(query, tid));

/** Every event of the tenant, following the cursor. */
async function all(query = "", tid = T, limit = 200): Promise<Event[]> {
  const out: Event[] = [];
  let after: string | null = null;
  do {
    const q = new URLSearchParams(query);
    q.set("limit", String(limit));
    if (after) q.set("after", after);
    const p: Page = await page(`?${q}`, tid);
    out.push(...p.events);
    after = p.next;
  } while (after);
  return out;
}

/** Newest first by (created_at, id). */
function expectOrdered(list: Event[]): void {
  for (let i = 1; i < list.length; i++) {
    const a = list[i - 1]!,
      b = list[i]!;
    expect(
      a.created_at > b.created_at || (a.created_at === b.created_at && a.id > b.id),
      `${a.created_at}/${a.id} before ${b.created_at}/${b.id}`,
    ).toBe(true);
  }
}

const createTenant = async (id: string) =>
  call("POST", "/api/identity/system/tenants", { token: await systemToken(), body: { id, name: `Tenant ${id}` } });

beforeAll(async () => {
  for (const id of [T, OTHER]) await json(await createTenant(id), 201);
});

describe("audit events", () => {
  it("records every audited action, newest first, with the contract's shape", async () => {
    const pool = await newPool({ authentication_mechanisms: ["webauthn"] }, T);
    expect((await sys("PUT", `/pools/${pool}`, { tid: T, body: { description: "changed" } })).status).toBe(200);
    const wid = await newWorkspace(["usernameless_webauthn"], [pool], T);
    expect((await sys("PUT", `/workspaces/${wid}`, { tid: T, body: { name: "renamed" } })).status).toBe(200);
    const user = await newUser(pool, T);

    const auth = new SoftAuthenticator();
    const { credentials } = await enroll(auth, pool, user.id, "smart", {}, T);
    const cred = credentials[0]!;
    expect(
      (await sys("PUT", `/pools/${pool}/users/${user.id}/webauthn/${cred.id}/name`, { tid: T, body: { name: "Laptop" } })).status,
    ).toBe(204);

    // Sign-in: a success, a failure (wrong origin) and a sign count that did not increase (clone warning: also a failure).
    let opts = await options(wid, {}, T);
    await json<Tokens>(await finish(wid, opts.login_id, await auth.authenticate(opts.publicKey, { origin: ORIGIN }), T));
    opts = await options(wid, {}, T);
    await expectError(
      await finish(wid, opts.login_id, await auth.authenticate(opts.publicKey, { origin: "https://evil.example" }), T),
      401,
      "authentication_failed",
    );
    opts = await options(wid, {}, T);
    await expectError(
      await finish(wid, opts.login_id, await auth.authenticate(opts.publicKey, { origin: ORIGIN, signCount: 1 }), T),
      401,
      "authentication_failed",
    );

    // One-time code: requested, then a wrong code.
    expect((await sys("POST", `/pools/${pool}/user/webauthn/add/request`, { tid: T, body: { userID: user.id } })).status).toBe(204);
    const reg = await auth.register(
      (
        await json<{ publicKey: Parameters<SoftAuthenticator["register"]>[0] }>(
          await sys("POST", `/pools/${pool}/users/${user.id}/usernameless-webauthn/create/begin`, { tid: T }),
        )
      ).publicKey,
      { origin: ORIGIN },
    );
    await expectError(
      await sys("POST", `/pools/${pool}/user/webauthn/add/complete`, {
        tid: T,
        body: { userID: user.id, code: "00000000", new_web_authn: reg },
      }),
      401,
      "otp_invalid",
    );

    // Deactivation is audited once (inactive -> inactive is no change), then passkey, user, workspace, pool deletion.
    expect((await sys("PUT", `/pools/${pool}/users/${user.id}`, { tid: T, body: { status: "inactive" } })).status).toBe(200);
    expect((await sys("PUT", `/pools/${pool}/users/${user.id}`, { tid: T, body: { status: "inactive" } })).status).toBe(200);
    expect((await sys("DELETE", `/pools/${pool}/users/${user.id}/webauthn/${cred.id}`, { tid: T })).status).toBe(204);
    expect((await sys("DELETE", `/pools/${pool}/users/${user.id}`, { tid: T })).status).toBe(204);
    expect((await sys("DELETE", `/workspaces/${wid}`, { tid: T })).status).toBe(204);
    expect((await sys("DELETE", `/pools/${pool}`, { tid: T })).status).toBe(204);

    const list = await all();
    expectOrdered(list);
    const expected: AuditType[] = [
      "config.changed",
      "config.changed",
      "config.changed",
      "config.changed",
      "passkey.registered",
      "passkey.renamed",
      "signin.succeeded",
      "signin.failed",
      "signin.failed",
      "passkey.clone_warning",
      "otp.requested",
      "otp.failed",
      "user.deactivated",
      "passkey.deleted",
      "user.deleted",
      "config.changed",
      "config.changed",
    ];
    expect(list.map((e) => e.type).sort()).toEqual([...expected].sort());

    for (const e of list) {
      expect(Object.keys(e).sort()).toEqual(["actor", "created_at", "details", "id", "pool_id", "type", "user_id"]);
      expect(new Date(e.created_at).toISOString()).toBe(e.created_at);
    }
    const config = list.filter((e) => e.type === "config.changed").map((e) => e.details);
    expect(config).toEqual(
      expect.arrayContaining([
        { resource: "pool", id: pool, action: "create" },
        { resource: "pool", id: pool, action: "update" },
        { resource: "pool", id: pool, action: "delete" },
        { resource: "workspace", id: wid, action: "create" },
        { resource: "workspace", id: wid, action: "update" },
        { resource: "workspace", id: wid, action: "delete" },
      ]),
    );
    const system = `system:${env.SYSTEM_CLIENT_ID}`;
    expect(list.find((e) => e.type === "config.changed")!.actor).toBe(system);
    expect(list.find((e) => e.type === "user.deactivated")).toMatchObject({ actor: system, user_id: user.id, pool_id: pool });
    expect(list.find((e) => e.type === "user.deleted")).toMatchObject({ actor: system, user_id: user.id, pool_id: pool });
    const failed = list.filter((e) => e.type === "signin.failed");
    for (const f of failed) {
      expect(f.actor).toBe("anonymous");
      expect(f.details).toMatchObject({ workspace_id: wid, method: "passkey", reason: expect.any(String) });
    }
    expect(failed.map((f) => String(f.details.reason)).join("\n")).toMatch(/origin/i);
    expect(list.find((e) => e.type === "signin.succeeded")).toMatchObject({ user_id: user.id, pool_id: pool });
  });

  it("password sign-in failures are audited with their internal reason; the answers stay one 401", async () => {
    const pool = await newPool({ authentication_mechanisms: ["webauthn", "password"] }, T);
    const wid = await newWorkspace(["usernameless_webauthn", "password"], [pool], T);
    const user = await newUser(pool, T, { credentials: [{ type: "password", password: "correct horse battery" }] });
    const attempt = (identifier: string, pw: string) => call("POST", `/${T}/${wid}/login/password`, { body: { identifier, password: pw } });
    await expectError(await attempt(user.email, "wrong password!"), 401, "authentication_failed");
    await expectError(await attempt(`${uid("ghost")}@example.com`, "wrong password!"), 401, "authentication_failed");
    expect((await sys("PUT", `/pools/${pool}/users/${user.id}`, { tid: T, body: { status: "inactive" } })).status).toBe(200);
    await expectError(await attempt(user.email, "correct horse battery"), 401, "authentication_failed");
    const failed = (await all("type=signin.failed")).filter((e) => e.details.workspace_id === wid);
    expect(failed.map((e) => [e.details.method, e.details.reason, e.user_id]).reverse()).toEqual([
      ["password", "wrong password", user.id],
      ["password", "unknown identifier", null],
      ["password", "user is not active", user.id],
    ]);
  });

  it("filters by user and by type; a type nobody records is an empty page; malformed filters are 400", async () => {
    const pool = await newPool({}, T);
    const [a, b] = [await newUser(pool, T), await newUser(pool, T)];
    for (const u of [a, b])
      expect((await sys("PUT", `/pools/${pool}/users/${u.id}`, { tid: T, body: { status: "inactive" } })).status).toBe(200);
    expect((await sys("DELETE", `/pools/${pool}/users/${a.id}`, { tid: T })).status).toBe(204);

    const mine = await all(`user_id=${a.id}`);
    expect(mine.map((e) => e.type).sort()).toEqual(["user.deactivated", "user.deleted"]);
    expect(mine.every((e) => e.user_id === a.id)).toBe(true);

    const deactivated = await all("type=user.deactivated");
    expect(deactivated.every((e) => e.type === "user.deactivated")).toBe(true);
    expect(deactivated.map((e) => e.user_id)).toEqual(expect.arrayContaining([a.id, b.id]));
    expect(await all(`type=user.deleted&user_id=${b.id}`)).toEqual([]);
    expect((await page("?type=no.such_type")).events).toEqual([]);

    await expectError(await events("?type=Bad%20Type"), 400, "validation_failed");
    await expectError(await events("?user_id=not%20an%20id"), 400, "validation_failed");
    await expectError(await events("?limit=0"), 400, "validation_failed");
    await expectError(await events("?limit=201"), 400, "validation_failed");
    await expectError(await events("?limit=abc"), 400, "validation_failed");
  });

  it("pages with the cursor: stable over events of the same millisecond, default 50, no duplicates or gaps", async () => {
    const tid = uid("audit-pages").toLowerCase();
    await json(await createTenant(tid), 201);
    // 61 events: 40 sharing one millisecond (ties broken by id), the rest one per millisecond.
    const base = Date.now() - 100_000;
    const stmts = [];
    for (let i = 0; i < 61; i++) {
      stmts.push(auditStmt(env.DB, { tenantId: tid, actor: "test", type: "config.changed", details: { n: i } }, i < 40 ? base : base + i));
    }
    await env.DB.batch(stmts);

    const first = await page("", tid);
    expect(first.events).toHaveLength(50);
    expect(first.next).toEqual(expect.any(String));
    const second = await page(`?after=${encodeURIComponent(first.next!)}`, tid);
    expect(second.next).toBeNull();
    expect(first.events.length + second.events.length).toBe(61);

    for (const limit of [1, 7, 40, 200]) {
      const list = await all("", tid, limit);
      expect(list).toHaveLength(61);
      expect(new Set(list.map((e) => e.id)).size).toBe(61);
      expectOrdered(list);
      expect(list.map((e) => e.id)).toEqual([...first.events, ...second.events].map((e) => e.id));
    }

    // An event newer than the cursor does not shift the following page.
    const p1 = await page("?limit=10", tid);
    await auditStmt(env.DB, { tenantId: tid, actor: "test", type: "config.changed" }, Date.now()).run();
    const p2 = await page(`?limit=10&after=${encodeURIComponent(p1.next!)}`, tid);
    const again = await all("", tid, 200);
    expect(p2.events.map((e) => e.id)).toEqual(again.slice(11, 21).map((e) => e.id));
  });

  it("answers 400 for a cursor it did not make", async () => {
    for (const bad of ["x", "!!!", "MTIz", "bm90LWEtY3Vyc29y", "A".repeat(201), `${"9".repeat(20)}`]) {
      await expectError(await events(`?after=${encodeURIComponent(bad)}`), 400, "validation_failed");
    }
  });

  it("keeps tenants apart: another tenant's token is 404, its user ids and cursors find nothing", async () => {
    const pool = await newPool({}, T);
    const user = await newUser(pool, T);
    expect((await sys("DELETE", `/pools/${pool}/users/${user.id}`, { tid: T })).status).toBe(204);
    expect((await all(`user_id=${user.id}`)).length).toBe(1);

    await expectError(await events("", T, await systemToken(OTHER)), 404, "not_found");
    expect((await page(`?user_id=${user.id}`, OTHER)).events).toEqual([]);
    const mine = await page("?limit=1");
    const theirs = await all("", OTHER);
    const viaCursor = await page(`?after=${encodeURIComponent(mine.next!)}`, OTHER);
    expect(viaCursor.events.every((e) => theirs.some((t) => t.id === e.id))).toBe(true);
  });

  it("needs a token with scope identity (401 without, 403 with a user token)", async () => {
    await expectError(await events("", T, null), 401, "unauthorized");
    const admin = await newUser("admins", T);
    const now = Date.now();
    const token = await signAccessToken(
      { db: env.DB, secret: env.KEY_ENCRYPTION_SECRET },
      `${ORIGIN}/${T}`,
      {
        sub: admin.id,
        tid: T,
        wid: "admin",
        pool_id: "admins",
        scope: "view_ss_profile manage_ss_profile",
        amr: ["pop"],
        auth_time: Math.floor(now / 1000),
      },
      900,
      now,
    );
    await expectError(await events("", T, token), 403, "insufficient_scope");
  });

  it("still answers 401 to a failed passkey sign-in when the audit write fails", async () => {
    const tid = uid("audit-fail").toLowerCase();
    await json(await createTenant(tid), 201);
    const pool = await newPool({ authentication_mechanisms: ["webauthn"] }, tid);
    const wid = await newWorkspace(["usernameless_webauthn"], [pool], tid);
    const user = await newUser(pool, tid);
    const auth = new SoftAuthenticator();
    await enroll(auth, pool, user.id, "smart", {}, tid);

    // A real storage failure, for this tenant's failed sign-ins only.
    const trigger = `audit_fail_${tid.replace(/[^a-z0-9]/g, "_")}`;
    await env.DB.prepare(`CREATE TRIGGER ${trigger} BEFORE INSERT ON audit_events WHEN NEW.tenant_id = '${tid}' AND NEW.type = 'signin.failed'
      BEGIN SELECT RAISE(ABORT, 'audit unavailable'); END`).run();
    try {
      const opts = await options(wid, {}, tid);
      await expectError(
        await finish(wid, opts.login_id, await auth.authenticate(opts.publicKey, { origin: "https://evil.example" }), tid),
        401,
        "authentication_failed",
      );
    } finally {
      await env.DB.prepare(`DROP TRIGGER ${trigger}`).run();
    }
    expect((await all("type=signin.failed", tid)).length).toBe(0);
    // With the audit working again, the same failure is recorded.
    const opts = await options(wid, {}, tid);
    await expectError(
      await finish(wid, opts.login_id, await auth.authenticate(opts.publicKey, { origin: "https://evil.example" }), tid),
      401,
      "authentication_failed",
    );
    expect((await all("type=signin.failed", tid)).length).toBe(1);
  });
});
