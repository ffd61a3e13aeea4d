// @ts-check
/**
 * The bench's client side: the public API called over HTTP (or through the census worker), set-up through the system
 * API (pools, workspaces, an OpenID client, users, passkeys via create/begin + complete with the software
 * authenticator), and one iteration of each measured flow. Each concurrent client owns its users.
 */
import { createHash, randomBytes } from "node:crypto";
import { Agent, request } from "node:http";
import { SECRETS } from "./serve.mjs";

const TID = "default";
const REDIRECT = "http://127.0.0.1:9/cb";
/**
 * Passkeys per registration user before the client moves to its next user (the pool's default capacity); the next
 * user is prepared beforehand or made between iterations, untimed.
 */
const REG_PER_USER = 10;

const b64u = (/** @type {Buffer} */ b) => b.toString("base64url");

/**
 * What the client reads of an answer (a fetch Response has it too).
 * @typedef {{ status: number, headers: { get(name: string): string | null }, text(): Promise<string> }} Answer
 * @typedef {(url: string, init: { method: string, headers: Record<string, string>, body?: string, redirect?: "manual" }) => Promise<Answer>} Transport
 */

/** Keep-alive connections for the timed clients (closed by closeHttp). */
const agent = new Agent({ keepAlive: true, maxSockets: 64 });
export const closeHttp = () => agent.destroy();

/**
 * The timed transport: node:http with keep-alive, lighter on the shared CPU than fetch (the client runs on the same
 * two cores as workerd). Redirects are never followed.
 * @type {Transport}
 */
export function nodeHttp(url, init) {
  return new Promise((resolve, reject) => {
    /** @type {Record<string, string | number>} */
    const headers = { ...init.headers };
    if (init.body !== undefined) headers["content-length"] = Buffer.byteLength(init.body);
    const req = request(url, { method: init.method, headers, agent }, (res) => {
      /** @type {Buffer[]} */
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("error", reject);
      res.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        const get = (/** @type {string} */ name) => {
          const v = res.headers[name.toLowerCase()];
          return v === undefined ? null : Array.isArray(v) ? v.join(", ") : v;
        };
        resolve({ status: res.statusCode ?? 0, headers: { get }, text: async () => body });
      });
    });
    req.on("error", reject);
    req.end(init.body);
  });
}

let ipSeq = 0;
/** A fresh client IP per sign-in request (with the high limiter limit, abuse limits never throttle the run). */
const freshIp = () => {
  ipSeq++;
  return `10.${(ipSeq >> 16) & 255}.${(ipSeq >> 8) & 255}.${ipSeq & 255}`;
};

/**
 * @param {string} base the URL the requests go to (127.0.0.1)
 * @param {Transport} transport
 */
export function client(base, transport) {
  /**
   * @param {string} method
   * @param {string} path
   * @param {{ json?: unknown, form?: Record<string, string>, headers?: Record<string, string>, expect?: number }} [o]
   */
  async function req(method, path, o = {}) {
    /** @type {Record<string, string>} */
    const headers = { ...o.headers };
    /** @type {string | undefined} */
    let body;
    if (o.json !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(o.json);
    } else if (o.form !== undefined) {
      headers["content-type"] = "application/x-www-form-urlencoded";
      body = new URLSearchParams(o.form).toString();
    }
    const res = await transport(`${base}${path}`, { method, headers, body, redirect: "manual" });
    const text = await res.text();
    const want = o.expect ?? 200;
    if (res.status !== want) throw new Error(`${method} ${path.split("?")[0]}: ${res.status} (expected ${want}) ${text.slice(0, 300)}`);
    return { res, body: text && res.headers.get("content-type")?.includes("json") ? JSON.parse(text) : text };
  }
  return { base, transport, req };
}

/** @typedef {ReturnType<typeof client>} Client */

/**
 * The set-up: a system token, one pool + workspace per mode (RP ID localhost, origin the issuer), an OpenID client.
 * @param {Client} c
 * @param {string} issuer http://localhost:<port>
 * @param {string} suffix makes ids unique per run
 */
