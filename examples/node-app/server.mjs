// A small web app that signs its users in with passkeys through passkey-edge, using standard OpenID Connect
// (openid-client v6): discovery, authorization code + PKCE (S256), the verified ID token's claims, refresh, and
// RP-initiated logout. No framework: node:http only. Run next to `npm run dev`:
//
//   node examples/node-app/server.mjs            # http://localhost:3000, client example-app (from the dev seed)
//   CLIENT_ID=example-spa node examples/node-app/server.mjs   # the public client (PKCE only, no secret)
//
// Environment (development defaults): ISSUER (http://localhost:8787/default/default), CLIENT_ID (example-app),
// CLIENT_SECRET (example-app-secret-dev-only for example-app, none otherwise), PORT (3000), APP_URL
// (http://localhost:<PORT>; its /callback and / must be the client's registered redirect and post-logout URIs).
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import * as oidc from "openid-client";

const PORT = Number(process.env.PORT ?? 3000);
const APP_URL = (process.env.APP_URL ?? `http://localhost:${PORT}`).replace(/\/$/, "");
const ISSUER = process.env.ISSUER ?? "http://localhost:8787/default/default";
const CLIENT_ID = process.env.CLIENT_ID ?? "example-app";
const CLIENT_SECRET = process.env.CLIENT_SECRET ?? (CLIENT_ID === "example-app" ? "example-app-secret-dev-only" : "");
const REDIRECT_URI = `${APP_URL}/callback`;
const SCOPE = process.env.SCOPE ?? "openid profile email offline_access";

/** The provider's configuration from discovery, fetched on first use (so the app starts before the service). */
let config;
async function provider() {
  if (config) return config;
  const issuer = new URL(ISSUER);
  // A confidential client authenticates with client_secret_basic (as registered); a public one with PKCE alone.
  const auth = CLIENT_SECRET ? oidc.ClientSecretBasic(CLIENT_SECRET) : oidc.None();
  // http is only allowed for a localhost issuer (development); production issuers are https.
  const local = issuer.protocol === "http:" && ["localhost", "127.0.0.1", "[::1]"].includes(issuer.hostname);
  config = await oidc.discovery(issuer, CLIENT_ID, undefined, auth, local ? { execute: [oidc.allowInsecureRequests] } : undefined);
  return config;
}

/** Browser sessions of this app, in memory: sid cookie → { pending?: {verifier, state, nonce}, tokens?, claims? }. */
const sessions = new Map();
const COOKIE = "example_sid";

function sessionOf(req, res) {
  const sid = /(?:^|;\s*)example_sid=([A-Za-z0-9_-]+)/.exec(req.headers.cookie ?? "")?.[1];
  if (sid && sessions.has(sid)) return sessions.get(sid);
  const id = randomBytes(24).toString("base64url");
  const session = {};
  sessions.set(id, session);
  res.setHeader("set-cookie", `${COOKIE}=${id}; Path=/; HttpOnly; SameSite=Lax${APP_URL.startsWith("https:") ? "; Secure" : ""}`);
  return session;
}

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

