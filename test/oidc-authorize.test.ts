/**
 * The authorization endpoint (issue 10 part B): every error path rendered vs redirected, sign-in through the hosted
 * sign-in API carrying `authz`, the provider session (cookie, reuse, prompt, max_age, acr_values), consent, logout, and
 * isolation across workspaces and tenants. Clients are made with the repo (src/repo/oidc-clients.ts); sessions come
 * from the real sign-in API and the software authenticator.
 */
import { env, SELF } from "cloudflare:test";
import { calculatePKCECodeChallenge, randomPKCECodeVerifier } from "openid-client";
import { decodeJwt } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { b64url, sha256 } from "../src/crypto/bytes";
import { CLIENT_DEFAULTS } from "../src/domain/oidc";
import { insertClientFixture } from "./helpers/oidc-client";
import { authorize } from "../src/services/oidc-authorize";
import { type Flags, SoftAuthenticator } from "./authenticator";
import { call, json, ORIGIN, sys, systemToken, uid } from "./helpers/api";
import { testWorkspaceCall } from "./helpers/call";
import { FaultPlan, faultyEnv } from "./helpers/faults";
import { count, enroll, newPool, newUser } from "./helpers/passkeys";
import { options, setup } from "./helpers/signin";

const REDIRECT = "http://localhost:3000/callback";
const LOGOUT_REDIRECT = "http://localhost:3000/signed-out";
const OTHER_TENANT = uid("oidc-t").replace(/[^A-Za-z0-9_-]/g, "");

async function newClient(wid: string, o: { trusted?: boolean; scopes?: string[]; tid?: string } = {}) {
  const clientId = uid("client");
  const now = Date.now();
  const r = await insertClientFixture(env.DB, {
    ...CLIENT_DEFAULTS,
    tenantId: o.tid ?? "default",
    workspaceId: wid,
    clientId,
    clientName: `App ${clientId}`,
    secretHash: null,
    redirectUris: [REDIRECT],
    postLogoutRedirectUris: [LOGOUT_REDIRECT],
    tokenEndpointAuthMethod: "none",
    scopes: o.scopes ?? ["openid", "profile", "email", "offline_access"],
    trusted: o.trusted ?? true,
    createdAt: now,
    updatedAt: now,
  });
  expect(r).toBe("created");
  return clientId;
}

const challenge = async () => calculatePKCECodeChallenge(randomPKCECodeVerifier());

async function params(clientId: string, extra: Record<string, string | null> = {}): Promise<Record<string, string>> {
  const base: Record<string, string | null> = {
    client_id: clientId,
    redirect_uri: REDIRECT,
    response_type: "code",
    scope: "openid profile",
    state: "st-123",
    nonce: "n-456",
    code_challenge: await challenge(),
    code_challenge_method: "S256",
    ...extra,
  };
  return Object.fromEntries(Object.entries(base).filter((e): e is [string, string] => e[1] !== null));
}

const get = (path: string, cookie?: string) =>
  SELF.fetch(`${ORIGIN}${path}`, { redirect: "manual", headers: cookie ? { cookie, accept: "text/html" } : { accept: "text/html" } });

const authorizeUrl = (wid: string, p: Record<string, string> | URLSearchParams, tid = "default") =>
  `/${tid}/${wid}/oauth2/authorize?${new URLSearchParams(p)}`;

function location(res: Response): URL {
  expect(res.status, "a redirect").toBe(302);
  return new URL(res.headers.get("location")!, ORIGIN);
}

/** A rendered error page: 400 HTML, no redirect, the error code on the page. */
async function expectErrorPage(res: Response, error: string) {
  expect(res.status).toBe(400);
  expect(res.headers.get("location")).toBeNull();
  expect(res.headers.get("content-type")).toMatch(/text\/html/);
  expect(res.headers.get("cache-control")).toBe("no-store");
  expect(res.headers.get("content-security-policy")).toMatch(/default-src 'none'/);
  expect(await res.text()).toContain(error);
}

function expectErrorRedirect(res: Response, error: string, wid: string, state: string | null = "st-123", tid = "default") {
  const to = location(res);
  expect(to.origin + to.pathname).toBe(REDIRECT);
  expect(to.searchParams.get("error")).toBe(error);
  expect(to.searchParams.get("error_description")).toBeTruthy();
  expect(to.searchParams.get("state")).toBe(state);
  expect(to.searchParams.get("iss")).toBe(`${ORIGIN}/${tid}/${wid}`);
  expect(to.searchParams.get("code")).toBeNull();
}

