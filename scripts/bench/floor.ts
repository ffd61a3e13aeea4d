/**
 * The floor of `npm run bench` (issue 11): a minimal Worker that does only the irreducible work of a passkey sign-in,
 * served by Miniflare the same way as the real one and driven by the same client and software authenticator.
 *
 * - POST /login/options: one KV write (a random challenge, 300 s TTL) → {login_id, publicKey}.
 * - POST /login/finish: one KV read (the challenge), one D1 read (the credential row), the cheap WebAuthn checks
 *   (type, challenge, origin, RP ID hash, UP/UV flags, sign count), one ECDSA P-256 verify, one ES256 sign (WebCrypto,
 *   key made once per isolate), one D1 batch of two writes (consumed challenge, sign count) → {access_token}.
 * - POST /setup/credential: stores a credential's public key (bench set-up only, not measured, no verification).
 * - GET /verify?n=: n P-256 `crypto.subtle.verify` calls in a loop (the client times it: workerd's clock does not
 *   advance without I/O), the raw verify rate inside workerd.
 *
 * Tables are created by the bench (scripts/bench/index.mjs FLOOR_SCHEMA).
 */

interface FloorEnv {
  FLOOR_KV: KVNamespace;
  FLOOR_DB: D1Database;
  RP_ID: string;
  ORIGIN: string;
}

const enc = new TextEncoder();
const ECDSA = { name: "ECDSA", namedCurve: "P-256" } as const;
const SIGN = { name: "ECDSA", hash: "SHA-256" } as const;