function page(res, status, body) {
  res.writeHead(status, {
    "content-type": "text/html; charset=utf-8",
    "cache-control": "no-store",
    "content-security-policy": `default-src 'none'; style-src 'unsafe-inline'; form-action 'self' ${new URL(ISSUER).origin}`,
  });
  res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Example app</title>
<style>body{font:16px system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem}pre{background:#f4f4f5;padding:1rem;overflow:auto}
button,a.button{font:inherit;padding:.5rem 1rem;margin-right:.5rem}form{display:inline}</style></head>
<body><h1>Example app</h1><p>Signs in with passkeys through <code>${esc(ISSUER)}</code> as client <code>${esc(CLIENT_ID)}</code>.</p>
${body}</body></html>`);
}

function redirect(res, location) {
  res.writeHead(302, { location: String(location), "cache-control": "no-store" });
  res.end();
}

function home(session, res, notice = "") {
  if (!session.tokens) {
    return page(
      res,
      200,
      `${notice}<p>You are not signed in.</p><p><a class="button" id="signin" href="/login">Sign in</a>
<a class="button" href="/login?prompt=login">Sign in again (prompt=login)</a></p>`,
    );
  }
  const t = session.tokens;
  const expires = t.expiresIn() ?? 0;
  page(
    res,
    200,
    `${notice}<h2>Signed in</h2><p>The ID token's signature, issuer, audience, expiry and nonce were verified by openid-client.</p>
<h3>ID token claims</h3><pre id="claims">${esc(JSON.stringify(session.claims, null, 2))}</pre>
<h3>UserInfo</h3><pre id="userinfo">${esc(JSON.stringify(session.userinfo ?? null, null, 2))}</pre>
<p>Access token expires in ${expires} s; scope <code>${esc(t.scope ?? "")}</code>; refresh token ${t.refresh_token ? "present" : "absent"}.</p>
<form method="post" action="/refresh"><button id="refresh"${t.refresh_token ? "" : " disabled"}>Refresh tokens</button></form>
<form method="post" action="/logout"><button id="signout">Sign out</button></form>`,
  );
}

async function login(session, url, res) {
  const cfg = await provider();
  const verifier = oidc.randomPKCECodeVerifier();
  const pending = { verifier, state: oidc.randomState(), nonce: oidc.randomNonce() };
  session.pending = pending;
  const params = {
    redirect_uri: REDIRECT_URI,
    scope: SCOPE,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
    state: pending.state,
    nonce: pending.nonce,
  };
  for (const name of ["prompt", "max_age", "login_hint", "acr_values"]) {
    const value = url.searchParams.get(name);
    if (value) params[name] = value;
  }
  redirect(res, oidc.buildAuthorizationUrl(cfg, params));
}

async function callback(session, url, res) {
  const pending = session.pending;
  if (!pending) return page(res, 400, `<p>No sign-in in progress.</p><p><a href="/">Home</a></p>`);
  session.pending = undefined;
  const cfg = await provider();
  // Checks state, iss (RFC 9207), the code exchange with the PKCE verifier, and the ID token (signature, nonce...).
  const tokens = await oidc.authorizationCodeGrant(cfg, url, {
    pkceCodeVerifier: pending.verifier,
    expectedState: pending.state,
    expectedNonce: pending.nonce,
    idTokenExpected: true,
  });
  session.tokens = tokens;
  session.claims = tokens.claims();
  session.userinfo = await oidc.fetchUserInfo(cfg, tokens.access_token, session.claims.sub).catch((e) => ({ error: String(e) }));
  redirect(res, `${APP_URL}/`);
}

async function refresh(session, res) {
  if (!session.tokens?.refresh_token) return redirect(res, `${APP_URL}/`);
  const cfg = await provider();
  const tokens = await oidc.refreshTokenGrant(cfg, session.tokens.refresh_token);
  // A refresh answer may carry a new ID token; the claims of the sign-in stay otherwise.
  session.claims = tokens.claims() ?? session.claims;
  session.tokens = tokens;
  home(session, res, `<p id="notice">Tokens refreshed (the old refresh token no longer works).</p>`);
}

async function logout(session, res) {
  const cfg = await provider();
  const idToken = session.tokens?.id_token;
  const refreshToken = session.tokens?.refresh_token;
  session.tokens = undefined;
  session.claims = undefined;
  session.userinfo = undefined;
  if (refreshToken) await oidc.tokenRevocation(cfg, refreshToken).catch(() => undefined);
  // RP-initiated logout: the provider ends its session, then returns here (a registered post-logout URI). With the
  // sign-in's ID token as id_token_hint it does so at once; without one it asks the user to confirm first.
  const params = { post_logout_redirect_uri: `${APP_URL}/`, client_id: CLIENT_ID };
  if (idToken) params.id_token_hint = idToken;
  redirect(res, oidc.buildEndSessionUrl(cfg, params));
}

const server = createServer(async (req, res) => {
  const url = new URL(req.url ?? "/", APP_URL);
  const session = sessionOf(req, res);
  try {
    if (req.method === "GET" && url.pathname === "/") return home(session, res);
    if (req.method === "GET" && url.pathname === "/login") return await login(session, url, res);
    if (req.method === "GET" && url.pathname === "/callback") return await callback(session, url, res);
    if (req.method === "POST" && url.pathname === "/refresh") return await refresh(session, res);
    if (req.method === "POST" && url.pathname === "/logout") return await logout(session, res);
    page(res, 404, `<p>Not found.</p><p><a href="/">Home</a></p>`);
  } catch (e) {
    // openid-client errors name what failed (e.g. an OAuth error from the provider, or a check of the ID token).
    const oauthError = e instanceof oidc.ResponseBodyError || e instanceof oidc.AuthorizationResponseError;
    const detail = oauthError ? `${e.error}: ${e.error_description ?? ""}` : String(e?.message ?? e);
    console.error(e);
    page(res, 502, `<p role="alert" id="error">Sign-in failed: ${esc(detail)}</p><p><a href="/">Home</a></p>`);
  }
});

server.listen(PORT, () => {
  console.log(`Example app on ${APP_URL} (issuer ${ISSUER}, client ${CLIENT_ID}${CLIENT_SECRET ? "" : ", public"})`);
});