/** The code the redirect carries, checked against its stored row (only the hash is stored). */
async function expectCode(res: Response, wid: string, clientId: string, tid = "default") {
  const to = location(res);
  expect(to.origin + to.pathname).toBe(REDIRECT);
  expect(to.searchParams.get("state")).toBe("st-123");
  expect(to.searchParams.get("iss")).toBe(`${ORIGIN}/${tid}/${wid}`);
  const code = to.searchParams.get("code")!;
  expect(code).toMatch(/^[A-Za-z0-9_-]{43}$/);
  const row = await env.DB.prepare("SELECT * FROM oidc_codes WHERE code_hash = ?")
    .bind(b64url(await sha256(code)))
    .first<Record<string, unknown>>();
  expect(row).toMatchObject({ tenant_id: tid, workspace_id: wid, client_id: clientId, redirect_uri: REDIRECT, nonce: "n-456" });
  expect(await count("oidc_codes", "code_hash = ?", code)).toBe(0);
  return row!;
}

/** Signs in on the sign-in API with `authz`, as the hosted page does: the session cookie and the continue URL. */
async function signIn(wid: string, authz: string, auth: SoftAuthenticator, flags?: Flags, tid = "default") {
  const opts = await options(wid, {}, tid);
  const credential = await auth.authenticate(opts.publicKey, { origin: ORIGIN, ...(flags ? { flags } : {}) });
  const res = await call("POST", `/${tid}/${wid}/login/webauthn/finish`, { body: { login_id: opts.login_id, credential, authz } });
  const body = await json<{ access_token: string; continue_url?: string; providerSession?: unknown }>(res);
  expect(body.providerSession).toBeUndefined();
  const setCookie = res.headers.get("set-cookie") ?? "";
  return { body, setCookie, cookie: setCookie.split(";")[0]! };
}

/** A Smart workspace with one user holding a passkey (device-bound unless `be`). */
async function world(be = false) {
  const { pool, wid } = await setup("smart", { passkey_settings: { user_verification: "preferred" } });
  const user = await newUser(pool);
  const auth = new SoftAuthenticator();
  await enroll(auth, pool, user.id, "smart", { flags: { be, bs: be } });
  return { pool, wid, user, auth };
}

/** Authorize without a session, sign in with authz, follow the resume step: returns that response and the cookie. */
async function signInThrough(wid: string, p: Record<string, string>, auth: SoftAuthenticator, flags?: Flags) {
  const to = location(await get(authorizeUrl(wid, p)));
  expect(to.pathname).toBe(`/default/${wid}/login`);
  const authz = to.searchParams.get("authz")!;
  const s = await signIn(wid, authz, auth, flags);
  expect(s.body.continue_url).toBe(`/default/${wid}/oauth2/authorize/resume?authz=${authz}`);
  return { res: await get(s.body.continue_url!, s.cookie), cookie: s.cookie, setCookie: s.setCookie, authz };
}

describe("authorize: errors before client and redirect_uri render a page, never redirect", () => {
  it("missing, repeated, malformed or unknown client_id; missing, repeated or unregistered redirect_uri", async () => {
    const { wid } = await setup("smart");
    const clientId = await newClient(wid);
    const p = await params(clientId);
    const cases: [Record<string, string> | URLSearchParams, string][] = [
      [{ ...p, client_id: "" }, "invalid_request"],
      [{ ...p, client_id: "bad id!" }, "invalid_request"],
      [{ ...p, client_id: "nobody" }, "invalid_client"],
      [new URLSearchParams([...Object.entries(p), ["client_id", clientId]]), "invalid_request"],
      [new URLSearchParams(Object.entries(p).filter(([k]) => k !== "redirect_uri")), "invalid_request"],
      [new URLSearchParams([...Object.entries(p), ["redirect_uri", REDIRECT]]), "invalid_request"],
      [{ ...p, redirect_uri: "http://localhost:3000/callback/" }, "invalid_request"],
      [{ ...p, redirect_uri: "https://evil.example/callback" }, "invalid_request"],
    ];
    const noId = new URLSearchParams(Object.entries(p).filter(([k]) => k !== "client_id"));
    await expectErrorPage(await get(authorizeUrl(wid, noId)), "invalid_request");
    for (const [q, error] of cases) await expectErrorPage(await get(authorizeUrl(wid, q)), error);
  });

  it("a POST must be form-encoded; a form-encoded POST works like GET", async () => {
    const { wid } = await setup("smart");
    const clientId = await newClient(wid);
    const path = `/default/${wid}/oauth2/authorize`;
    const json = await SELF.fetch(`${ORIGIN}${path}`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(await params(clientId)),
    });
    await expectErrorPage(json, "invalid_request");
    const form = await SELF.fetch(`${ORIGIN}${path}`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(await params(clientId, { prompt: "none" })),
    });
    expectErrorRedirect(form, "login_required", wid);
  });
});

