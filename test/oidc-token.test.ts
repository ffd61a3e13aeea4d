/**
 * The workspace OpenID Provider's token side (issue 10 part C), driven with openid-client as the RP: discovery, code
 * exchange with PKCE, refresh with rotation, userinfo, revocation, ID tokens verified against the JWKS with both algs.
 * Clients, sessions and codes are seeded through the round-1 repo functions (the authorization endpoint is built
 * separately); every token request goes through SELF.fetch.
 */
import { env, SELF } from "cloudflare:test";
import { decodeProtectedHeader } from "jose";
import * as oidc from "openid-client";
import { describe, expect, it } from "vitest";
import { b64url, newId, randomBytes, sha256 } from "../src/crypto/bytes";
import { s256 } from "../src/crypto/pkce";
import { CLIENT_DEFAULTS } from "../src/domain/oidc";
import { resetConfigCache } from "../src/repo/config-cache";
import type { OidcClientRow } from "../src/repo/oidc-clients";
import { insertClientFixture } from "./helpers/oidc-client";
import { insertOidcCode, sessionFacts } from "../src/repo/oidc-codes";
import { createOidcSessionStmt, type OidcSessionRow } from "../src/repo/oidc-sessions";
import { createOidcTokens, type OidcTokenRequest } from "../src/services/oidc-token";
import { basic, call, expectOAuthError, json, ORIGIN, sys, systemToken, uid } from "./helpers/api";
import { testWorkspaceCall } from "./helpers/call";
import { FaultPlan, faultyEnv, storageUse } from "./helpers/faults";
import { describeCalls } from "./helpers/storage-use";
import { SoftAuthenticator } from "./authenticator";
import { count, enroll, newUser } from "./helpers/passkeys";
import { newWorkspace } from "./helpers/signin";

const db = env.DB;
const T = "default";
const W = "default";
const REDIRECT = "https://app.example.com/cb";
const hash = async (s: string) => b64url(await sha256(s));
const rand = () => b64url(randomBytes(32));
const issuerOf = (tid: string, wid: string) => `${ORIGIN}/${tid}/${wid}`;

type Method = OidcClientRow["tokenEndpointAuthMethod"];

async function newClient(over: Partial<OidcClientRow> = {}, secret: string | null = rand()) {
  const now = Date.now();
  const row: OidcClientRow = {
    ...CLIENT_DEFAULTS,
    redirectUris: [REDIRECT],
    grantTypes: ["authorization_code", "refresh_token"],
    scopes: ["openid", "profile", "email", "offline_access", "view_ss_profile"],
    tenantId: T,
    workspaceId: W,
    clientId: uid("rp"),
    secretHash: secret === null ? null : await hash(secret),
    createdAt: now,
    updatedAt: now,
    ...over,
  };
  expect(await insertClientFixture(db, row)).toBe("created");
  resetConfigCache(); // written to D1 directly, not through the service that drops the cached CORS origins
  return { row, secret };
}

async function newSession(user: { id: string }, over: Partial<OidcSessionRow> = {}): Promise<OidcSessionRow> {
  const now = Date.now();
  const row: OidcSessionRow = {
    id: newId(),
    cookieHash: await hash(rand()),
    tenantId: T,
    workspaceId: W,
    poolId: "default",
    userId: user.id,
    authTime: now - 5000,
    amr: ["pop", "hwk", "user"],
    acr: "phrh",
    createdAt: now,
    expiresAt: now + 3_600_000,
    ...over,
  };
  await createOidcSessionStmt(db, row).run();
  return row;
}

/** A fresh authorization code for the client and session, with its PKCE verifier. */
async function newCode(
  client: OidcClientRow,
  session: OidcSessionRow,
  scope = "openid profile email offline_access",
  nonce: string | null = rand(),
) {
  const now = Date.now();
  const code = rand();
  const verifier = oidc.randomPKCECodeVerifier();
  await insertOidcCode(db, {
    codeHash: await hash(code),
    tenantId: session.tenantId,
    workspaceId: session.workspaceId,
    clientId: client.clientId,
    redirectUri: client.redirectUris[0]!,
    codeChallenge: (await s256(verifier))!,
    nonce,
    scope,
    ...sessionFacts(session),
    createdAt: now,
    expiresAt: now + 60_000,
  });
  return { code, verifier, nonce };
}

const fetchOptions = {
  [oidc.customFetch]: (url: string, init: RequestInit) => SELF.fetch(url, init),
  execute: [oidc.allowInsecureRequests],
};