export async function setupTenant(c, issuer, suffix) {
  const basic = `Basic ${Buffer.from(`${SECRETS.SYSTEM_CLIENT_ID}:${SECRETS.SYSTEM_CLIENT_SECRET}`).toString("base64")}`;
  const tok = await c.req("POST", `/${TID}/system/oauth2/token`, {
    form: { grant_type: "client_credentials", scope: "identity" },
    headers: { authorization: basic },
  });
  const auth = { authorization: `Bearer ${tok.body.access_token}` };
  const sys = (/** @type {string} */ method, /** @type {string} */ path, /** @type {unknown} */ json, expect = 200) =>
    c.req(method, `/api/identity/${TID}/system${path}`, { json, headers: auth, expect });
  const passkey_settings = { relying_party_id: "localhost", relying_party_origins: [issuer] };
  /** @type {Record<string, { pool: string, wid: string }>} */
  const modes = {};
  for (const [mode, mech] of [
    ["smart", "usernameless_webauthn"],
    ["classic", "webauthn"],
    ["reg", "usernameless_webauthn"],
  ]) {
    const pool = `bench-${mode}-${suffix}`;
    await sys("POST", "/pools", { id: pool, name: pool, authentication_mechanisms: ["webauthn"], passkey_settings }, 201);
    const wid = `bench-${mode}-${suffix}`;
    await sys("POST", "/workspaces", { id: wid, name: wid, authentication_mechanisms: [mech], identity_pools: [pool] }, 201);
    modes[mode] = { pool, wid };
  }
  const oidc = await sys(
    "POST",
    `/workspaces/${modes.smart?.wid}/clients`,
    {
      client_name: "bench",
      redirect_uris: [REDIRECT],
      grant_types: ["authorization_code"],
      scopes: ["openid", "profile", "email"],
      trusted: true,
      token_endpoint_auth_method: "client_secret_basic",
    },
    201,
  );
  return { auth, sys, modes, issuer, oidcClient: { id: oidc.body.client_id, secret: oidc.body.client_secret } };
}

/** @typedef {Awaited<ReturnType<typeof setupTenant>>} Tenant */

let userSeq = 0;
/**
 * @param {Tenant} t
 * @param {string} pool
 */
async function newUser(t, pool) {
  const email = `u${++userSeq}-${b64u(randomBytes(6))}@bench.example`;
  const u = await t.sys(
    "POST",
    `/pools/${pool}/users`,
    { identifiers: [{ identifier: email, type: "email" }], verifiable_addresses: [{ address: email, type: "email", verified: true }] },
    201,
  );
  return { id: u.body.id, email };
}

/**
 * create/begin + the authenticator + create/complete; returns the SoftCredential.
 * @param {Client} c
 * @param {Tenant} t
 * @param {any} auth a SoftAuthenticator
 * @param {string} pool
 * @param {string} userId
 * @param {"smart" | "classic"} mode
 */
async function register(c, t, auth, pool, userId, mode) {
  const seg = mode === "smart" ? "usernameless-webauthn" : "webauthn";
  const path = `/api/identity/${TID}/system/pools/${pool}/users/${userId}/${seg}`;
  const begin = await c.req("POST", `${path}/create/begin`, { headers: t.auth });
  const response = await auth.register(begin.body.publicKey, { origin: t.issuer });
  await c.req("POST", `${path}/create/complete`, { json: response, headers: t.auth });
  return response;
}

/**
 * One client's users: Smart users (one discoverable passkey each), Classic users (two passkeys each, also used for
 * Get User Details), registration users (fresh, up to REG_PER_USER passkeys each), and an OpenID provider session.
 * @param {Client} c
 * @param {Tenant} t
 * @param {any} Authenticator the SoftAuthenticator class
 * @param {{ users: number, regUsers: number }} n
 */
export async function seedClient(c, t, Authenticator, n) {
  const auth = new Authenticator();
  /** @param {"smart" | "classic"} mode @param {number} keys */
  const enrolled = async (mode, keys) => {
    const pool = t.modes[mode]?.pool ?? "";
    const u = await newUser(t, pool);
    for (let k = 0; k < keys; k++) await register(c, t, auth, pool, u.id, mode);
    return { ...u, creds: auth.credentials.splice(0) };
  };
  const smart = [];
  const classic = [];
  for (let i = 0; i < n.users; i++) {
    smart.push(await enrolled("smart", 1));
    classic.push(await enrolled("classic", 2));
  }
  const reg = [];
  for (let i = 0; i < n.regUsers; i++) reg.push({ ...(await newUser(t, t.modes.reg?.pool ?? "")), count: 0 });
  const state = {
    auth,
    smart,
    classic,
    reg,
    turn: 0,
    regAt: 0,
    untimedMs: 0,
    codes: /** @type {{ code: string, verifier: string }[]} */ ([]),
    cookie: "",
  };
  state.cookie = await oidcSession(c, t, state);
  return state;
}

/** @typedef {Awaited<ReturnType<typeof seedClient>>} ClientState */