describe("authorize: later errors redirect with error, error_description, state and iss", () => {
  it("response_type, PKCE, scope, prompt, max_age, request objects, repeats", async () => {
    const { wid } = await setup("smart");
    const clientId = await newClient(wid, { scopes: ["openid", "profile"] });
    const p = await params(clientId);
    const cases: [Record<string, string | null> | URLSearchParams, string][] = [
      [{ response_type: "token" }, "unsupported_response_type"],
      [{ response_type: null }, "invalid_request"],
      [{ response_mode: "fragment" }, "invalid_request"],
      [{ code_challenge: null }, "invalid_request"],
      [{ code_challenge_method: "plain" }, "invalid_request"],
      [{ code_challenge: "short" }, "invalid_request"],
      [{ scope: "profile" }, "invalid_scope"],
      [{ scope: "openid email" }, "invalid_scope"],
      [{ prompt: "none login" }, "invalid_request"],
      [{ prompt: "select_account" }, "invalid_request"],
      [{ max_age: "-1" }, "invalid_request"],
      [{ request: "eyJ..." }, "request_not_supported"],
      [{ request_uri: "https://x.example/r" }, "request_uri_not_supported"],
      [new URLSearchParams([...Object.entries(p), ["scope", "openid"]]), "invalid_request"],
    ];
    for (const [extra, error] of cases) {
      const q = extra instanceof URLSearchParams ? extra : await params(clientId, extra);
      expectErrorRedirect(await get(authorizeUrl(wid, q)), error, wid);
    }
    // Without state, the error carries none.
    expectErrorRedirect(
      await get(authorizeUrl(wid, await params(clientId, { state: null, response_type: "token" }))),
      "unsupported_response_type",
      wid,
      null,
    );
  });

  it("prompt=none without a session: login_required", async () => {
    const { wid } = await setup("smart");
    const clientId = await newClient(wid);
    expectErrorRedirect(await get(authorizeUrl(wid, await params(clientId, { prompt: "none" }))), "login_required", wid);
  });
});