/** openid-client's Configuration for the client, from the workspace's discovery document; ID tokens checked against the JWKS. */
async function rp(client: OidcClientRow, secret: string | null, tid = T, wid = W) {
  const auth: Record<Method, () => oidc.ClientAuth> = {
    client_secret_basic: () => oidc.ClientSecretBasic(secret!),
    client_secret_post: () => oidc.ClientSecretPost(secret!),
    none: () => oidc.None(),
  };
  const config = await oidc.discovery(
    new URL(issuerOf(tid, wid)),
    client.clientId,
    { id_token_signed_response_alg: client.idTokenAlg },
    auth[client.tokenEndpointAuthMethod](),
    fetchOptions,
  );
  oidc.enableNonRepudiationChecks(config);
  return config;
}

const callback = (client: OidcClientRow, code: string, state: string, tid = T, wid = W) =>
  new URL(`${client.redirectUris[0]}?${new URLSearchParams({ code, state, iss: issuerOf(tid, wid) })}`);

/** The code exchange through openid-client (PKCE, state, nonce, iss, ID token signature against the JWKS). */
async function exchange(config: oidc.Configuration, client: OidcClientRow, c: { code: string; verifier: string; nonce: string | null }) {
  const state = rand();
  return oidc.authorizationCodeGrant(config, callback(client, c.code, state), {
    pkceCodeVerifier: c.verifier,
    expectedState: state,
    ...(c.nonce ? { expectedNonce: c.nonce } : {}),
    idTokenExpected: true,
  });
}

