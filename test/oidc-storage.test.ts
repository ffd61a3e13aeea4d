import { createExecutionContext, createScheduledController, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { b64url, newId, randomBytes, sha256 } from "../src/crypto/bytes";
import { s256 } from "../src/crypto/pkce";
import { CLIENT_DEFAULTS } from "../src/domain/oidc";
import type { AuditEvent } from "../src/repo/audit";
import worker from "../src/index";
import {
  deleteOidcClient,
  getOidcClient,
  listOidcClients,
  type OidcClientRow,
  rotateOidcClientSecret,
  updateOidcClient,
} from "../src/repo/oidc-clients";
import { insertOidcCode, type OidcCodeRow, redeemOidcCode, sessionFacts } from "../src/repo/oidc-codes";
import { consentedScopes, hasConsent, rememberConsent } from "../src/repo/oidc-consents";
import { revokeRefreshFamily, rotateRefreshToken } from "../src/repo/oidc-refresh-tokens";
import {
  createOidcSessionStmt,
  endOidcSession,
  endUserOidcSessionsStmts,
  type OidcSessionRow,
  readAuthorizationContext,
  readValidOidcSession,
} from "../src/repo/oidc-sessions";
import { sys, uid } from "./helpers/api";
import { insertClientFixture } from "./helpers/oidc-client";
import { count, newUser } from "./helpers/passkeys";

const db = env.DB;
const T = "default";
const W = "default";
const REDIRECT = "https://app.example.com/cb";
const hash = async (s: string) => b64url(await sha256(s));
const secret = () => b64url(randomBytes(32));
/** The event the client writes record with their change (repo/oidc-clients.ts). */
const AUDIT: AuditEvent = { tenantId: T, actor: "test", type: "config.changed", details: { resource: "oidc_client" } };

async function newClient(over: Partial<OidcClientRow> = {}): Promise<OidcClientRow> {
  const now = Date.now();
  const row: OidcClientRow = {
    ...CLIENT_DEFAULTS,
    redirectUris: [REDIRECT],
    grantTypes: ["authorization_code", "refresh_token"],
    scopes: ["openid", "profile", "email", "offline_access"],
    tenantId: T,
    workspaceId: W,
    clientId: uid("client"),
    secretHash: await hash("s3cret"),
    createdAt: now,
    updatedAt: now,
    ...over,
  };
  expect(await insertClientFixture(db, row)).toBe("created");
  return row;
}

async function newSession(userId: string, over: Partial<OidcSessionRow> = {}): Promise<{ row: OidcSessionRow; cookie: string }> {
  const now = Date.now();
  const cookie = secret();
  const row: OidcSessionRow = {
    id: newId(),
    cookieHash: await hash(cookie),
    tenantId: T,
    workspaceId: W,
    poolId: "default",
    userId,
    authTime: now - 1000,
    amr: ["pop", "hwk", "user"],
    acr: "phrh",
    createdAt: now,
    expiresAt: now + 3_600_000,
    ...over,
  };
  await createOidcSessionStmt(db, row).run();
  return { row, cookie };
}

const VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

async function newCode(client: OidcClientRow, session: OidcSessionRow, over: Partial<OidcCodeRow> = {}) {
  const now = Date.now();
  const code = secret();
  await insertOidcCode(db, {
    codeHash: await hash(code),
    tenantId: T,
    workspaceId: W,
    clientId: client.clientId,
    redirectUri: REDIRECT,
    codeChallenge: (await s256(VERIFIER))!,
    nonce: "n-1",
    scope: "openid email offline_access",
    ...sessionFacts(session),
    createdAt: now,
    expiresAt: now + 60_000,
    ...over,
  });
  return code;
}

async function redeem(client: OidcClientRow, code: string, over: { verifier?: string; redirectUri?: string; clientId?: string } = {}) {
  const refresh = secret();
  const result = await redeemOidcCode(
    db,
    {
      tenantId: T,
      workspaceId: W,
      clientId: over.clientId ?? client.clientId,
      codeHash: await hash(code),
      redirectUri: over.redirectUri ?? REDIRECT,
      codeChallenge: (await s256(over.verifier ?? VERIFIER)) ?? "",
      familyId: newId(),
      refreshToken: { tokenHash: await hash(refresh), expiresAt: Date.now() + 86_400_000 },
    },
    Date.now(),
  );
  return { result, refresh };
}

async function rotate(client: OidcClientRow, token: string, clientId = client.clientId) {
  const next = secret();
  const result = await rotateRefreshToken(
    db,
    { tenantId: T, workspaceId: W, clientId, tokenHash: await hash(token) },
    { tokenHash: await hash(next), expiresAt: Date.now() + 86_400_000 },
    Date.now(),
  );
  return { result, next };
}

const liveTokens = (familyOrUser: string, column = "family_id") =>
  count("oidc_refresh_tokens", `${column} = ? AND revoked_at IS NULL`, familyOrUser);

/** A code redeemed once: the client, session, user and the refresh token it issued. */
async function redeemed() {
  const client = await newClient();
  const user = await newUser();
  const { row: session, cookie } = await newSession(user.id);
  const code = await newCode(client, session);
  const { result, refresh } = await redeem(client, code);
  if (!result.ok) throw new Error("setup: redemption failed");
  return { client, user, session, cookie, code, refresh, familyId: result.code.familyId! };
}

describe("OIDC clients", () => {
  it("creates, reads, lists, updates, rotates the secret of and deletes a workspace's client", async () => {
    const client = await newClient({ clientName: "App" });
    expect(await getOidcClient(db, T, W, client.clientId)).toEqual(client);
    expect((await listOidcClients(db, T, W)).map((c) => c.clientId)).toContain(client.clientId);
    // Another workspace or tenant does not see it.
    expect(await getOidcClient(db, T, "admin", client.clientId)).toBeUndefined();
    expect(await getOidcClient(db, "other", W, client.clientId)).toBeUndefined();
    expect((await listOidcClients(db, T, "admin")).map((c) => c.clientId)).not.toContain(client.clientId);
    // A taken id (in any workspace of the tenant) and a missing workspace.
    expect(await insertClientFixture(db, { ...client, workspaceId: "admin" })).toBe("taken");
    expect(await insertClientFixture(db, { ...client, clientId: uid("c"), workspaceId: "no-such-ws" })).toBe("no_workspace");

    const key = { tenantId: T, workspaceId: W, clientId: client.clientId };
    const settings = { ...CLIENT_DEFAULTS, redirectUris: ["com.example.app:/cb"], clientName: "Renamed", trusted: true };
    const updated = await updateOidcClient(db, key, settings, undefined, AUDIT, client.createdAt + 5);
    expect(updated).toEqual({ ...client, ...settings, updatedAt: client.createdAt + 5 });
    expect(await updateOidcClient(db, { ...key, workspaceId: "admin" }, settings, undefined, AUDIT, 1)).toBeUndefined();

    const rotated = await rotateOidcClientSecret(db, key, await hash("new secret"), AUDIT, client.createdAt + 6);
    expect(rotated?.secretHash).toBe(await hash("new secret"));
    expect((await getOidcClient(db, T, W, client.clientId))?.secretHash).toBe(await hash("new secret"));
    // A public client has no secret to rotate.
    const pub = await updateOidcClient(db, key, { ...settings, tokenEndpointAuthMethod: "none" }, null, AUDIT, client.createdAt + 7);
    expect(pub?.secretHash).toBeNull();
    expect(await rotateOidcClientSecret(db, key, await hash("x"), AUDIT, client.createdAt + 8)).toBeUndefined();

    expect(await deleteOidcClient(db, T, "admin", client.clientId, AUDIT, Date.now())).toBe(false);
    expect(await deleteOidcClient(db, T, W, client.clientId, AUDIT, Date.now())).toBe(true);
    expect(await getOidcClient(db, T, W, client.clientId)).toBeUndefined();
    expect(await deleteOidcClient(db, T, W, client.clientId, AUDIT, Date.now())).toBe(false);
  });

  it("deleting a client deletes its codes, refresh tokens and consents (cascade)", async () => {
    const { client, user, session } = await redeemed();
    await newCode(client, session);
    await rememberConsent(db, { tenantId: T, clientId: client.clientId, userId: user.id }, ["openid"], Date.now());
    const of = "client_id = ?";
    expect([await count("oidc_codes", of, client.clientId), await count("oidc_refresh_tokens", of, client.clientId)]).toEqual([2, 1]);
    expect(await count("oidc_consents", of, client.clientId)).toBe(1);
    expect(await deleteOidcClient(db, T, W, client.clientId, AUDIT, Date.now())).toBe(true);
    for (const table of ["oidc_codes", "oidc_refresh_tokens", "oidc_consents"]) expect(await count(table, of, client.clientId)).toBe(0);
  });
});

describe("authorization codes", () => {
  it("of 20 parallel redemptions exactly one succeeds; the others fail and revoke what it issued", async () => {
    const client = await newClient();
    const user = await newUser();
    const { row: session } = await newSession(user.id);
    const code = await newCode(client, session);
    const results = await Promise.all(Array.from({ length: 20 }, () => redeem(client, code)));
    const winners = results.filter((r) => r.result.ok);
    expect(winners.length).toBe(1);
    const won = winners[0]!.result;
    if (!won.ok) throw new Error("unreachable");
    expect(won.refreshTokenIssued).toBe(true);
    expect(won.code).toMatchObject({ userId: user.id, sessionId: session.id, nonce: "n-1", scope: "openid email offline_access" });
    expect(won.code.amr).toEqual(["pop", "hwk", "user"]);
    const losers = results.filter((r) => !r.result.ok).map((r) => r.result);
    expect(losers.every((r) => !r.ok && r.reason === "reused")).toBe(true);
    // Exactly one refresh token was stored (the winner's) and a replay revoked it.
    expect(await count("oidc_refresh_tokens", "client_id = ?", client.clientId)).toBe(1);
    expect(await count("oidc_refresh_tokens", "token_hash = ? AND revoked_at IS NOT NULL", await hash(winners[0]!.refresh))).toBe(1);
    expect(losers.filter((r) => !r.ok && r.reason === "reused" && r.revoked === 1).length).toBe(1);
    expect((await rotate(client, winners[0]!.refresh)).result).toEqual({ ok: false, reason: "invalid" });
  });

  it("a replay after the refresh token was rotated revokes the whole family", async () => {
    const { client, code, refresh, familyId } = await redeemed();
    const { result, next } = await rotate(client, refresh);
    expect(result.ok).toBe(true);
    // Not revoked: the rotated token (which no longer rotates) and its successor.
    expect(await liveTokens(familyId)).toBe(2);
    expect((await redeem(client, code)).result).toEqual({ ok: false, reason: "reused", revoked: 2 });
    expect(await liveTokens(familyId)).toBe(0);
    expect((await rotate(client, next)).result).toEqual({ ok: false, reason: "invalid" });
  });

  it("is bound to client, redirect_uri and PKCE verifier, and expires; a mismatch leaves the code unconsumed", async () => {
    const client = await newClient();
    const other = await newClient();
    const user = await newUser();
    const { row: session } = await newSession(user.id);
    const code = await newCode(client, session);
    const invalid = { ok: false, reason: "invalid" };
    expect((await redeem(client, code, { verifier: `${VERIFIER.slice(0, -1)}A` })).result).toEqual(invalid);
    expect((await redeem(client, code, { redirectUri: `${REDIRECT}/` })).result).toEqual(invalid);
    expect((await redeem(client, code, { clientId: other.clientId })).result).toEqual(invalid);
    expect((await redeem(client, secret())).result).toEqual(invalid);
    expect(await count("oidc_codes", "code_hash = ? AND consumed_at IS NULL", await hash(code))).toBe(1);
    expect((await redeem(client, code)).result.ok).toBe(true);

    const expired = await newCode(client, session, { expiresAt: Date.now() - 1 });
    expect((await redeem(client, expired)).result).toEqual(invalid);
    // Another workspace's token endpoint does not know the code.
    const elsewhere = await newCode(client, session);
    const r = await redeemOidcCode(
      db,
      {
        tenantId: T,
        workspaceId: "admin",
        clientId: client.clientId,
        codeHash: await hash(elsewhere),
        redirectUri: REDIRECT,
        codeChallenge: (await s256(VERIFIER))!,
        familyId: newId(),
        refreshToken: null,
      },
      Date.now(),
    );
    expect(r).toEqual(invalid);
  });

  it("issues a refresh token only for a granted offline_access, and none when the caller asks for none", async () => {
    const client = await newClient();
    const user = await newUser();
    const { row: session } = await newSession(user.id);
    const noOffline = await newCode(client, session, { scope: "openid email" });
    const r = await redeem(client, noOffline);
    expect(r.result).toMatchObject({ ok: true, refreshTokenIssued: false });
    expect(await count("oidc_refresh_tokens", "client_id = ?", client.clientId)).toBe(0);
    // A near miss in the scope string is not offline_access.
    const lookalike = await newCode(client, session, { scope: "openid offline_accessx" });
    expect((await redeem(client, lookalike)).result).toMatchObject({ ok: true, refreshTokenIssued: false });
    const withOffline = await newCode(client, session);
    const none = await redeemOidcCode(
      db,
      {
        tenantId: T,
        workspaceId: W,
        clientId: client.clientId,
        codeHash: await hash(withOffline),
        redirectUri: REDIRECT,
        codeChallenge: (await s256(VERIFIER))!,
        familyId: newId(),
        refreshToken: null,
      },
      Date.now(),
    );
    expect(none).toMatchObject({ ok: true, refreshTokenIssued: false });
    expect(await count("oidc_refresh_tokens", "client_id = ?", client.clientId)).toBe(0);
  });
});

describe("refresh tokens", () => {
  it("rotate: the successor works, the old one stops; presenting the old one again revokes the family", async () => {
    const { client, refresh, familyId, user, session } = await redeemed();
    const first = await rotate(client, refresh);
    expect(first.result).toMatchObject({
      ok: true,
      token: { familyId, userId: user.id, sessionId: session.id, scope: "openid email offline_access" },
    });
    const second = await rotate(client, first.next);
    expect(second.result.ok).toBe(true);
    expect(await liveTokens(familyId)).toBe(3);
    expect(await count("oidc_refresh_tokens", "family_id = ? AND rotated_at IS NULL", familyId)).toBe(1);
    // Reuse of the first (rotated) token: refused, and every live token of the family is revoked.
    expect((await rotate(client, refresh)).result).toEqual({ ok: false, reason: "reused", revoked: 3 });
    expect(await liveTokens(familyId)).toBe(0);
    expect((await rotate(client, second.next)).result).toEqual({ ok: false, reason: "invalid" });
  });

  it("of 20 parallel rotations of one token exactly one succeeds; the others are reuse and revoke the family", async () => {
    const { client, refresh, familyId } = await redeemed();
    const results = await Promise.all(Array.from({ length: 20 }, () => rotate(client, refresh)));
    expect(results.filter((r) => r.result.ok).length).toBe(1);
    expect(results.filter((r) => !r.result.ok && r.result.reason === "reused").length).toBe(19);
    expect(await count("oidc_refresh_tokens", "family_id = ?", familyId)).toBe(2);
    expect(await liveTokens(familyId)).toBe(0);
  });

  it("another client can neither rotate nor revoke the token; an expired token is invalid", async () => {
    const { client, refresh, familyId, session } = await redeemed();
    const other = await newClient();
    expect((await rotate(client, refresh, other.clientId)).result).toEqual({ ok: false, reason: "invalid" });
    const p = { tenantId: T, workspaceId: W, clientId: other.clientId, tokenHash: await hash(refresh) };
    expect(await revokeRefreshFamily(db, p, Date.now())).toBe(0);
    expect(await liveTokens(familyId)).toBe(1);

    const stale = await newCode(client, session);
    const { refresh: staleRefresh } = await redeem(client, stale);
    await db
      .prepare("UPDATE oidc_refresh_tokens SET expires_at = ? WHERE token_hash = ?")
      .bind(Date.now() - 1, await hash(staleRefresh))
      .run();
    expect((await rotate(client, staleRefresh)).result).toEqual({ ok: false, reason: "invalid" });
  });

  it("revocation (RFC 7009) revokes the family of a token of the client", async () => {
    const { client, refresh, familyId } = await redeemed();
    const { next } = await rotate(client, refresh);
    const p = { tenantId: T, workspaceId: W, clientId: client.clientId, tokenHash: await hash(next) };
    expect(await revokeRefreshFamily(db, p, Date.now())).toBe(2);
    expect(await liveTokens(familyId)).toBe(0);
    expect(await revokeRefreshFamily(db, p, Date.now())).toBe(0);
    expect(await revokeRefreshFamily(db, { ...p, tokenHash: await hash("unknown") }, Date.now())).toBe(0);
  });
});

describe("provider sessions", () => {
  it("reads a valid session only in its workspace, unexpired and for an active user", async () => {
    const user = await newUser();
    const { row, cookie } = await newSession(user.id);
    const now = Date.now();
    expect(await readValidOidcSession(db, T, W, await hash(cookie), now)).toEqual(row);
    expect(await readValidOidcSession(db, T, "admin", await hash(cookie), now)).toBeUndefined();
    expect(await readValidOidcSession(db, "other", W, await hash(cookie), now)).toBeUndefined();
    expect(await readValidOidcSession(db, T, W, await hash(secret()), now)).toBeUndefined();
    expect(await readValidOidcSession(db, T, W, await hash(cookie), row.expiresAt)).toBeUndefined();
    expect((await sys("PUT", `/pools/default/users/${user.id}`, { body: { status: "inactive" } })).status).toBe(200);
    expect(await readValidOidcSession(db, T, W, await hash(cookie), now)).toBeUndefined();
  });

  it("reads client, session and consent for an authorization in one batch", async () => {
    const client = await newClient();
    const user = await newUser();
    const { row, cookie } = await newSession(user.id);
    const k = { tenantId: T, workspaceId: W, clientId: client.clientId, cookieHash: await hash(cookie) };
    expect(await readAuthorizationContext(db, k, Date.now())).toEqual({ client, session: row, consentedScopes: [] });
    await rememberConsent(db, { tenantId: T, clientId: client.clientId, userId: user.id }, ["openid", "email"], Date.now());
    expect(await readAuthorizationContext(db, k, Date.now())).toEqual({ client, session: row, consentedScopes: ["email", "openid"] });
    expect(await readAuthorizationContext(db, { ...k, cookieHash: null }, Date.now())).toEqual({
      client,
      session: undefined,
      consentedScopes: [],
    });
    expect(await readAuthorizationContext(db, { ...k, workspaceId: "admin" }, Date.now())).toEqual({
      client: undefined,
      session: undefined,
      consentedScopes: [],
    });
  });

  it("ending one session (logout) revokes its refresh tokens and deletes its codes, and leaves the user's other sessions", async () => {
    const { client, user, session, cookie, familyId } = await redeemed();
    const pending = await newCode(client, session);
    const other = await newSession(user.id);
    const otherCode = await newCode(client, other.row);
    const { result: otherRedeemed } = await redeem(client, otherCode);
    expect(otherRedeemed.ok).toBe(true);

    expect(await endOidcSession(db, T, { cookieHash: await hash(cookie) }, Date.now())).toBe(true);
    expect(await readValidOidcSession(db, T, W, await hash(cookie), Date.now())).toBeUndefined();
    expect(await liveTokens(familyId)).toBe(0);
    expect(await count("oidc_codes", "code_hash = ?", await hash(pending))).toBe(0);
    expect((await redeem(client, pending)).result).toEqual({ ok: false, reason: "invalid" });
    // The other session and its token live on.
    expect(await readValidOidcSession(db, T, W, await hash(other.cookie), Date.now())).toEqual(other.row);
    expect(await count("oidc_refresh_tokens", "session_id = ? AND revoked_at IS NULL", other.row.id)).toBe(1);
    expect(await endOidcSession(db, T, { cookieHash: await hash(cookie) }, Date.now())).toBe(false);
    // By sid, and only in its tenant.
    expect(await endOidcSession(db, "other", { sessionId: other.row.id }, Date.now())).toBe(false);
    expect(await endOidcSession(db, T, { sessionId: other.row.id }, Date.now())).toBe(true);
    expect(await liveTokens(user.id, "user_id")).toBe(0);
  });

  it("ending every session of a user (deactivation, deletion) revokes all the user's refresh tokens and codes", async () => {
    const { client, user, familyId } = await redeemed();
    const second = await newSession(user.id);
    await newCode(client, second.row);
    const bystander = await redeemed();
    const endAll = async (tid: string) => (await db.batch(endUserOidcSessionsStmts(db, tid, user.id, Date.now()))).at(-1)?.meta.changes;
    expect(await endAll("other")).toBe(0);
    expect(await liveTokens(familyId)).toBe(1);
    expect(await endAll(T)).toBe(2);
    expect(await count("oidc_sessions", "user_id = ?", user.id)).toBe(0);
    expect(await count("oidc_codes", "user_id = ?", user.id)).toBe(0);
    expect(await liveTokens(user.id, "user_id")).toBe(0);
    // Another user's session and token are untouched.
    expect(await count("oidc_sessions", "user_id = ?", bystander.user.id)).toBe(1);
    expect(await liveTokens(bystander.familyId)).toBe(1);
  });

  it("deleting the user deletes their sessions, codes, refresh tokens and consents (cascade)", async () => {
    const { client, user } = await redeemed();
    await rememberConsent(db, { tenantId: T, clientId: client.clientId, userId: user.id }, ["openid"], Date.now());
    expect((await sys("DELETE", `/pools/default/users/${user.id}`)).status).toBe(204);
    for (const table of ["oidc_sessions", "oidc_codes", "oidc_refresh_tokens", "oidc_consents"]) {
      expect(await count(table, "user_id = ?", user.id)).toBe(0);
    }
  });
});

describe("consents", () => {
  it("remembers the union of the scope sets granted, per user and client", async () => {
    const client = await newClient();
    const other = await newClient();
    const user = await newUser();
    const k = { tenantId: T, clientId: client.clientId, userId: user.id };
    expect(await hasConsent(db, k, ["openid"])).toBe(false);
    await rememberConsent(db, k, ["openid", "profile", "openid"], 1);
    expect(await consentedScopes(db, k)).toEqual(["openid", "profile"]);
    expect(await hasConsent(db, k, ["openid", "profile"])).toBe(true);
    expect(await hasConsent(db, k, ["openid", "email"])).toBe(false);
    await rememberConsent(db, k, ["email", "openid"], 2);
    expect(await consentedScopes(db, k)).toEqual(["email", "openid", "profile"]);
    expect(await hasConsent(db, k, ["openid", "email", "profile"])).toBe(true);
    expect(await hasConsent(db, { ...k, clientId: other.clientId }, ["openid"])).toBe(false);
    expect(await hasConsent(db, { ...k, tenantId: "other" }, ["openid"])).toBe(false);
    const row = await db.prepare("SELECT created_at, updated_at FROM oidc_consents WHERE client_id = ?").bind(client.clientId).first();
    expect(row).toEqual({ created_at: 1, updated_at: 2 });
  });
});

describe("purge", () => {
  it("the cron trigger purges expired codes, sessions and refresh tokens, and keeps live ones", async () => {
    const now = Date.now();
    const { client, user, session, familyId, code } = await redeemed();
    const old = await newSession(user.id, { expiresAt: now - 1 });
    const oldCode = await newCode(client, session, { expiresAt: now - 1 });
    await db
      .prepare("UPDATE oidc_refresh_tokens SET expires_at = ? WHERE family_id = ?")
      .bind(now - 1, familyId)
      .run();
    const live = await redeemed();

    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ scheduledTime: now, cron: "*/15 * * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);

    expect(await count("oidc_sessions", "id = ?", old.row.id)).toBe(0);
    expect(await count("oidc_codes", "code_hash = ?", await hash(oldCode))).toBe(0);
    expect(await count("oidc_refresh_tokens", "family_id = ?", familyId)).toBe(0);
    // Live rows stay: the session, the consumed (unexpired) code, the refresh token.
    expect(await count("oidc_sessions", "id = ?", session.id)).toBe(1);
    expect(await count("oidc_codes", "code_hash = ?", await hash(code))).toBe(1);
    expect(await count("oidc_sessions", "id = ?", live.session.id)).toBe(1);
    expect(await liveTokens(live.familyId)).toBe(1);
  });
});