describe("authorize: sign-in on the hosted page, provider session, codes", () => {
  it("no session → the sign-in page with authz; the sign-in sets the cookie and the resume step issues the code", async () => {
    const { wid, user, auth } = await world();
    const clientId = await newClient(wid);
    const { res, setCookie } = await signInThrough(wid, await params(clientId, { login_hint: "ada@example.com" }), auth);
    expect(setCookie).toMatch(/^pe_session=[A-Za-z0-9_-]{43};/);
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Lax/i);
    expect(setCookie).toContain(`Path=/default/${wid}`);
    expect(setCookie).not.toMatch(/Secure/i); // http://localhost
    const row = await expectCode(res, wid, clientId);
    expect(row).toMatchObject({ user_id: user.id, acr: "phrh", scope: "openid profile" });
    expect(JSON.parse(String(row.amr))).toEqual(["pop", "hwk", "user"]);
    // The pending request is used up: resuming again is an error page.
    const session = await env.DB.prepare("SELECT * FROM oidc_sessions WHERE user_id = ?").bind(user.id).first<Record<string, unknown>>();
    expect(session).toMatchObject({ tenant_id: "default", workspace_id: wid, acr: "phrh" });
  });

  it("the login page prefills login_hint and a sign-in without authz sets no cookie", async () => {
    const { wid, auth } = await world();
    const clientId = await newClient(wid);
    const to = location(await get(authorizeUrl(wid, await params(clientId, { login_hint: "ada@example.com" }))));
    const page = await (await get(to.pathname + to.search)).text();
    expect(page).toContain('value="ada@example.com"');
    const opts = await options(wid);
    const res = await call("POST", `/default/${wid}/login/webauthn/finish`, {
      body: { login_id: opts.login_id, credential: await auth.authenticate(opts.publicKey, { origin: ORIGIN }) },
    });
    const body = await json<Record<string, unknown>>(res);
    expect(body.continue_url).toBeUndefined();
    expect(res.headers.get("set-cookie")).toBeNull();
  });

  it("session reuse (SSO across clients), prompt=none, prompt=login, max_age", async () => {
    const { wid, user, auth } = await world();
    const a = await newClient(wid);
    const b = await newClient(wid);
    const { res, cookie } = await signInThrough(wid, await params(a), auth);
    await expectCode(res, wid, a);
    // Another client of the workspace: a code at once, no sign-in.
    await expectCode(await get(authorizeUrl(wid, await params(b)), cookie), wid, b);
    await expectCode(await get(authorizeUrl(wid, await params(b, { prompt: "none" })), cookie), wid, b);
    // prompt=login: back to the sign-in page even with a session.
    expect(location(await get(authorizeUrl(wid, await params(b, { prompt: "login" })), cookie)).pathname).toBe(`/default/${wid}/login`);
    // max_age: a sign-in an hour old is too old for 60 s, fine for 7200 s.
    await env.DB.prepare("UPDATE oidc_sessions SET auth_time = auth_time - 3600000 WHERE user_id = ?").bind(user.id).run();
    expect(location(await get(authorizeUrl(wid, await params(b, { max_age: "60" })), cookie)).pathname).toBe(`/default/${wid}/login`);
    expectErrorRedirect(await get(authorizeUrl(wid, await params(b, { max_age: "60", prompt: "none" })), cookie), "login_required", wid);
    await expectCode(await get(authorizeUrl(wid, await params(b, { max_age: "7200" })), cookie), wid, b);
    // prompt=login, then signing in again: the new sign-in is fresh enough.
    const again = await signInThrough(wid, await params(b, { prompt: "login" }), auth);
    await expectCode(again.res, wid, b);
    // A forged or unknown cookie is no session.
    expect(location(await get(authorizeUrl(wid, await params(b)), "pe_session=forged")).pathname).toBe(`/default/${wid}/login`);
  });

  it("acr_values=phrh: a synced passkey does not satisfy it and the page says so; a device-bound one does", async () => {
    const synced = await world(true);
    const clientId = await newClient(synced.wid);
    const p = await params(clientId, { acr_values: "phrh" });
    const first = location(await get(authorizeUrl(synced.wid, p)));
    expect(await (await get(first.pathname + first.search)).text()).toContain("device-bound passkey");
    const { res, cookie } = await signInThrough(synced.wid, p, synced.auth);
    const back = location(res);
    expect(back.pathname).toBe(`/default/${synced.wid}/login`);
    expect(back.searchParams.get("reason")).toBe("acr");
    expect(await (await get(back.pathname + back.search)).text()).toContain("This app needs a device-bound passkey");
    // The synced passkey's session serves acr phr.
    const code = await expectCode(
      await get(authorizeUrl(synced.wid, await params(clientId, { acr_values: "phr" })), cookie),
      synced.wid,
      clientId,
    );
    expect(code.acr).toBe("phr");
    expect(JSON.parse(String(code.amr))).toEqual(["pop", "swk", "user"]);

    const bound = await world(false);
    const c2 = await newClient(bound.wid);
    const ok = await signInThrough(bound.wid, await params(c2, { acr_values: "phrh" }), bound.auth);
    expect((await expectCode(ok.res, bound.wid, c2)).acr).toBe("phrh");
    // Device-bound without user verification is not phrh either.
    const c3 = await newClient(bound.wid);
    const noUv = await signInThrough(bound.wid, await params(c3, { acr_values: "phrh" }), bound.auth, { uv: false });
    expect(location(noUv.res).searchParams.get("reason")).toBe("acr");
  });

  it("password first factor then passkey second factor: amr pwd + passkey + mfa", async () => {
    const { pool, wid } = await setup("classic", {
      authentication_mechanisms: ["password"],
      second_factor_authentication_mechanisms: ["webauthn"],
    });
    const user = await newUser(pool, "default", { credentials: [{ type: "password", password: "correct horse battery" }] });
    const auth = new SoftAuthenticator();
    await enroll(auth, pool, user.id, "classic");
    const clientId = await newClient(wid);
    const to = location(await get(authorizeUrl(wid, await params(clientId))));
    const authz = to.searchParams.get("authz")!;
    const first = await json<{ login_id: string; next: string[] }>(
      await call("POST", `/default/${wid}/login/password`, { body: { identifier: user.email, password: "correct horse battery", authz } }),
    );
    expect(first.next).toEqual(["webauthn"]);
    const opts = await options(wid, { login_id: first.login_id });
    const credential = await auth.authenticate(opts.publicKey, { origin: ORIGIN });
    const res = await call("POST", `/default/${wid}/login/webauthn/finish`, { body: { login_id: opts.login_id, credential, authz } });
    const body = await json<{ continue_url: string }>(res);
    const cookie = res.headers.get("set-cookie")!.split(";")[0]!;
    const row = await expectCode(await get(body.continue_url, cookie), wid, clientId);
    expect(JSON.parse(String(row.amr))).toEqual(["pwd", "pop", "hwk", "user", "mfa"]);
    expect(row.acr).toBe("phrh");
  });
});

