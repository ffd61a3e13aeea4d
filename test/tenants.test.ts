import { env } from "cloudflare:test";
import { SignJWT, type JWK } from "jose";
import { describe, expect, it } from "vitest";
import { TENANT_TABLES } from "../src/repo/tenants";
import { signingKey } from "../src/crypto/keys";
import { signAccessToken } from "../src/crypto/jwt";
import { CLIENT_DEFAULTS } from "../src/domain/oidc";
import { insertClientFixture } from "./helpers/oidc-client";
import { insertOidcCode, redeemOidcCode } from "../src/repo/oidc-codes";
import { rememberConsent } from "../src/repo/oidc-consents";
import { createOidcSessionStmt } from "../src/repo/oidc-sessions";
import { fromB64url, SoftAuthenticator } from "./authenticator";
import { basic, call, CLIENT, expectError, expectOAuthError, json, ORIGIN, requestToken, sys, systemToken, uid } from "./helpers/api";
import { count, enroll, newPool, newUser } from "./helpers/passkeys";

type Tenant = { id: string; name: string; created_at: string };
type Client = { client_id: string; tenant_id: string; name: string; scopes: string[]; created_at: string; client_secret?: string };

const tenants = (method: string, path = "", opts: { token?: string | null; body?: unknown } = {}) =>
  call(method, `/api/identity/system/tenants${path}`, opts);

async function bootstrap(): Promise<string> {
  return systemToken("default");
}

async function newTenant(name = "Tenant B"): Promise<Tenant> {
  const id = uid("tenant").toLowerCase();
  return json<Tenant>(await tenants("POST", "", { token: await bootstrap(), body: { id, name } }), 201);
}

async function clientToken(tid: string, id: string, secret: string): Promise<string> {
  const res = await requestToken(tid, { grant_type: "client_credentials", scope: "identity" }, { authorization: basic(id, secret) });
  return (await json<{ access_token: string }>(res)).access_token;
}

async function newClient(tid: string, body: Record<string, unknown> = {}): Promise<Client> {
  return json<Client>(await sys("POST", "/clients", { tid, body }), 201);
}

async function jwksKids(tid: string): Promise<string[]> {
  return (await json<{ keys: JWK[] }>(await call("GET", `/${tid}/.well-known/jwks.json`))).keys.map((k) => k.kid!);
}

/** A token as an administrator's sign-in gives it (a real, active user of pool admins; scope identity). */
const adminUserToken = async (tid: string) => {
  const admin = await newUser("admins", tid);
  const now = Date.now();
  return signAccessToken(
    { db: env.DB, secret: env.KEY_ENCRYPTION_SECRET },
    `${ORIGIN}/${tid}`,
    {
      sub: admin.id,
      tid,
      wid: "admin",
      pool_id: "admins",
      scope: "identity view_ss_profile manage_ss_profile",
      amr: ["pop"],
      auth_time: Math.floor(now / 1000),
    },
    900,
    now,
  );
};

/** OIDC rows (no API makes them yet): a client of workspace admin, a session, a redeemed code, its refresh token, a consent. */
async function oidcRows(tenantId: string, userId: string, poolId: string): Promise<void> {
  const now = Date.now();
  const [workspaceId, clientId, sessionId, codeHash] = ["admin", uid("client"), uid("sid"), uid("code")];
  const [redirectUri, codeChallenge] = ["https://app.example.com/cb", "x".repeat(43)];
  const times = { createdAt: now, updatedAt: now };
  expect(
    await insertClientFixture(env.DB, {
      ...CLIENT_DEFAULTS,
      redirectUris: [redirectUri],
      tenantId,
      workspaceId,
      clientId,
      secretHash: "h",
      ...times,
    }),
  ).toBe("created");
  const facts = {
    tenantId,
    workspaceId,
    poolId,
    userId,
    authTime: now,
    amr: ["pop"],
    acr: "phr" as const,
    createdAt: now,
    expiresAt: now + 60_000,
  };
  await createOidcSessionStmt(env.DB, { id: sessionId, cookieHash: uid("cookie"), ...facts }).run();
  await insertOidcCode(env.DB, {
    ...facts,
    codeHash,
    clientId,
    redirectUri,
    codeChallenge,
    nonce: null,
    scope: "openid offline_access",
    sessionId,
  });
  const refreshToken = { tokenHash: uid("rt"), expiresAt: now + 60_000 };
  const redemption = { tenantId, workspaceId, clientId, codeHash, redirectUri, codeChallenge, familyId: uid("family"), refreshToken };
  expect(await redeemOidcCode(env.DB, redemption, now)).toMatchObject({ ok: true, refreshTokenIssued: true });
  await rememberConsent(env.DB, { tenantId, clientId, userId }, ["openid"], now);
}