/** A raw token request (form-encoded). */
function tokenRequest(form: Record<string, string>, headers: Record<string, string> = {}, tid = T, wid = W) {
  return SELF.fetch(`${ORIGIN}/${tid}/${wid}/oauth2/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams(form).toString(),
  });
}

describe("discovery and JWKS", () => {
  it("publishes every field the contract lists, with CORS *, and 404 for an unknown workspace", async () => {
    const res = await SELF.fetch(`${ORIGIN}/${T}/${W}/.well-known/openid-configuration`, { headers: { origin: "https://any.example" } });
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    const doc = await json(res);
    const iss = issuerOf(T, W);
    expect(doc).toMatchObject({
      issuer: iss,
      authorization_endpoint: `${iss}/oauth2/authorize`,
      token_endpoint: `${iss}/oauth2/token`,
      userinfo_endpoint: `${iss}/userinfo`,
      jwks_uri: `${iss}/.well-known/jwks.json`,
      revocation_endpoint: `${iss}/oauth2/revoke`,
      end_session_endpoint: `${iss}/oidc/logout`,
      response_types_supported: ["code"],
      response_modes_supported: ["query"],
      grant_types_supported: ["authorization_code", "refresh_token"],
      subject_types_supported: ["public"],
      id_token_signing_alg_values_supported: ["RS256", "ES256"],
      code_challenge_methods_supported: ["S256"],
      token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post", "none"],
      acr_values_supported: ["phrh", "phr"],
      authorization_response_iss_parameter_supported: true,
    });
    expect(doc.scopes_supported).toEqual(expect.arrayContaining(["openid", "profile", "email", "offline_access"]));
    expect(doc.claims_supported).toEqual(expect.arrayContaining(["sub", "auth_time", "amr", "acr", "sid"]));
    expect(doc.prompt_values_supported).toEqual(expect.arrayContaining(["none", "login", "consent"]));
    const keys = await SELF.fetch(`${ORIGIN}/${T}/${W}/.well-known/jwks.json`);
    expect(keys.headers.get("access-control-allow-origin")).toBe("*");
    const ghost = await SELF.fetch(`${ORIGIN}/${T}/${uid("nows")}/.well-known/openid-configuration`);
    expect(ghost.status).toBe(404);
    expect(ghost.headers.get("access-control-allow-origin")).toBe("*");
  });
});

describe("authorization_code with PKCE, through openid-client", () => {
  for (const [method, alg] of [
    ["client_secret_basic", "RS256"],
    ["client_secret_post", "ES256"],
    ["none", "RS256"],
  ] as const) {
    it(`${method} client, ${alg} ID token: verified claims, userinfo, refresh`, async () => {
      const user = await newUser("default", T, { payload: { name: "Ada Lovelace" } });
      const { row: client, secret } = await newClient(
        { tokenEndpointAuthMethod: method, idTokenAlg: alg },
        method === "none" ? null : rand(),
      );
      const session = await newSession(user);
      const c = await newCode(client, session);
      const config = await rp(client, secret);
      const tokens = await exchange(config, client, c);
      expect(decodeProtectedHeader(tokens.id_token!).alg).toBe(alg);
      const claims = tokens.claims()!;
      expect(claims).toMatchObject({
        iss: issuerOf(T, W),
        sub: user.id,
        aud: client.clientId,
        azp: client.clientId,
        nonce: c.nonce,
        sid: session.id,
        amr: ["pop", "hwk", "user"],
        acr: "phrh",
        auth_time: Math.floor(session.authTime / 1000),
      });
      expect(tokens).toMatchObject({ token_type: "bearer", scope: "openid profile email offline_access", expires_in: 900 });
      expect(typeof tokens.refresh_token).toBe("string");

      // RFC 9068 access token.
      expect(decodeProtectedHeader(tokens.access_token)).toMatchObject({ alg: "ES256", typ: "at+jwt" });
      const at = JSON.parse(atob(tokens.access_token.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/"))) as Record<string, unknown>;
      expect(at).toMatchObject({ iss: issuerOf(T, W), sub: user.id, client_id: client.clientId, scope: tokens.scope, amr: session.amr });
      for (const k of ["aud", "exp", "iat", "jti", "auth_time", "acr"]) expect(at[k], k).toBeDefined();

      const info = await oidc.fetchUserInfo(config, tokens.access_token, user.id);
      expect(info).toEqual({ sub: user.id, preferred_username: user.email, name: "Ada Lovelace", email: user.email, email_verified: true });

      const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
      expect(refreshed.refresh_token).toBeDefined();
      expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
      expect(refreshed.claims()).toMatchObject({ sub: user.id, sid: session.id, aud: client.clientId });
    });
  }

  it("answers Cache-Control no-store and issues no refresh token without offline_access", async () => {
    const user = await newUser();
    const { row: client, secret } = await newClient();
    const c = await newCode(client, await newSession(user), "openid email", null);
    const res = await tokenRequest(
      { grant_type: "authorization_code", code: c.code, redirect_uri: REDIRECT, code_verifier: c.verifier },
      { authorization: basic(client.clientId, secret!) },
    );
    expect(res.headers.get("cache-control")).toBe("no-store");
    const body = await json(res);
    expect(Object.keys(body).sort()).toEqual(["access_token", "expires_in", "id_token", "scope", "token_type"]);
    const info = await json(await call("GET", `/${T}/${W}/userinfo`, { token: body.access_token as string }));
    expect(info).toEqual({ sub: user.id, email: user.email, email_verified: true });
  });

  it("refuses a wrong verifier, redirect_uri or client with invalid_grant, and leaves the code usable", async () => {
    const user = await newUser();
    const { row: client, secret } = await newClient();
    const { row: other, secret: otherSecret } = await newClient();
    const c = await newCode(client, await newSession(user));
    const good = { grant_type: "authorization_code", code: c.code, redirect_uri: REDIRECT, code_verifier: c.verifier };
    const auth = { authorization: basic(client.clientId, secret!) };
    await expectOAuthError(await tokenRequest({ ...good, code_verifier: oidc.randomPKCECodeVerifier() }, auth), 400, "invalid_grant");
    await expectOAuthError(await tokenRequest({ ...good, redirect_uri: `${REDIRECT}x` }, auth), 400, "invalid_grant");
    await expectOAuthError(await tokenRequest({ ...good, code_verifier: "short" }, auth), 400, "invalid_grant");
    await expectOAuthError(await tokenRequest(good, { authorization: basic(other.clientId, otherSecret!) }), 400, "invalid_grant");
    const { code: _omitted, ...noCode } = good;
    await expectOAuthError(await tokenRequest(noCode, auth), 400, "invalid_request");
    await expectOAuthError(await tokenRequest({ ...good, grant_type: "password" }, auth), 400, "unsupported_grant_type");
    await json(await tokenRequest(good, auth));
  });

  it("a form in a charset other than UTF-8 is 400 invalid_request on every form endpoint, not a 500 (npm run fuzz, seed 7)", async () => {
    const latin1 = { "content-type": "application/x-www-form-urlencoded ; charset=latin1" };
    await expectOAuthError(await tokenRequest({ grant_type: "authorization_code" }, latin1), 400, "invalid_request");
    for (const path of [`/${T}/${W}/oauth2/revoke`, `/${T}/system/oauth2/token`]) {
      const res = await SELF.fetch(`${ORIGIN}${path}`, { method: "POST", headers: latin1, body: "token=x" });
      expect(res.status, path).toBe(400);
    }
  });

  it("authenticates clients by their registered method: 401 invalid_client with WWW-Authenticate Basic", async () => {
    const { row: client, secret } = await newClient();
    const { row: pub } = await newClient({ tokenEndpointAuthMethod: "none" }, null);
    const form = { grant_type: "authorization_code", code: "x", redirect_uri: REDIRECT, code_verifier: oidc.randomPKCECodeVerifier() };
    const cases: Array<[Record<string, string>, Record<string, string>]> = [
      [form, { authorization: basic(client.clientId, `${secret}x`) }],
      [{ ...form, client_id: client.clientId, client_secret: secret! }, {}], // post for a basic client
      [{ ...form, client_id: client.clientId }, {}], // no secret for a confidential client
      [{ ...form, client_id: pub.clientId, client_secret: "anything" }, {}], // a secret for a public client
      [form, { authorization: basic("ghost", "x") }],
      [form, {}],
    ];
    for (const [f, h] of cases) {
      const res = await tokenRequest(f, h);
      expect(res.headers.get("www-authenticate")).toMatch(/^Basic/);
      await expectOAuthError(res, 401, "invalid_client");
    }
    const bad = await tokenRequest(form, { "content-type": "application/json" });
    expect(bad.status).toBe(415);
  });

  it("limits client-authentication failures: 429 after 10 in a minute, for the right secret too", async () => {
    const { row: client, secret } = await newClient();
    const form = { grant_type: "refresh_token", refresh_token: "x" };
    for (let i = 0; i < 10; i++)
      await expectOAuthError(await tokenRequest(form, { authorization: basic(client.clientId, "wrong") }), 401, "invalid_client");
    const res = await tokenRequest(form, { authorization: basic(client.clientId, secret!) });
    await expectOAuthError(res, 429, "rate_limited");
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
  });

  it("20 parallel redemptions of one code: exactly one token set, the rest invalid_grant, the winner's refresh token revoked", async () => {
    const user = await newUser();
    const { row: client, secret } = await newClient();
    const c = await newCode(client, await newSession(user));
    const form = { grant_type: "authorization_code", code: c.code, redirect_uri: REDIRECT, code_verifier: c.verifier };
    const results = await Promise.all(
      Array.from({ length: 20 }, () => tokenRequest(form, { authorization: basic(client.clientId, secret!) })),
    );
    const ok = results.filter((r) => r.status === 200);
    expect(ok).toHaveLength(1);
    for (const r of results.filter((r) => r.status !== 200)) await expectOAuthError(r, 400, "invalid_grant");
    const winner = await json<{ refresh_token: string }>(ok[0]!);
    const refused = await tokenRequest(
      { grant_type: "refresh_token", refresh_token: winner.refresh_token },
      { authorization: basic(client.clientId, secret!) },
    );
    await expectOAuthError(refused, 400, "invalid_grant");
  });
});

describe("refresh tokens", () => {
  it("rotate on every use; presenting a rotated one revokes the family", async () => {
    const user = await newUser();
    const { row: client, secret } = await newClient();
    const config = await rp(client, secret);
    const first = await exchange(config, client, await newCode(client, await newSession(user)));
    const second = await oidc.refreshTokenGrant(config, first.refresh_token!);
    await expect(oidc.refreshTokenGrant(config, first.refresh_token!)).rejects.toMatchObject({ error: "invalid_grant" });
    // The reuse revoked the successor too.
    await expect(oidc.refreshTokenGrant(config, second.refresh_token!)).rejects.toMatchObject({ error: "invalid_grant" });
  });

  it("narrow the scope on request and refuse a wider one; a client without refresh_token gets none", async () => {
    const user = await newUser();
    const { row: client, secret } = await newClient();
    const auth = { authorization: basic(client.clientId, secret!) };
    const c = await newCode(client, await newSession(user), "openid email offline_access");
    const t = await json<{ refresh_token: string }>(
      await tokenRequest({ grant_type: "authorization_code", code: c.code, redirect_uri: REDIRECT, code_verifier: c.verifier }, auth),
    );
    // A scope the client is not registered for is refused before the token is used: it still works afterwards.
    await expectOAuthError(
      await tokenRequest({ grant_type: "refresh_token", refresh_token: t.refresh_token, scope: "openid identity" }, auth),
      400,
      "invalid_scope",
    );
    const narrowed = await json<{ scope: string; refresh_token: string }>(
      await tokenRequest({ grant_type: "refresh_token", refresh_token: t.refresh_token, scope: "openid" }, auth),
    );
    expect(narrowed.scope).toBe("openid");
    // The successor keeps the whole grant; wider than the grant is invalid_scope.
    const full = await json<{ scope: string; refresh_token: string }>(
      await tokenRequest({ grant_type: "refresh_token", refresh_token: narrowed.refresh_token }, auth),
    );
    expect(full.scope).toBe("openid email offline_access");
    await expectOAuthError(
      await tokenRequest({ grant_type: "refresh_token", refresh_token: full.refresh_token, scope: "openid profile" }, auth),
      400,
      "invalid_scope",
    );

    const { row: noRefresh, secret: s2 } = await newClient({ grantTypes: ["authorization_code"] });
    const c2 = await newCode(noRefresh, await newSession(user));
    const body = await json(
      await tokenRequest(
        { grant_type: "authorization_code", code: c2.code, redirect_uri: REDIRECT, code_verifier: c2.verifier },
        { authorization: basic(noRefresh.clientId, s2!) },
      ),
    );
    expect(body.refresh_token).toBeUndefined();
    await expectOAuthError(
      await tokenRequest({ grant_type: "refresh_token", refresh_token: "x" }, { authorization: basic(noRefresh.clientId, s2!) }),
      400,
      "unauthorized_client",
    );
  });

  it("revocation (RFC 7009): 200 always, a refresh token revokes its family, only for its own client", async () => {
    const user = await newUser();
    const { row: client, secret } = await newClient();
    const { row: other, secret: otherSecret } = await newClient();
    const config = await rp(client, secret);
    const t = await exchange(config, client, await newCode(client, await newSession(user)));
    const otherConfig = await rp(other, otherSecret);
    await oidc.tokenRevocation(otherConfig, t.refresh_token!); // another client's: a no-op
    const rotated = await oidc.refreshTokenGrant(config, t.refresh_token!);
    await oidc.tokenRevocation(config, "no-such-token");
    await oidc.tokenRevocation(config, rotated.access_token);
    await oidc.tokenRevocation(config, rotated.refresh_token!);
    await expect(oidc.refreshTokenGrant(config, rotated.refresh_token!)).rejects.toMatchObject({ error: "invalid_grant" });
    const unauth = await SELF.fetch(`${ORIGIN}/${T}/${W}/oauth2/revoke`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", authorization: basic(client.clientId, "wrong") },
      body: "token=x",
    });
    await expectOAuthError(unauth, 401, "invalid_client");
  });
});

describe("userinfo and the access token elsewhere", () => {
  it("401 invalid_token for a missing, foreign or openid-less token; the self-service API takes its scopes", async () => {
    const user = await newUser();
    const { row: client, secret } = await newClient();
    const auth = { authorization: basic(client.clientId, secret!) };
    const c = await newCode(client, await newSession(user), "openid view_ss_profile");
    const t = await json<{ access_token: string }>(
      await tokenRequest({ grant_type: "authorization_code", code: c.code, redirect_uri: REDIRECT, code_verifier: c.verifier }, auth),
    );
    const none = await call("GET", `/${T}/${W}/userinfo`);
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toMatch(/^Bearer/);
    const system = await call("POST", `/${T}/${W}/userinfo`, { token: await systemToken() });
    expect(system.headers.get("www-authenticate")).toMatch(/error="invalid_token"/);
    expect(system.status).toBe(401);
    const wid2 = await newWorkspace(["usernameless_webauthn"], ["default"]);
    const elsewhere = await call("GET", `/${T}/${wid2}/userinfo`, { token: t.access_token });
    expect(elsewhere.status).toBe(401);
    // The self-service API accepts it with view_ss_profile, in its own workspace only.
    const me = await json<{ id: string }>(await call("GET", `/${T}/${W}/identity/v2/self/me`, { token: t.access_token }));
    expect(me.id).toBe(user.id);
    expect((await call("GET", `/${T}/${wid2}/identity/v2/self/me`, { token: t.access_token })).status).toBe(404);
    // Without view_ss_profile the self-service API refuses (403); without openid (a refresh narrowed to
    // view_ss_profile) userinfo refuses (401 invalid_token).
    const c2 = await newCode(client, await newSession(user), "openid offline_access view_ss_profile");
    const t2 = await json<{ access_token: string; refresh_token: string }>(
      await tokenRequest({ grant_type: "authorization_code", code: c2.code, redirect_uri: REDIRECT, code_verifier: c2.verifier }, auth),
    );
    const onlyOpenid = await json<{ access_token: string; refresh_token: string }>(
      await tokenRequest({ grant_type: "refresh_token", refresh_token: t2.refresh_token, scope: "openid" }, auth),
    );
    expect((await call("GET", `/${T}/${W}/identity/v2/self/me`, { token: onlyOpenid.access_token })).status).toBe(403);
    const noOpenid = await json<{ access_token: string }>(
      await tokenRequest({ grant_type: "refresh_token", refresh_token: onlyOpenid.refresh_token, scope: "view_ss_profile" }, auth),
    );
    expect((await call("GET", `/${T}/${W}/identity/v2/self/me`, { token: noOpenid.access_token })).status).toBe(200);
    const refused = await call("GET", `/${T}/${W}/userinfo`, { token: noOpenid.access_token });
    expect(refused.status).toBe(401);
    expect(refused.headers.get("www-authenticate")).toMatch(/error="invalid_token"/);
  });

  it("CORS on token, revoke and userinfo only for the origins of the workspace's clients' redirect URIs", async () => {
    const origin = `https://${uid("spa")}.example`;
    await newClient({ redirectUris: [`${origin}/cb`], tokenEndpointAuthMethod: "none" }, null);
    for (const path of ["oauth2/token", "oauth2/revoke", "userinfo"]) {
      const pre = await SELF.fetch(`${ORIGIN}/${T}/${W}/${path}`, {
        method: "OPTIONS",
        headers: { origin, "access-control-request-method": "POST" },
      });
      expect(pre.status, path).toBe(204);
      expect(pre.headers.get("access-control-allow-origin")).toBe(origin);
      const stranger = await SELF.fetch(`${ORIGIN}/${T}/${W}/${path}`, {
        method: "OPTIONS",
        headers: { origin: "https://evil.example", "access-control-request-method": "POST" },
      });
      expect(stranger.headers.get("access-control-allow-origin")).toBeNull();
    }
    const err = await tokenRequest({ grant_type: "refresh_token" }, { origin });
    expect(err.headers.get("access-control-allow-origin")).toBe(origin);
  });
});