describe("storage discipline", () => {
  it("an authorization with a usable session: 2 D1 round trips, no KV", async () => {
    const { wid, auth } = await world();
    const clientId = await newClient(wid);
    const { res, cookie } = await signInThrough(wid, await params(clientId), auth);
    await expectCode(res, wid, clientId);
    const plan = new FaultPlan();
    const s = testWorkspaceCall(wid, { env: faultyEnv(env, plan) });
    const out = await authorize(s, new URLSearchParams(await params(clientId)), cookie.slice("pe_session=".length));
    expect(out.kind).toBe("redirect");
    expect(out.kind === "redirect" && new URL(out.to).searchParams.get("code")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(plan.calls.filter((c) => c.kind === "kv")).toEqual([]);
    expect(plan.calls.filter((c) => c.kind === "d1").length).toBe(2);
  });
});

describe("consent for clients that are not trusted", () => {
  it("asks, denies with access_denied, remembers an allow, prompt=consent asks again, prompt=none says consent_required", async () => {
    const { wid, user, auth } = await world();
    const clientId = await newClient(wid, { trusted: false });
    const { res, cookie } = await signInThrough(wid, await params(clientId), auth);
    const consentAt = location(res);
    expect(consentAt.pathname).toBe(`/default/${wid}/oauth2/consent`);
    const pageRes = await get(consentAt.pathname + consentAt.search, cookie);
    expect(pageRes.status).toBe(200);
    expect(pageRes.headers.get("content-security-policy")).toContain("form-action 'self' http://localhost:3000");
    const html = await pageRes.text();
    expect(html).toContain('data-scope="profile"');
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!;
    const authz = consentAt.searchParams.get("authz")!;
    const post = (form: Record<string, string>, c = cookie) =>
      SELF.fetch(`${ORIGIN}/default/${wid}/oauth2/consent`, {
        method: "POST",
        redirect: "manual",
        headers: { "content-type": "application/x-www-form-urlencoded", cookie: c },
        body: new URLSearchParams(form),
      });
    // Without the session, or with a token of another request: refused, nothing remembered.
    await expectErrorPage(await post({ authz, csrf, decision: "allow" }, "pe_session=forged"), "invalid_request");
    await expectErrorPage(await post({ authz, csrf: "x".repeat(43), decision: "allow" }), "invalid_request");
    expect(await count("oidc_consents", "user_id = ?", user.id)).toBe(0);
    // Deny.
    expectErrorRedirect(await post({ authz, csrf, decision: "deny" }), "access_denied", wid);
    // prompt=none before any consent: consent_required.
    expectErrorRedirect(await get(authorizeUrl(wid, await params(clientId, { prompt: "none" })), cookie), "consent_required", wid);
    // Allow: the code, and the consent is remembered.
    const again = location(await get(authorizeUrl(wid, await params(clientId)), cookie));
    expect(again.pathname).toBe(`/default/${wid}/oauth2/consent`);
    const html2 = await (await get(again.pathname + again.search, cookie)).text();
    const csrf2 = /name="csrf" value="([^"]+)"/.exec(html2)![1]!;
    await expectCode(await post({ authz: again.searchParams.get("authz")!, csrf: csrf2, decision: "allow" }), wid, clientId);
    expect(await count("oidc_consents", "user_id = ?", user.id)).toBe(1);
    await expectCode(await get(authorizeUrl(wid, await params(clientId)), cookie), wid, clientId);
    await expectCode(await get(authorizeUrl(wid, await params(clientId, { prompt: "none" })), cookie), wid, clientId);
    // A wider scope set asks again; prompt=consent asks even when remembered.
    expect(location(await get(authorizeUrl(wid, await params(clientId, { scope: "openid email" })), cookie)).pathname).toBe(
      `/default/${wid}/oauth2/consent`,
    );
    expect(location(await get(authorizeUrl(wid, await params(clientId, { prompt: "consent" })), cookie)).pathname).toBe(
      `/default/${wid}/oauth2/consent`,
    );
  });
});