describe("tenants API", () => {
  it("creates a tenant with its admins pool, Smart admin workspace and signing key; lists, reads, 409 on a taken id", async () => {
    const b = await newTenant("Acme");
    expect(b).toEqual({ id: b.id, name: "Acme", created_at: expect.any(String) });
    expect(new Date(b.created_at).toISOString()).toBe(b.created_at);
    expect(await json<Tenant>(await tenants("GET", `/${b.id}`, { token: await bootstrap() }))).toEqual(b);
    const list = await json<{ tenants: Tenant[] }>(await tenants("GET", "", { token: await bootstrap() }));
    expect(list.tenants).toEqual(expect.arrayContaining([b, expect.objectContaining({ id: "default" })]));
    await expectError(await tenants("POST", "", { token: await bootstrap(), body: { id: b.id, name: "again" } }), 409, "tenant_exists");
    await expectError(
      await tenants("POST", "", { token: await bootstrap(), body: { id: "default", name: "again" } }),
      409,
      "tenant_exists",
    );

    // Keys exist before the first token: ES256 and RS256.
    expect((await jwksKids(b.id)).length).toBe(2);
    const pools = await json<{ pools: { id: string; authentication_mechanisms: string[] }[] }>(await sys("GET", "/pools", { tid: b.id }));
    expect(pools.pools.map((p) => [p.id, p.authentication_mechanisms])).toEqual([["admins", ["webauthn"]]]);
    const ws = await json<{
      workspaces: { id: string; authentication_mechanisms: string[]; identity_pools: string[]; passkey_mode: string }[];
    }>(await sys("GET", "/workspaces", { tid: b.id }));
    expect(ws.workspaces).toEqual([
      expect.objectContaining({
        id: "admin",
        authentication_mechanisms: ["usernameless_webauthn"],
        identity_pools: ["admins"],
        passkey_mode: "smart",
      }),
    ]);
    // The admin workspace signs in (config answers).
    expect((await call("GET", `/${b.id}/admin/login/config`)).status).toBe(200);

    const generated = await json<Tenant>(await tenants("POST", "", { token: await bootstrap(), body: { name: "No id" } }), 201);
    expect(fromB64url(generated.id).length).toBe(16);

    await expectError(await tenants("POST", "", { token: await bootstrap(), body: { id: "bad id", name: "x" } }), 400, "validation_failed");
    await expectError(await tenants("POST", "", { token: await bootstrap(), body: { id: uid("t") } }), 400, "validation_failed");
    await expectError(await tenants("GET", "/no-such-tenant", { token: await bootstrap() }), 404, "not_found");
    await expectError(await tenants("DELETE", "/no-such-tenant", { token: await bootstrap() }), 404, "not_found");
    await expectError(await tenants("GET", "/bad%20id", { token: await bootstrap() }), 400, "invalid_path_parameter");
  });

  it("is for the bootstrap client only: any tenant's bootstrap token works; stored clients and administrators are 403", async () => {
    const b = await newTenant();
    // A bootstrap token from tenant B's token endpoint manages tenants too.
    expect((await tenants("GET", `/${b.id}`, { token: await systemToken(b.id) })).status).toBe(200);

    await expectError(await tenants("GET", "", { token: null }), 401, "unauthorized");
    await expectError(await tenants("GET", "", { token: "not.a.token" }), 401, "invalid_token");

    const stored = await newClient("default");
    const storedToken = await clientToken("default", stored.client_id, stored.client_secret!);
    expect((await sys("GET", "/pools", { token: storedToken })).status).toBe(200);
    for (const token of [storedToken, await adminUserToken("default")]) {
      await expectError(await tenants("GET", "", { token }), 403, "insufficient_scope");
      await expectError(await tenants("POST", "", { token, body: { name: "x" } }), 403, "insufficient_scope");
      await expectError(await tenants("DELETE", `/${b.id}`, { token }), 403, "insufficient_scope");
      await expectError(await sys("GET", "/clients", { token }), 403, "insufficient_scope");
      await expectError(await sys("POST", "/clients", { token, body: {} }), 403, "insufficient_scope");
      await expectError(await sys("DELETE", `/clients/${stored.client_id}`, { token }), 403, "insufficient_scope");
    }
    // A stored client cannot pass for the bootstrap client by its name.
    await expectOAuthError(
      await requestToken("default", { grant_type: "client_credentials" }, { authorization: basic(CLIENT.id, stored.client_secret!) }),
      401,
      "invalid_client",
    );
  });
});