function b64url(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromB64url(s: string): Uint8Array<ArrayBuffer> {
  const b64 = s.replace(/-/g, "+").replace(/_/g, "/");
  const bin = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** ASN.1 DER ECDSA signature → the raw r||s (32 + 32 bytes) that WebCrypto verifies. */
function derToRaw(der: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(64);
  let i = 2; // SEQUENCE tag and length (always < 128 for P-256)
  for (const half of [0, 32]) {
    const len = der[i + 1] ?? 0;
    const int = der.subarray(i + 2, i + 2 + len);
    const trimmed = int.length > 32 ? int.subarray(int.length - 32) : int;
    out.set(trimmed, half + 32 - trimmed.length);
    i += 2 + len;
  }
  return out;
}

const sha256 = async (data: Uint8Array<ArrayBuffer>) => new Uint8Array(await crypto.subtle.digest("SHA-256", data));

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return d === 0;
}

let signingKey: Promise<CryptoKeyPair> | undefined;
const tokenKey = () => {
  signingKey ??= crypto.subtle.generateKey(ECDSA, false, ["sign", "verify"]) as Promise<CryptoKeyPair>;
  return signingKey;
};

async function es256(claims: Record<string, unknown>): Promise<string> {
  const header = b64url(enc.encode(JSON.stringify({ alg: "ES256", typ: "JWT", kid: "floor" })));
  const payload = b64url(enc.encode(JSON.stringify(claims)));
  const input = `${header}.${payload}`;
  const sig = await crypto.subtle.sign(SIGN, (await tokenKey()).privateKey, enc.encode(input));
  return `${input}.${b64url(new Uint8Array(sig))}`;
}

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", "cache-control": "no-store" } });
const fail = () => json({ status_code: 401, error: "Authentication failed", error_code: "authentication_failed", details: {} }, 401);

async function options(env: FloorEnv, request: Request): Promise<Response> {
  await request.json(); // {}: read like any options body (an unread body also costs the connection its keep-alive)
  const loginId = b64url(crypto.getRandomValues(new Uint8Array(16)));
  const challenge = b64url(crypto.getRandomValues(new Uint8Array(32)));
  await env.FLOOR_KV.put(`login:${loginId}`, challenge, { expirationTtl: 300 });
  return json({
    login_id: loginId,
    publicKey: { challenge, rpId: env.RP_ID, allowCredentials: [], userVerification: "required", timeout: 60000 },
  });
}

interface Assertion {
  login_id: string;
  credential: { id: string; response: { clientDataJSON: string; authenticatorData: string; signature: string; userHandle?: string } };
}

interface CredentialRow {
  user_id: string;
  public_key: string;
  sign_count: number;
}

async function finish(env: FloorEnv, body: Assertion): Promise<Response> {
  const challenge = await env.FLOOR_KV.get(`login:${body.login_id}`);
  if (challenge === null) return fail();
  const row = await env.FLOOR_DB.prepare("SELECT user_id, public_key, sign_count FROM floor_credentials WHERE id = ?")
    .bind(body.credential.id)
    .first<CredentialRow>();
  if (row === null) return fail();
  const r = body.credential.response;
  const cdj = fromB64url(r.clientDataJSON);
  const cd = JSON.parse(new TextDecoder().decode(cdj)) as { type?: string; challenge?: string; origin?: string };
  if (cd.type !== "webauthn.get" || cd.challenge !== challenge || cd.origin !== env.ORIGIN) return fail();
  const authData = fromB64url(r.authenticatorData);
  if (authData.length < 37 || !equal(authData.subarray(0, 32), await sha256(new Uint8Array(enc.encode(env.RP_ID))))) return fail();
  const flags = authData[32] ?? 0;
  if ((flags & 0x05) !== 0x05) return fail(); // UP and UV
  const signCount = new DataView(authData.buffer, authData.byteOffset + 33, 4).getUint32(0);
  if ((signCount !== 0 || row.sign_count !== 0) && signCount <= row.sign_count) return fail();

  const key = await crypto.subtle.importKey("spki", fromB64url(row.public_key), ECDSA, false, ["verify"]);
  const signed = new Uint8Array(authData.length + 32);
  signed.set(authData);
  signed.set(await sha256(cdj), authData.length);
  if (!(await crypto.subtle.verify(SIGN, key, derToRaw(fromB64url(r.signature)), signed))) return fail();

  const now = Date.now();
  const accessToken = await es256({ sub: row.user_id, iat: Math.floor(now / 1000), exp: Math.floor(now / 1000) + 900, scope: "floor" });
  await env.FLOOR_DB.batch([
    env.FLOOR_DB.prepare("INSERT INTO floor_consumed (challenge, consumed_at) VALUES (?, ?)").bind(challenge, now),
    env.FLOOR_DB.prepare("UPDATE floor_credentials SET sign_count = ?, last_used_at = ? WHERE id = ?").bind(
      signCount,
      now,
      body.credential.id,
    ),
  ]);
  return json({ access_token: accessToken, token_type: "Bearer", expires_in: 900, scope: "floor" });
}

async function setupCredential(env: FloorEnv, body: { id: string; user_id: string; public_key: string }): Promise<Response> {
  await env.FLOOR_DB.prepare("INSERT INTO floor_credentials (id, user_id, public_key, sign_count, last_used_at) VALUES (?, ?, ?, 0, NULL)")
    .bind(body.id, body.user_id, body.public_key)
    .run();
  return json({ ok: true }, 201);
}

async function verifyLoop(n: number): Promise<Response> {
  const pair = (await crypto.subtle.generateKey(ECDSA, false, ["sign", "verify"])) as CryptoKeyPair;
  const data = crypto.getRandomValues(new Uint8Array(200));
  const sig = await crypto.subtle.sign(SIGN, pair.privateKey, data);
  let ok = 0;
  for (let i = 0; i < n; i++) if (await crypto.subtle.verify(SIGN, pair.publicKey, sig, data)) ok++;
  return json({ n, ok });
}

export default {
  async fetch(request: Request, env: FloorEnv): Promise<Response> {
    const url = new URL(request.url);
    try {
      if (request.method === "POST" && url.pathname === "/login/options") return await options(env, request);
      if (request.method === "POST" && url.pathname === "/login/finish") return await finish(env, await request.json<Assertion>());
      if (request.method === "POST" && url.pathname === "/setup/credential") return await setupCredential(env, await request.json());
      if (request.method === "GET" && url.pathname === "/verify")
        return await verifyLoop(Math.min(Number(url.searchParams.get("n")) || 0, 1e6));
    } catch {
      return fail();
    }
    return json({ status_code: 404, error: "Not found", error_code: "not_found", details: {} }, 404);
  },
} satisfies ExportedHandler<FloorEnv>;