describe("RP-initiated logout", () => {
  const logoutUrl = (wid: string, p: Record<string, string>) => `/default/${wid}/oidc/logout?${new URLSearchParams(p)}`;
  /** A page from another site: a link or <img> to the logout address (the browser sends the Lax cookie on a top-level GET). */
  const crossSite = (path: string, cookie: string) =>
    SELF.fetch(`${ORIGIN}${path}`, {
      redirect: "manual",
      headers: { cookie, accept: "text/html", "sec-fetch-site": "cross-site", referer: "https://evil.example/" },
    });
  const postLogout = (wid: string, form: Record<string, string>, cookie?: string, contentType = "application/x-www-form-urlencoded") =>
    SELF.fetch(`${ORIGIN}/default/${wid}/oidc/logout`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": contentType, ...(cookie ? { cookie } : {}) },
      body: new URLSearchParams(form),
    });
  const sessions = (userId: string) => count("oidc_sessions", "user_id = ?", userId);

  /** Signs in through the authorization endpoint and redeems the code: the session cookie, its sid and the tokens. */
  async function signedIn(wid: string, clientId: string, auth: SoftAuthenticator) {
    const verifier = randomPKCECodeVerifier();
    const { res, cookie } = await signInThrough(
      wid,
      await params(clientId, { code_challenge: await calculatePKCECodeChallenge(verifier) }),
      auth,
    );
    const code = location(res).searchParams.get("code")!;
    const tokens = await json<{ id_token: string; access_token: string }>(
      await SELF.fetch(`${ORIGIN}/default/${wid}/oauth2/token`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({
          grant_type: "authorization_code",
          code,
          redirect_uri: REDIRECT,
          code_verifier: verifier,
          client_id: clientId,
        }),
      }),
    );
    const { sid } = decodeJwt(tokens.id_token) as { sid: string };
    return { cookie, sid, idToken: tokens.id_token, accessToken: tokens.access_token };
  }

  /** The confirmation page: 200 HTML, the session cookie left alone; its form's hidden fields. */
  async function expectConfirmation(res: Response, redirectOrigin: string | null = "http://localhost:3000") {
    expect(res.status).toBe(200);
    expect(res.headers.get("set-cookie")).toBeNull();
    expect(res.headers.get("cache-control")).toBe("no-store");
    const formAction = /form-action ([^;]+)/.exec(res.headers.get("content-security-policy") ?? "")![1]!.split(" ");
    expect(formAction).toEqual(redirectOrigin ? ["'self'", redirectOrigin] : ["'self'"]);
    const html = await res.text();
    expect(html).not.toContain("<script");
    const fields = Object.fromEntries(
      [...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]),
    );
    return { html, fields };
  }

  it("with an id_token_hint naming the session: no question; the session ends (row, codes, cookie), then the registered target with state", async () => {
    const { wid, user, auth } = await world();
    const clientId = await newClient(wid);
    const { cookie, idToken, sid } = await signedIn(wid, clientId, auth);
    await expectCode(await get(authorizeUrl(wid, await params(clientId)), cookie), wid, clientId);
    // An unregistered target: an error page, and the session stays.
    const bad = await get(logoutUrl(wid, { id_token_hint: idToken, post_logout_redirect_uri: "https://evil.example/" }), cookie);
    await expectErrorPage(bad, "invalid_request");
    // A hint that is not an ID token of this workspace (forged, or an access token), or another client_id: refused too.
    const forged = await get(
      logoutUrl(wid, { id_token_hint: "eyJhbGciOiJIUzI1NiJ9.e30.x", post_logout_redirect_uri: LOGOUT_REDIRECT }),
      cookie,
    );
    await expectErrorPage(forged, "invalid_request");
    const { accessToken } = await signedIn(wid, clientId, auth);
    await expectErrorPage(await get(logoutUrl(wid, { id_token_hint: accessToken }), cookie), "invalid_request");
    await expectErrorPage(await get(logoutUrl(wid, { id_token_hint: idToken, client_id: "someone-else" }), cookie), "invalid_request");
    const tampered = idToken.replace(/\.[^.]+\./, `.${b64url(new TextEncoder().encode(JSON.stringify({ sub: user.id })))}.`);
    await expectErrorPage(await get(logoutUrl(wid, { id_token_hint: tampered }), cookie), "invalid_request");
    expect(await sessions(user.id)).toBe(2);

    const out = await crossSite(
      logoutUrl(wid, { id_token_hint: idToken, post_logout_redirect_uri: LOGOUT_REDIRECT, state: "bye" }),
      cookie,
    );
    const to = location(out);
    expect(to.origin + to.pathname).toBe(LOGOUT_REDIRECT);
    expect([...to.searchParams]).toEqual([["state", "bye"]]);
    expect(out.headers.get("set-cookie")).toMatch(/pe_session=;.*Max-Age=0/i);
    expect(await sessions(user.id)).toBe(1); // the other sign-in's session is not this one
    expect(await count("oidc_codes", "session_id = ?", sid)).toBe(0);
    expect(await count("oidc_sessions", "id = ?", sid)).toBe(0);
    // The old cookie no longer signs in.
    expect(location(await get(authorizeUrl(wid, await params(clientId)), cookie)).pathname).toBe(`/default/${wid}/login`);
  });

  it("without a hint, a cross-site GET only asks: the session and its cookie keep working; the form's POST ends it", async () => {
    const { wid, user, auth } = await world();
    const clientId = await newClient(wid);
    const { cookie } = await signedIn(wid, clientId, auth);
    const name = (await env.DB.prepare("SELECT name FROM workspaces WHERE tenant_id = 'default' AND id = ?")
      .bind(wid)
      .first<{ name: string }>())!.name;

    const asked = await crossSite(logoutUrl(wid, { client_id: clientId, post_logout_redirect_uri: LOGOUT_REDIRECT, state: "bye" }), cookie);
    const { html, fields } = await expectConfirmation(asked);
    expect(html).toContain(`Sign out of ${name}?`);
    expect(html).toContain(`App ${clientId}`);
    expect(html).toContain(`action="/default/${wid}/oidc/logout"`);
    expect(fields).toMatchObject({ client_id: clientId, post_logout_redirect_uri: LOGOUT_REDIRECT, state: "bye" });
    expect(fields.csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // Nothing ended: the row is there and the cookie still signs in silently.
    expect(await sessions(user.id)).toBe(1);
    await expectCode(await get(authorizeUrl(wid, await params(clientId, { prompt: "none" })), cookie), wid, clientId);

    // The answer: form-encoded only; a missing, forged or wrong token is refused and the session stays.
    const answer = { ...fields, decision: "logout" };
    await expectErrorPage(await postLogout(wid, answer, cookie, "application/json"), "invalid_request");
    await expectErrorPage(await postLogout(wid, { ...answer, csrf: "" }, cookie), "invalid_request");
    await expectErrorPage(await postLogout(wid, { ...answer, csrf: `${fields.csrf!.slice(0, -2)}AA` }, cookie), "invalid_request");
    await expectErrorPage(await postLogout(wid, { ...answer, decision: "maybe" }, cookie), "invalid_request");
    // The target is checked again: a registered one only.
    await expectErrorPage(
      await postLogout(wid, { ...answer, post_logout_redirect_uri: "https://evil.example/" }, cookie),
      "invalid_request",
    );
    expect(await sessions(user.id)).toBe(1);
    await expectCode(await get(authorizeUrl(wid, await params(clientId, { prompt: "none" })), cookie), wid, clientId);

    const out = await postLogout(wid, answer, cookie);
    expect(out.headers.get("cache-control")).toBe("no-store");
    const to = location(out);
    expect(to.origin + to.pathname).toBe(LOGOUT_REDIRECT);
    expect(to.searchParams.get("state")).toBe("bye");
    expect(out.headers.get("set-cookie")).toMatch(/pe_session=;.*Max-Age=0/i);
    expect(await sessions(user.id)).toBe(0);
    expectErrorRedirect(await get(authorizeUrl(wid, await params(clientId, { prompt: "none" })), cookie), "login_required", wid);
  });

  it("the form's token is bound to its session; a hint of another session or user asks too", async () => {
    const one = await world();
    const clientId = await newClient(one.wid);
    const first = await signedIn(one.wid, clientId, one.auth);
    const second = await signedIn(one.wid, clientId, one.auth);
    expect(first.sid).not.toBe(second.sid);
    // The first sign-in's ID token names another session than the second cookie's: the user is asked.
    const asked = await expectConfirmation(await get(logoutUrl(one.wid, { id_token_hint: first.idToken }), second.cookie), null);
    expect(asked.fields).toMatchObject({ client_id: clientId });
    // Another user's session in the same workspace: asked as well.
    const other = await newUser(one.pool);
    const otherAuth = new SoftAuthenticator();
    await enroll(otherAuth, one.pool, other.id, "smart", { flags: { be: false, bs: false } });
    const theirs = await signedIn(one.wid, clientId, otherAuth);
    await expectConfirmation(await get(logoutUrl(one.wid, { id_token_hint: theirs.idToken }), second.cookie), null);
    // The second session's form token does not end the first session, nor the other user's.
    const token = asked.fields.csrf!;
    await expectErrorPage(await postLogout(one.wid, { csrf: token, decision: "logout" }, first.cookie), "invalid_request");
    await expectErrorPage(await postLogout(one.wid, { csrf: token, decision: "logout" }, theirs.cookie), "invalid_request");
    expect(await sessions(one.user.id)).toBe(2);
    expect(await sessions(other.id)).toBe(1);
    // Its own session: signed out, the signed-out page (no target), the other sessions untouched.
    const out = await postLogout(one.wid, { csrf: token, decision: "logout" }, second.cookie);
    expect(out.status).toBe(200);
    expect(out.headers.get("set-cookie")).toMatch(/pe_session=;.*Max-Age=0/i);
    expect(await out.text()).toContain("signed out");
    expect(await sessions(one.user.id)).toBe(1);
    expect(await sessions(other.id)).toBe(1);
  });

  it("Stay signed in: back to the target with state, or a page; the session stays", async () => {
    const { wid, user, auth } = await world();
    const clientId = await newClient(wid);
    const { cookie } = await signedIn(wid, clientId, auth);
    const { fields } = await expectConfirmation(
      await get(logoutUrl(wid, { client_id: clientId, post_logout_redirect_uri: LOGOUT_REDIRECT, state: "s1" }), cookie),
    );
    const back = await postLogout(wid, { ...fields, decision: "stay" }, cookie);
    const to = location(back);
    expect(to.origin + to.pathname).toBe(LOGOUT_REDIRECT);
    expect(to.searchParams.get("state")).toBe("s1");
    expect(back.headers.get("set-cookie")).toBeNull();
    const page = await postLogout(wid, { csrf: fields.csrf!, decision: "stay" }, cookie);
    expect(page.status).toBe(200);
    expect(page.headers.get("set-cookie")).toBeNull();
    expect(await page.text()).toContain("still signed in");
    expect(await sessions(user.id)).toBe(1);
    await expectCode(await get(authorizeUrl(wid, await params(clientId, { prompt: "none" })), cookie), wid, clientId);
  });

  it("without a session: nothing to end, the registered target or the signed-out page; the target rules stay", async () => {
    const { wid } = await setup("smart");
    const clientId = await newClient(wid);
    const res = await get(`/default/${wid}/oidc/logout`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("signed out");
    const to = location(
      await get(logoutUrl(wid, { client_id: clientId, post_logout_redirect_uri: LOGOUT_REDIRECT, state: "x" }), "pe_session=gone"),
    );
    expect(to.href).toBe(`${LOGOUT_REDIRECT}?state=x`);
    await expectErrorPage(await get(logoutUrl(wid, { post_logout_redirect_uri: LOGOUT_REDIRECT })), "invalid_request");
    await expectErrorPage(await get(logoutUrl(wid, { client_id: "nobody", post_logout_redirect_uri: LOGOUT_REDIRECT })), "invalid_request");
    await expectErrorPage(
      await get(logoutUrl(wid, { client_id: clientId, post_logout_redirect_uri: `${LOGOUT_REDIRECT}/x` })),
      "invalid_request",
    );
    // The form's answer without a session ends nothing and needs no token.
    expect(
      location(await postLogout(wid, { decision: "logout", client_id: clientId, post_logout_redirect_uri: LOGOUT_REDIRECT })).href,
    ).toBe(LOGOUT_REDIRECT);
  });
});