describe("sessions end with the user", () => {
  it("deactivation ends refresh tokens and codes; reactivation does not bring them back", async () => {
    const user = await newUser();
    const { row: client, secret } = await newClient();
    const config = await rp(client, secret);
    const session = await newSession(user);
    const t = await exchange(config, client, await newCode(client, session));
    const pending = await newCode(client, session);
    await json(await sys("PUT", `/pools/default/users/${user.id}`, { body: { status: "inactive" } }));
    expect(await count("oidc_sessions", "user_id = ?", user.id)).toBe(0);
    await expect(oidc.refreshTokenGrant(config, t.refresh_token!)).rejects.toMatchObject({ error: "invalid_grant" });
    await expect(exchange(config, client, pending)).rejects.toMatchObject({ error: "invalid_grant" });
    const info = await call("GET", `/${T}/${W}/userinfo`, { token: t.access_token });
    expect(info.status).toBe(401);
    await json(await sys("PUT", `/pools/default/users/${user.id}`, { body: { status: "active" } }));
    await expect(oidc.refreshTokenGrant(config, t.refresh_token!)).rejects.toMatchObject({ error: "invalid_grant" });
  });

  it("deleting the user removes sessions and refresh tokens", async () => {
    const user = await newUser();
    const { row: client, secret } = await newClient();
    const config = await rp(client, secret);
    const t = await exchange(config, client, await newCode(client, await newSession(user)));
    expect((await sys("DELETE", `/pools/default/users/${user.id}`)).status).toBe(204);
    expect(await count("oidc_refresh_tokens", "user_id = ?", user.id)).toBe(0);
    expect(await count("oidc_sessions", "user_id = ?", user.id)).toBe(0);
    await expect(oidc.refreshTokenGrant(config, t.refresh_token!)).rejects.toMatchObject({ error: "invalid_grant" });
  });
});