describe("system clients API", () => {
  it("creates a client (secret once, high entropy), lists it without the secret, and deletes it", async () => {
    const b = await newTenant();
    const made = await newClient(b.id, { name: "CI" });
    expect(made).toEqual({
      client_id: made.client_id,
      tenant_id: b.id,
      name: "CI",
      scopes: ["identity"],
      created_at: expect.any(String),
      client_secret: expect.any(String),
    });
    expect(fromB64url(made.client_id).length).toBeGreaterThanOrEqual(16);
    expect(fromB64url(made.client_secret!).length).toBeGreaterThanOrEqual(16);
    const row = await env.DB.prepare("SELECT secret_hash FROM system_clients WHERE tenant_id = ? AND client_id = ?")
      .bind(b.id, made.client_id)
      .first<{ secret_hash: string }>();
    expect(row!.secret_hash).not.toContain(made.client_secret!);

    const listed = await json<{ clients: Client[] }>(await sys("GET", "/clients", { tid: b.id }));
    const { client_secret: _s, ...withoutSecret } = made;
    expect(listed.clients).toEqual([withoutSecret]);
    expect(JSON.stringify(listed)).not.toContain(made.client_secret!);

    // Its token works on its tenant only.
    const token = await clientToken(b.id, made.client_id, made.client_secret!);
    expect((await sys("GET", "/pools", { tid: b.id, token })).status).toBe(200);
    await expectError(await sys("GET", "/pools", { tid: "default", token }), 404, "not_found");
    await expectOAuthError(
      await requestToken("default", { grant_type: "client_credentials" }, { authorization: basic(made.client_id, made.client_secret!) }),
      401,
      "invalid_client",
    );

    expect((await sys("DELETE", `/clients/${made.client_id}`, { tid: b.id })).status).toBe(204);
    await expectError(await sys("DELETE", `/clients/${made.client_id}`, { tid: b.id }), 404, "not_found");
    await expectOAuthError(
      await requestToken(b.id, { grant_type: "client_credentials" }, { authorization: basic(made.client_id, made.client_secret!) }),
      401,
      "invalid_client",
    );
    expect((await json<{ clients: Client[] }>(await sys("GET", "/clients", { tid: b.id }))).clients).toEqual([]);

    await expectError(await sys("POST", "/clients", { tid: b.id, body: { scopes: ["admin"] } }), 400, "validation_failed");
    // Another tenant's client is not found under this tenant's path.
    const other = await newClient("default");
    await expectError(await sys("DELETE", `/clients/${other.client_id}`, { tid: b.id }), 404, "not_found");
  });
});