describe("isolation: a client of one workspace or tenant never gets a code from another", () => {
  beforeAll(async () => {
    await json(
      await call("POST", "/api/identity/system/tenants", { token: await systemToken(), body: { id: OTHER_TENANT, name: "OIDC other" } }),
      201,
    );
  });

  it("another workspace's client is unknown here; another workspace's session is no session here", async () => {
    const one = await world();
    const two = await world();
    const clientOfOne = await newClient(one.wid);
    const clientOfTwo = await newClient(two.wid);
    const { res, cookie } = await signInThrough(one.wid, await params(clientOfOne), one.auth);
    await expectCode(res, one.wid, clientOfOne);
    // Workspace two's authorize endpoint does not know workspace one's client (rendered, no redirect).
    await expectErrorPage(await get(authorizeUrl(two.wid, await params(clientOfOne)), cookie), "invalid_client");
    // Workspace one's session cookie does not sign the user in to workspace two.
    expect(location(await get(authorizeUrl(two.wid, await params(clientOfTwo)), cookie)).pathname).toBe(`/default/${two.wid}/login`);
    // A pending request of workspace one cannot be resumed through workspace two.
    const pending = location(await get(authorizeUrl(one.wid, await params(clientOfOne, { prompt: "login" })), cookie));
    await expectErrorPage(
      await get(`/default/${two.wid}/oauth2/authorize/resume?authz=${pending.searchParams.get("authz")}`, cookie),
      "invalid_request",
    );
  });

  it("another tenant's client (same workspace id) is unknown here, and the other way round", async () => {
    const { wid } = await setup("smart");
    const otherPool = await newPool({}, OTHER_TENANT);
    await json(
      await sys("POST", "/workspaces", { tid: OTHER_TENANT, body: { id: wid, name: "same id", identity_pools: [otherPool] } }),
      201,
    );
    const foreign = await newClient(wid, { tid: OTHER_TENANT });
    await expectErrorPage(await get(authorizeUrl(wid, await params(foreign))), "invalid_client");
    const here = await newClient(wid);
    await expectErrorPage(await get(authorizeUrl(wid, await params(here), OTHER_TENANT)), "invalid_client");
    // Each tenant's own client works in its own tenant (to the sign-in page).
    expect(location(await get(authorizeUrl(wid, await params(foreign), OTHER_TENANT))).pathname).toBe(`/${OTHER_TENANT}/${wid}/login`);
  });
});