describe("the last passkey", () => {
  it("deleting a user's last passkey through the system API ends their sessions and refresh tokens; an earlier one does not", async () => {
    const user = await newUser();
    const auth = new SoftAuthenticator();
    const [first] = (await enroll(auth, "default", user.id, "smart")).credentials;
    const { credentials } = await enroll(auth, "default", user.id, "smart");
    const second = credentials.find((c) => c.id !== first!.id)!;
    const { row: client, secret } = await newClient();
    const config = await rp(client, secret);
    const t = await exchange(config, client, await newCode(client, await newSession(user)));
    expect((await sys("DELETE", `/pools/default/users/${user.id}/webauthn/${first!.id}`)).status).toBe(204);
    const kept = await oidc.refreshTokenGrant(config, t.refresh_token!);
    expect(await count("oidc_sessions", "user_id = ?", user.id)).toBe(1);
    expect((await sys("DELETE", `/pools/default/users/${user.id}/webauthn/${second.id}`)).status).toBe(204);
    expect(await count("oidc_sessions", "user_id = ?", user.id)).toBe(0);
    await expect(oidc.refreshTokenGrant(config, kept.refresh_token!)).rejects.toMatchObject({ error: "invalid_grant" });
  });
});

describe("isolation", () => {
  it("a client of one workspace or tenant never gets tokens from another's code", async () => {
    const user = await newUser();
    const { row: client, secret } = await newClient();
    const c = await newCode(client, await newSession(user));
    const form = { grant_type: "authorization_code", code: c.code, redirect_uri: REDIRECT, code_verifier: c.verifier };
    const wid2 = await newWorkspace(["usernameless_webauthn"], ["default"]);
    // The same client id does not exist in workspace 2: invalid_client, and the code is untouched.
    await expectOAuthError(await tokenRequest(form, { authorization: basic(client.clientId, secret!) }, T, wid2), 401, "invalid_client");
    // A client registered in workspace 2 cannot redeem workspace 1's code.
    const { row: c2, secret: s2 } = await newClient({ workspaceId: wid2 });
    await expectOAuthError(await tokenRequest(form, { authorization: basic(c2.clientId, s2!) }, T, wid2), 400, "invalid_grant");
    await expectOAuthError(await tokenRequest(form, { authorization: basic(c2.clientId, s2!) }), 401, "invalid_client");
    // Another tenant's path.
    const tenant = await json<{ id: string }>(
      await call("POST", "/api/identity/system/tenants", { token: await systemToken(), body: { name: uid("tn") } }),
      201,
    );
    await expectOAuthError(
      await tokenRequest(form, { authorization: basic(client.clientId, secret!) }, tenant.id, W),
      401,
      "invalid_client",
    );
    await json(await tokenRequest(form, { authorization: basic(client.clientId, secret!) }));
  });
});