/**
 * Smart sign-in: options {} + the authenticator + finish. Returns both answers.
 * @param {Client} c
 * @param {Tenant} t
 * @param {ClientState} s
 * @param {{ authz?: string }} [extra]
 */
async function smartSignin(c, t, s, extra = {}) {
  const u = s.smart[s.turn++ % s.smart.length];
  const wid = t.modes.smart?.wid;
  const opt = await c.req("POST", `/${TID}/${wid}/login/webauthn/options`, { json: {}, headers: { "cf-connecting-ip": freshIp() } });
  const credential = await s.auth.authenticate(opt.body.publicKey, { origin: t.issuer, credential: u?.creds[0] });
  const fin = await c.req("POST", `/${TID}/${wid}/login/webauthn/finish`, {
    json: { login_id: opt.body.login_id, credential, ...extra },
    headers: { "cf-connecting-ip": freshIp() },
  });
  return [opt, fin];
}

/** PKCE pair and the authorize URL's query. */
function authorizeQuery(/** @type {Tenant} */ t) {
  const verifier = b64u(randomBytes(32));
  const challenge = b64u(createHash("sha256").update(verifier).digest());
  const q = new URLSearchParams({
    response_type: "code",
    client_id: t.oidcClient.id,
    redirect_uri: REDIRECT,
    scope: "openid profile email",
    state: b64u(randomBytes(12)),
    nonce: b64u(randomBytes(12)),
    code_challenge: challenge,
    code_challenge_method: "S256",
  });
  return { verifier, query: q.toString() };
}

/**
 * A provider session for this client: authorize without a cookie → the hosted sign-in's ?authz=, a Smart sign-in
 * carrying it → the session cookie.
 * @param {Client} c
 * @param {Tenant} t
 * @param {ClientState} s
 */
async function oidcSession(c, t, s) {
  const wid = t.modes.smart?.wid;
  const a = await c.req("GET", `/${TID}/${wid}/oauth2/authorize?${authorizeQuery(t).query}`, { expect: 302 });
  const authz = new URL(a.res.headers.get("location") ?? "", t.issuer).searchParams.get("authz");
  if (!authz) throw new Error(`authorize without a session did not send to sign-in: ${a.res.headers.get("location")}`);
  const [, fin] = await smartSignin(c, t, s, { authz });
  const cookie = fin.res.headers.get("set-cookie")?.match(/pe_session=[^;]+/)?.[0];
  if (!cookie) throw new Error("sign-in with authz set no provider session cookie");
  return cookie;
}

/**
 * An authorization code through the provider session (authorize with the cookie → 302 redirect_uri?code=).
 * @param {Client} c
 * @param {Tenant} t
 * @param {ClientState} s
 */
export async function mintCode(c, t, s) {
  const { verifier, query } = authorizeQuery(t);
  const a = await c.req("GET", `/${TID}/${t.modes.smart?.wid}/oauth2/authorize?${query}`, { expect: 302, headers: { cookie: s.cookie } });
  const code = new URL(a.res.headers.get("location") ?? "").searchParams.get("code");
  if (!code) throw new Error(`authorize with a session gave no code: ${a.res.headers.get("location")}`);
  return { code, verifier, res: a.res };
}

/**
 * The measured flows. `run` does one iteration and returns the answers of its requests (for the census), or null
 * when the client has nothing left to do (no code left, no registration user left).
 * @type {{ key: string, label: string, requests: string[],
 *   run: (c: Client, t: Tenant, s: ClientState) => Promise<{ res: Answer }[] | null> }[]}
 */