describe("tenant isolation", () => {
  it("reaches nothing of tenant A with tenant B's tokens, keys or ids", async () => {
    const b = await newTenant();
    // Tenant A (default): a pool, a user with a passkey.
    const poolA = await newPool();
    const userA = await newUser(poolA);
    const { credentials } = await enroll(new SoftAuthenticator(), poolA, userA.id, "smart");
    const passkeyA = credentials[0]!.id;
    // Tenant B: a pool and a user of its own.
    const poolB = await newPool({}, b.id);
    const userB = await newUser(poolB, b.id);

    const tokenB = await systemToken(b.id);
    for (const path of ["/pools", `/pools/${poolA}`, `/pools/${poolA}/users/${userA.id}`, "/workspaces", "/audit-events", "/clients"]) {
      await expectError(await sys("GET", path, { tid: "default", token: tokenB }), 404, "not_found");
    }
    await expectError(await sys("DELETE", `/pools/${poolA}/users/${userA.id}`, { tid: "default", token: tokenB }), 404, "not_found");

    // A's ids under B's paths.
    await expectError(await sys("GET", `/pools/${poolA}`, { tid: b.id }), 404, "not_found");
    await expectError(await sys("GET", `/pools/${poolA}/users/${userA.id}`, { tid: b.id }), 404, "not_found");
    await expectError(await sys("GET", `/pools/${poolB}/users/${userA.id}`, { tid: b.id }), 404, "not_found");
    await expectError(await sys("DELETE", `/pools/${poolB}/users/${userB.id}/webauthn/${passkeyA}`, { tid: b.id }), 404, "not_found");
    await expectError(
      await sys("PUT", `/pools/${poolB}/users/${userB.id}/webauthn/${passkeyA}/name`, { tid: b.id, body: { name: "mine" } }),
      404,
      "not_found",
    );
    expect((await json<{ events: unknown[] }>(await sys("GET", `/audit-events?user_id=${userA.id}`, { tid: b.id }))).events).toEqual([]);
    expect(await count("credentials", "id = ?", passkeyA)).toBe(1);

    // Keys differ; a token signed with B's key that claims tenant A is refused.
    const kidsA = await jwksKids("default");
    const kidsB = await jwksKids(b.id);
    expect(kidsB.length).toBe(2);
    expect(kidsB.filter((k) => kidsA.includes(k))).toEqual([]);
    const now = Date.now();
    const { kid, key } = await signingKey({ db: env.DB, secret: env.KEY_ENCRYPTION_SECRET }, b.id, now);
    const forged = await new SignJWT({ sub: CLIENT.id, tid: "default", scope: "identity", client_id: CLIENT.id })
      .setProtectedHeader({ alg: "ES256", kid, typ: "at+jwt" })
      .setIssuer(`${ORIGIN}/default`)
      .setIssuedAt(Math.floor(now / 1000))
      .setExpirationTime(Math.floor(now / 1000) + 600)
      .sign(key);
    await expectError(await sys("GET", "/pools", { tid: "default", token: forged }), 401, "invalid_token");
    await expectError(await tenants("GET", "", { token: forged }), 401, "invalid_token");
    // The same token with B's tenant and issuer is fine (the forgery fails on the tenant, not the format).
    const honest = await new SignJWT({ sub: CLIENT.id, tid: b.id, scope: "identity", client_id: CLIENT.id })
      .setProtectedHeader({ alg: "ES256", kid, typ: "at+jwt" })
      .setIssuer(`${ORIGIN}/${b.id}`)
      .setIssuedAt(Math.floor(now / 1000))
      .setExpirationTime(Math.floor(now / 1000) + 600)
      .sign(key);
    expect((await sys("GET", "/pools", { tid: b.id, token: honest })).status).toBe(200);
  });

  it("lists every table that has a tenant_id column in TENANT_TABLES", async () => {
    const tables = (
      await env.DB.prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name <> 'd1_migrations'",
      ).all<{ name: string }>()
    ).results.map((r) => r.name);
    const withTenant: string[] = [];
    for (const t of tables) {
      const cols = (await env.DB.prepare(`SELECT name FROM pragma_table_info('${t}')`).all<{ name: string }>()).results.map((c) => c.name);
      if (cols.includes("tenant_id")) withTenant.push(t);
    }
    expect(withTenant.length).toBeGreaterThan(5);
    expect([...withTenant].sort()).toEqual([...TENANT_TABLES].sort());
  });

  it("deletes everything a tenant holds, and nothing of another tenant", async () => {
    const b = await newTenant();
    const pool = await newPool({}, b.id);
    const user = await newUser(pool, b.id, { credentials: [{ type: "password", password: "correct horse battery staple" }] });
    await enroll(new SoftAuthenticator(), pool, user.id, "smart", {}, b.id);
    expect((await sys("POST", `/pools/${pool}/user/webauthn/add/request`, { tid: b.id, body: { userID: user.id } })).status).toBe(204);
    await newClient(b.id);
    expect((await sys("PUT", `/pools/${pool}/users/${user.id}`, { tid: b.id, body: { status: "inactive" } })).status).toBe(200);
    // Rows a tenant may hold that the API above did not make: a counter.
    await env.DB.prepare(
      "INSERT INTO rate_counters (tenant_id, key, window_start, count, refused, expires_at) VALUES (?, 'test', 0, 1, 0, ?)",
    )
      .bind(b.id, Date.now() + 60_000)
      .run();
    // A pending passkey sign-up (issue 12).
    await env.DB.prepare(
      `INSERT INTO signups (id, tenant_id, workspace_id, pool_id, address, address_key, user_id, user_handle, code_hash, expires_at, created_at)
       VALUES (?, ?, 'w', ?, 'a@example.com', 'a@example.com', 'u', 'h', 'x', ?, 0)`,
    )
      .bind(`signup-${b.id}`, b.id, pool, Date.now() + 60_000)
      .run();
    await oidcRows(b.id, user.id, pool);

    const rows = async (tid: string) =>
      Object.fromEntries(await Promise.all(TENANT_TABLES.map(async (t) => [t, await count(t, "tenant_id = ?", tid)] as const)));
    const before = await rows(b.id);
    const defaultBefore = await rows("default");
    // Every tenant table holds rows of B (the test above proves TENANT_TABLES lists every table with tenant_id).
    for (const t of TENANT_TABLES) {
      expect(before[t], t).toBeGreaterThan(0);
    }

    const bToken = await systemToken(b.id);
    expect((await sys("GET", "/pools", { tid: b.id, token: bToken })).status).toBe(200);
    expect((await tenants("DELETE", `/${b.id}`, { token: await bootstrap() })).status).toBe(204);
    // The deleted tenant's token stops at once, although this isolate still caches its verification key.
    await expectError(await sys("GET", "/pools", { tid: b.id, token: bToken }), 401, "invalid_token");
    await expectError(await sys("POST", "/pools", { tid: b.id, token: bToken, body: { name: "ghost" } }), 401, "invalid_token");
    const after = await rows(b.id);
    expect(after).toEqual(Object.fromEntries(TENANT_TABLES.map((t) => [t, 0])));
    expect(await count("tenants", "id = ?", b.id)).toBe(0);
    // Nothing of tenant default went (other tests may only add to it meanwhile).
    const defaultAfter = await rows("default");
    for (const t of TENANT_TABLES) expect(defaultAfter[t]!, t).toBeGreaterThanOrEqual(defaultBefore[t]!);

    await expectError(await tenants("GET", `/${b.id}`, { token: await bootstrap() }), 404, "not_found");
    await expectError(await tenants("DELETE", `/${b.id}`, { token: await bootstrap() }), 404, "not_found");
    await expectOAuthError(
      await requestToken(b.id, { grant_type: "client_credentials", scope: "identity" }, { authorization: basic(CLIENT.id, CLIENT.secret) }),
      404,
      "not_found",
    );
    await expectError(await call("GET", `/${b.id}/.well-known/jwks.json`), 404, "not_found");
  });
});