describe("storage discipline", () => {
  it("a token request is at most 2 D1 round trips and no KV (code exchange and refresh, signing keys warm)", async () => {
    const user = await newUser();
    const { row: client, secret } = await newClient();
    const session = await newSession(user);
    const measure = async (req: Omit<OidcTokenRequest, "auth">) => {
      const plan = new FaultPlan();
      const call = testWorkspaceCall(W, { env: faultyEnv(env, plan) });
      const res = await createOidcTokens(call, { ...req, auth: { clientId: client.clientId, secret, method: "basic" } });
      const use = storageUse(plan.calls);
      expect(
        use.calls.filter((c) => c.kind === "kv"),
        describeCalls(use),
      ).toEqual([]);
      return { res, trips: use.d1RoundTrips };
    };
    // Warm the per-isolate signing-key cache (a tenant's first signature reads its keys once a minute).
    const warm = await newCode(client, session);
    await measure({ grantType: "authorization_code", code: warm.code, redirectUri: REDIRECT, codeVerifier: warm.verifier });
    const c = await newCode(client, session);
    const exchanged = await measure({ grantType: "authorization_code", code: c.code, redirectUri: REDIRECT, codeVerifier: c.verifier });
    expect(exchanged.trips).toBeLessThanOrEqual(2);
    const refreshed = await measure({ grantType: "refresh_token", refreshToken: exchanged.res.refresh_token });
    expect(refreshed.trips).toBeLessThanOrEqual(2);
    expect(refreshed.res.refresh_token).toBeDefined();
    console.log(`D1 round trips: code exchange ${exchanged.trips}, refresh ${refreshed.trips}`);
  });
});