export const FLOWS = [
  {
    key: "smart",
    label: "Smart sign-in (options + finish)",
    requests: ["options", "finish"],
    run: async (c, t, s) => {
      const [opt, fin] = await smartSignin(c, t, s);
      if (typeof fin.body.access_token !== "string") throw new Error(`finish: no access_token: ${JSON.stringify(fin.body).slice(0, 200)}`);
      return [opt, fin];
    },
  },
  {
    key: "classic",
    label: "Classic sign-in (options + finish)",
    requests: ["options", "finish"],
    run: async (c, t, s) => {
      const u = s.classic[s.turn++ % s.classic.length];
      const wid = t.modes.classic?.wid;
      const opt = await c.req("POST", `/${TID}/${wid}/login/webauthn/options`, {
        json: { identifier: u?.email },
        headers: { "cf-connecting-ip": freshIp() },
      });
      const credential = await s.auth.authenticate(opt.body.publicKey, { origin: t.issuer, credential: u?.creds[s.turn % 2] });
      const fin = await c.req("POST", `/${TID}/${wid}/login/webauthn/finish`, {
        json: { login_id: opt.body.login_id, credential },
        headers: { "cf-connecting-ip": freshIp() },
      });
      if (typeof fin.body.access_token !== "string") throw new Error(`finish: no access_token: ${JSON.stringify(fin.body).slice(0, 200)}`);
      return [opt, fin];
    },
  },
  {
    key: "register",
    label: "Registration (begin + complete)",
    requests: ["begin", "complete"],
    run: async (c, t, s) => {
      let u = s.reg[s.regAt];
      if (u && u.count >= REG_PER_USER) u = s.reg[++s.regAt];
      if (!u) {
        // a fresh user, made outside the timed part (the driver takes untimedMs off the latency and the window)
        const from = performance.now();
        u = { ...(await newUser(t, t.modes.reg?.pool ?? "")), count: 0 };
        s.reg.push(u);
        s.untimedMs += performance.now() - from;
      }
      u.count++;
      const path = `/api/identity/${TID}/system/pools/${t.modes.reg?.pool}/users/${u.id}/usernameless-webauthn`;
      const begin = await c.req("POST", `${path}/create/begin`, { headers: t.auth });
      const response = await s.auth.register(begin.body.publicKey, { origin: t.issuer, store: false });
      const complete = await c.req("POST", `${path}/create/complete`, { json: response, headers: t.auth });
      return [begin, complete];
    },
  },
  {
    key: "token",
    label: "OIDC token request (code → tokens)",
    requests: ["token"],
    run: async (c, t, s) => {
      const next = s.codes.shift();
      if (!next) return null;
      const basic = `Basic ${Buffer.from(`${encodeURIComponent(t.oidcClient.id)}:${encodeURIComponent(t.oidcClient.secret)}`).toString("base64")}`;
      const tok = await c.req("POST", `/${TID}/${t.modes.smart?.wid}/oauth2/token`, {
        form: { grant_type: "authorization_code", code: next.code, redirect_uri: REDIRECT, code_verifier: next.verifier },
        headers: { authorization: basic },
      });
      if (typeof tok.body.id_token !== "string") throw new Error(`token: no id_token: ${JSON.stringify(tok.body).slice(0, 200)}`);
      return [tok];
    },
  },
  {
    key: "user",
    label: "Get User Details (2 passkeys)",
    requests: ["get"],
    run: async (c, t, s) => {
      const u = s.classic[s.turn++ % s.classic.length];
      const got = await c.req("GET", `/api/identity/${TID}/system/pools/${t.modes.classic?.pool}/users/${u?.id}`, { headers: t.auth });
      if (got.body.credentials?.length !== 2) throw new Error(`Get User Details: expected 2 passkeys, got ${got.body.credentials?.length}`);
      return [got];
    },
  },
];

/**
 * The floor's sign-in: the same client shape, the same authenticator, the floor worker's two routes.
 * @param {Client} c
 * @param {string} origin
 * @param {{ auth: any, creds: any[], turn: number }} s
 */
export async function floorSignin(c, origin, s) {
  const cred = s.creds[s.turn++ % s.creds.length];
  const opt = await c.req("POST", "/login/options", { json: {} });
  const credential = await s.auth.authenticate(opt.body.publicKey, { origin, credential: cred });
  const fin = await c.req("POST", "/login/finish", { json: { login_id: opt.body.login_id, credential } });
  if (typeof fin.body.access_token !== "string") throw new Error("floor finish: no access_token");
  return [opt, fin];
}

/**
 * A floor client's credentials: registered with the authenticator, public keys stored through the set-up route.
 * @param {Client} c
 * @param {any} Authenticator
 * @param {string} origin
 * @param {number} users
 */
export async function seedFloorClient(c, Authenticator, origin, users) {
  const auth = new Authenticator();
  for (let i = 0; i < users; i++) {
    const user = b64u(randomBytes(16));
    const options = {
      rp: { id: "localhost", name: "floor" },
      user: { id: user, name: user, displayName: user },
      challenge: b64u(randomBytes(32)),
      pubKeyCredParams: [{ type: "public-key", alg: -7 }],
      authenticatorSelection: { residentKey: "required" },
    };
    const r = await auth.register(options, { origin });
    await c.req("POST", "/setup/credential", { json: { id: r.id, user_id: user, public_key: r.response.publicKey }, expect: 201 });
  }
  return { auth, creds: auth.credentials, turn: 0 };
}
