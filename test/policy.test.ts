/**
 * Authenticator policy per pool (issue 12, item 4): device_bound_only and the AAGUID allow or deny list, enforced at
 * registration on every path (system API, self-service, OTP add/complete, enrollment link) and again at sign-in for
 * passkeys registered before the policy changed; and acr `phrh` of a device-bound-only pool's ID tokens. Real
 * ceremonies with the software authenticator; x5c (basic) attestation certificates are built here with WebCrypto.
 */
import type { PublicKeyCredentialCreationOptionsJSON, RegistrationResponseJSON } from "@simplewebauthn/server";
import { isoCBOR } from "@simplewebauthn/server/helpers";
import { env, SELF } from "cloudflare:test";
import { calculatePKCECodeChallenge, randomPKCECodeVerifier } from "openid-client";
import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import { checkAuthenticator, POLICY_MESSAGES } from "../src/domain/authenticator-policy";
import { b64url, cborEncode, concat, type Flags, fromB64url, rawToDer, SoftAuthenticator } from "./authenticator";
import { call, expectError, json, ORIGIN, sys } from "./helpers/api";
import { publicClient } from "./helpers/hosted";
import { begin, complete, count, enroll, newUser, snapshot, expectUnchanged, type CredentialJson } from "./helpers/passkeys";
import { finish, options, setup, userToken } from "./helpers/signin";

const YUBIKEY = "cb69481e-8ff7-4039-93ec-0a2729a154a8";
const OTHER = "ee882879-721c-4913-9775-3dfcce97072a";
const SYNCED: Flags = { be: true, bs: true };

// ---------- a minimal DER writer, for attestation certificates ----------

function tlv(tag: number, body: Uint8Array): Uint8Array {
  const n = body.length;
  const len = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  return concat(new Uint8Array([tag, ...len]), body);
}
const seq = (...parts: Uint8Array[]) => tlv(0x30, concat(...parts));
const set = (...parts: Uint8Array[]) => tlv(0x31, concat(...parts));
const int = (n: number) => tlv(0x02, new Uint8Array([n]));
const octets = (b: Uint8Array) => tlv(0x04, b);
const bits = (b: Uint8Array) => tlv(0x03, concat(new Uint8Array([0]), b));
const text = (s: string) => tlv(0x0c, new TextEncoder().encode(s));
const utcTime = (s: string) => tlv(0x17, new TextEncoder().encode(s));
const explicit = (n: number, body: Uint8Array) => tlv(0xa0 + n, body);
function oid(dotted: string): Uint8Array {
  const [a, b, ...rest] = dotted.split(".").map(Number);
  const out = [40 * a! + b!];
  for (const arc of rest) {
    const enc = [arc & 0x7f];
    for (let v = arc >>> 7; v > 0; v >>>= 7) enc.unshift((v & 0x7f) | 0x80);
    out.push(...enc);
  }
  return tlv(0x06, new Uint8Array(out));
}
const ECDSA_SHA256 = seq(oid("1.2.840.10045.4.3.2"));
const name = (attrs: [string, string][]) => seq(...attrs.map(([o, v]) => set(seq(oid(o), text(v)))));
const uuidBytes = (uuid: string) =>
  new Uint8Array(
    uuid
      .replace(/-/g, "")
      .match(/../g)!
      .map((h) => Number.parseInt(h, 16)),
  );

/**
 * A packed attestation certificate (§8.2.1: version 3, OU "Authenticator Attestation", CA false), self-issued by its
 * key, with id-fido-gen-ce-aaguid = `aaguid` unless null.
 */
async function attestationCert(key: CryptoKeyPair, aaguid: string | null): Promise<Uint8Array> {
  const subject = name([
    ["2.5.4.6", "SE"],
    ["2.5.4.10", "Test Vendor"],
    ["2.5.4.11", "Authenticator Attestation"],
    ["2.5.4.3", "Test Key"],
  ]);
  const point = new Uint8Array((await crypto.subtle.exportKey("raw", key.publicKey)) as ArrayBuffer);
  const extensions = [seq(oid("2.5.29.19"), octets(seq()))];
  if (aaguid) extensions.push(seq(oid("1.3.6.1.4.1.45724.1.1.4"), octets(octets(uuidBytes(aaguid)))));
  const tbs = seq(
    explicit(0, int(2)),
    int(7),
    ECDSA_SHA256,
    subject,
    seq(utcTime("200101000000Z"), utcTime("491231235959Z")),
    subject,
    seq(seq(oid("1.2.840.10045.2.1"), oid("1.2.840.10045.3.1.7")), bits(point)),
    explicit(3, seq(...extensions)),
  );
  const sig = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, key.privateKey, tbs);
  return seq(tbs, ECDSA_SHA256, bits(rawToDer(new Uint8Array(sig))));
}

/** The response re-attested with packed x5c (basic) attestation: a certificate naming `certAaguid` signs it. */
async function withX5c(response: RegistrationResponseJSON, certAaguid: string | null): Promise<RegistrationResponseJSON> {
  const key = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"])) as CryptoKeyPair;
  const decoded = isoCBOR.decodeFirst<Map<string, unknown>>(fromB64url(response.response.attestationObject));
  const authData = decoded.get("authData") as Uint8Array;
  const clientDataHash = new Uint8Array(await crypto.subtle.digest("SHA-256", fromB64url(response.response.clientDataJSON)));
  const raw = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, key.privateKey, concat(authData, clientDataHash));
  const attStmt = { alg: -7, sig: rawToDer(new Uint8Array(raw)), x5c: [await attestationCert(key, certAaguid)] };
  const attestationObject = b64url(cborEncode({ fmt: "packed", attStmt, authData: new Uint8Array(authData) }));
  return { ...response, response: { ...response.response, attestationObject } };
}

// ---------- the paths ----------

const withPolicy = (policy: Record<string, unknown>, attestation = "direct") => ({
  passkey_settings: { user_verification: "preferred", attestation, authenticator_policy: policy },
});
const DEVICE_BOUND_ONLY = withPolicy({ device_bound_only: true }, "none");

async function expectNotAllowed(res: Response, reason: "device_bound_only" | "aaguid_not_allowed") {
  const body = await expectError(res, 400, "authenticator_not_allowed");
  expect(body.details).toEqual({ reason });
  expect(body.error).toBe(POLICY_MESSAGES[reason]);
  return body;
}

/** A Smart workspace over a fresh pool with this policy, and a user of it. */
async function world(poolBody: Record<string, unknown>) {
  const s = await setup("smart", poolBody);
  const user = await newUser(s.pool);
  return { ...s, user };
}

/** System API create/begin + the authenticator (+ x5c attestation when asked) + create/complete. */
async function register(
  w: { pool: string; user: { id: string } },
  auth: SoftAuthenticator,
  o: { flags?: Flags; attestation?: "none" | "packed"; x5c?: string | null } = {},
): Promise<Response> {
  const opts = await begin(w.pool, w.user.id, "smart");
  let response = await auth.register(opts, { origin: ORIGIN, flags: o.flags, attestation: o.attestation });
  if (o.x5c !== undefined) response = await withX5c(response, o.x5c);
  return complete(w.pool, w.user.id, "smart", response);
}

const credentialsOf = async (res: Response) => (await json<{ credentials: CredentialJson[] }>(res)).credentials;

async function signIn(wid: string, auth: SoftAuthenticator) {
  const o = await options(wid);
  return finish(wid, o.login_id, await auth.authenticate(o.publicKey, { origin: ORIGIN }));
}

const updatePool = async (pool: string, body: Record<string, unknown>) => json(await sys("PUT", `/pools/${pool}`, { body }));

/** The reason the workspace's last failed sign-in recorded (a Smart sign-in does not know its user before the finish). */
async function lastSigninFailure(wid: string): Promise<unknown> {
  const row = await env.DB.prepare(
    "SELECT details FROM audit_events WHERE type = 'signin.failed' AND json_extract(details, '$.workspace_id') = ? ORDER BY created_at DESC, rowid DESC",
  )
    .bind(wid)
    .first<{ details: string }>();
  return row && (JSON.parse(row.details) as { reason?: string }).reason;
}

describe("the policy (pure)", () => {
  const facts = { backupEligible: false, aaguid: YUBIKEY, aaguidVouched: true };
  const none = { deviceBoundOnly: false, aaguidAllow: [], aaguidDeny: [] };
  it("device_bound_only refuses BE; an allow list needs a vouched, listed AAGUID; a deny list refuses a listed one", () => {
    expect(checkAuthenticator(none, { ...facts, backupEligible: true }).ok).toBe(true);
    expect(checkAuthenticator({ ...none, deviceBoundOnly: true }, { ...facts, backupEligible: true })).toMatchObject({
      ok: false,
      rule: "device_bound_only",
    });
    expect(checkAuthenticator({ ...none, deviceBoundOnly: true }, facts).ok).toBe(true);
    expect(checkAuthenticator({ ...none, aaguidAllow: [YUBIKEY] }, facts).ok).toBe(true);
    expect(checkAuthenticator({ ...none, aaguidAllow: [YUBIKEY] }, { ...facts, aaguidVouched: false })).toMatchObject({
      rule: "aaguid_not_allowed",
    });
    expect(checkAuthenticator({ ...none, aaguidAllow: [OTHER] }, facts)).toMatchObject({ rule: "aaguid_not_allowed" });
    expect(checkAuthenticator({ ...none, aaguidDeny: [YUBIKEY] }, { ...facts, aaguidVouched: false })).toMatchObject({
      rule: "aaguid_not_allowed",
    });
    expect(checkAuthenticator({ ...none, aaguidDeny: [OTHER] }, { ...facts, aaguidVouched: false }).ok).toBe(true);
  });
});

describe("device_bound_only at registration", () => {
  it("system API: a synced passkey is refused with a clear 400 and nothing stored; a device-bound one is accepted", async () => {
    const w = await world(DEVICE_BOUND_ONLY);
    const before = await snapshot(w.user.id);
    const refused = await expectNotAllowed(await register(w, new SoftAuthenticator(), { flags: SYNCED }), "device_bound_only");
    expect(refused.error).toMatch(/only device-bound passkeys such as a security key/);
    await expectUnchanged(w.user.id, before);
    // BE without BS (eligible, not yet backed up) is synced too.
    await expectNotAllowed(await register(w, new SoftAuthenticator(), { flags: { be: true, bs: false } }), "device_bound_only");
    const [passkey] = await credentialsOf(await register(w, new SoftAuthenticator()));
    expect(passkey!.payload.flags).toMatchObject({ backupEligible: false });
  });

  it("self-service: refused with the same 400; the device-bound passkey is added", async () => {
    const w = await world(DEVICE_BOUND_ONLY);
    await enroll(new SoftAuthenticator(), w.pool, w.user.id, "smart");
    const token = await userToken({ wid: w.wid, pool: w.pool, userId: w.user.id });
    const selfPath = (p: string) => `/default/${w.wid}/identity/v2/self/usernameless-webauthn/create/${p}`;
    const attempt = async (flags: Flags) => {
      const { publicKey } = await json<{ publicKey: PublicKeyCredentialCreationOptionsJSON }>(
        await call("POST", selfPath("begin"), { token }),
      );
      const response = await new SoftAuthenticator().register(publicKey, { origin: ORIGIN, flags });
      return call("POST", selfPath("complete"), { token, body: response });
    };
    const before = await snapshot(w.user.id);
    await expectNotAllowed(await attempt(SYNCED), "device_bound_only");
    await expectUnchanged(w.user.id, before);
    expect((await attempt({})).status).toBe(200);
    expect(await count("credentials", "user_id = ? AND type = 'webauthn'", w.user.id)).toBe(2);
  });

  /** Sends an enrollment code (system add/request) and reads it from the development outbox. */
  async function codeFor(pool: string, user: { id: string; email: string }): Promise<string> {
    expect((await sys("POST", `/pools/${pool}/user/webauthn/add/request`, { body: { userID: user.id } })).status).toBe(204);
    const { messages } = await json<{ messages: { to: string; code: string }[] }>(await sys("GET", "/outbox"));
    return messages.find((m) => m.to === user.email)!.code;
  }
  const lastOtpFailure = async (userId: string) => {
    const row = await env.DB.prepare(
      "SELECT details FROM audit_events WHERE user_id = ? AND type = 'otp.failed' ORDER BY created_at DESC, rowid DESC",
    )
      .bind(userId)
      .first<{ details: string }>();
    return row && (JSON.parse(row.details) as { error_code?: string }).error_code;
  };

  it("OTP add/complete: the contract's 401 otp_invalid (audited as authenticator_not_allowed), nothing stored", async () => {
    const w = await world(DEVICE_BOUND_ONLY);
    const add = async (flags: Flags) => {
      const code = await codeFor(w.pool, w.user);
      const response = await new SoftAuthenticator().register(await begin(w.pool, w.user.id, "smart"), { origin: ORIGIN, flags });
      return sys("POST", `/pools/${w.pool}/user/webauthn/add/complete`, { body: { userID: w.user.id, code, new_web_authn: response } });
    };
    const res = await add(SYNCED);
    const body = await expectError(res, 401, "otp_invalid");
    expect(body.details).toEqual({});
    expect(await lastOtpFailure(w.user.id)).toBe("authenticator_not_allowed");
    expect(await count("credentials", "user_id = ? AND type = 'webauthn'", w.user.id)).toBe(0);
    expect((await add({})).status).toBe(204);
    expect(await count("credentials", "user_id = ? AND type = 'webauthn'", w.user.id)).toBe(1);
  });

  it("enrollment link: 401 otp_invalid for the synced passkey, nothing stored; the device-bound one registers", async () => {
    const w = await world(DEVICE_BOUND_ONLY);
    const link = async (flags: Flags) => {
      const code = await codeFor(w.pool, w.user);
      const { publicKey } = await json<{ publicKey: PublicKeyCredentialCreationOptionsJSON }>(
        await call("POST", `/default/${w.wid}/enroll/webauthn/options`, { body: { user_id: w.user.id, code } }),
      );
      const credential = await new SoftAuthenticator().register(publicKey, { origin: ORIGIN, flags });
      return call("POST", `/default/${w.wid}/enroll/webauthn/complete`, { body: { user_id: w.user.id, code, credential } });
    };
    await expectError(await link(SYNCED), 401, "otp_invalid");
    expect(await lastOtpFailure(w.user.id)).toBe("authenticator_not_allowed");
    expect(await count("credentials", "user_id = ? AND type = 'webauthn'", w.user.id)).toBe(0);
    expect((await link({})).status).toBe(204);
    expect(await count("credentials", "user_id = ? AND type = 'webauthn'", w.user.id)).toBe(1);
  });
});

describe("AAGUID lists at registration", () => {
  const allow = withPolicy({ aaguid_allow: [YUBIKEY] });

  it("options ask for direct attestation; an allow list admits a listed AAGUID only when its certificate vouches for it", async () => {
    const w = await world(allow);
    expect((await begin(w.pool, w.user.id, "smart")).attestation).toBe("direct");
    const yubikey = () => new SoftAuthenticator({ aaguid: YUBIKEY });
    const before = await snapshot(w.user.id);
    // The AAGUID is only claimed: none attestation, packed self attestation, a certificate without the extension.
    await expectNotAllowed(await register(w, yubikey()), "aaguid_not_allowed");
    await expectNotAllowed(await register(w, yubikey(), { attestation: "packed" }), "aaguid_not_allowed");
    await expectNotAllowed(await register(w, yubikey(), { x5c: null }), "aaguid_not_allowed");
    // A certificate for another model: vouched, not listed.
    await expectNotAllowed(await register(w, new SoftAuthenticator({ aaguid: OTHER }), { x5c: OTHER }), "aaguid_not_allowed");
    await expectUnchanged(w.user.id, before);
    const [passkey] = await credentialsOf(await register(w, yubikey(), { x5c: YUBIKEY }));
    expect(passkey!.payload).toMatchObject({ attestationType: "packed", authenticator: { AAGUID: YUBIKEY } });
  });

  it("a certificate whose id-fido-gen-ce-aaguid differs from authData's AAGUID fails the §8.2 check (registration_failed)", async () => {
    const w = await world(allow);
    const before = await snapshot(w.user.id);
    const res = await register(w, new SoftAuthenticator({ aaguid: YUBIKEY }), { x5c: OTHER });
    const body = await expectError(res, 400, "registration_failed");
    expect(String(body.details.reason)).toMatch(/id-fido-gen-ce-aaguid/);
    await expectUnchanged(w.user.id, before);
  });

  it("a deny list refuses a listed AAGUID even when only claimed, and admits others", async () => {
    const w = await world(withPolicy({ aaguid_deny: [YUBIKEY] }));
    const before = await snapshot(w.user.id);
    await expectNotAllowed(await register(w, new SoftAuthenticator({ aaguid: YUBIKEY })), "aaguid_not_allowed");
    await expectNotAllowed(await register(w, new SoftAuthenticator({ aaguid: YUBIKEY }), { x5c: YUBIKEY }), "aaguid_not_allowed");
    await expectUnchanged(w.user.id, before);
    expect((await register(w, new SoftAuthenticator({ aaguid: OTHER }))).status).toBe(200);
  });
});

describe("the policy at sign-in, after it changed", () => {
  const signCount = async (credentialId: string) =>
    (await env.DB.prepare("SELECT sign_count, last_used_at FROM credentials WHERE credential_id = ?").bind(credentialId).first())!;

  it("device_bound_only turned on: a synced passkey registered before gets the one 401 (audit authenticator_policy)", async () => {
    const w = await world({ passkey_settings: { user_verification: "preferred" } });
    const synced = new SoftAuthenticator();
    const bound = new SoftAuthenticator();
    await enroll(synced, w.pool, w.user.id, "smart", { flags: SYNCED });
    await enroll(bound, w.pool, w.user.id, "smart");
    expect((await signIn(w.wid, synced)).status).toBe(200);
    await updatePool(w.pool, DEVICE_BOUND_ONLY);
    const id = synced.credentials[0]!.idB64;
    const before = await signCount(id);
    const body = await expectError(await signIn(w.wid, synced), 401, "authentication_failed");
    expect(body.details).toEqual({});
    expect(await lastSigninFailure(w.wid)).toBe("authenticator_policy");
    expect(await signCount(id)).toEqual(before); // nothing committed
    expect((await signIn(w.wid, bound)).status).toBe(200);
  });

  it("a passkey whose BE flag changed is refused (backup eligibility changed)", async () => {
    const w = await world({ passkey_settings: { user_verification: "preferred" } });
    const auth = new SoftAuthenticator();
    await enroll(auth, w.pool, w.user.id, "smart");
    const o = await options(w.wid);
    const credential = await auth.authenticate(o.publicKey, { origin: ORIGIN, flags: { be: true, bs: true } });
    await expectError(await finish(w.wid, o.login_id, credential), 401, "authentication_failed");
    expect(await lastSigninFailure(w.wid)).toBe("backup eligibility changed");
  });

  it("AAGUID lists set later: a denied or unlisted AAGUID, or one no certificate vouched for, cannot sign in", async () => {
    const w = await world({ passkey_settings: { user_verification: "preferred" } });
    const claimed = new SoftAuthenticator({ aaguid: YUBIKEY }); // none attestation: the AAGUID is only claimed
    const vouched = new SoftAuthenticator({ aaguid: YUBIKEY });
    const other = new SoftAuthenticator({ aaguid: OTHER });
    await enroll(claimed, w.pool, w.user.id, "smart");
    expect((await register(w, vouched, { x5c: YUBIKEY })).status).toBe(200);
    await enroll(other, w.pool, w.user.id, "smart");
    for (const a of [claimed, vouched, other]) expect((await signIn(w.wid, a)).status).toBe(200);

    await updatePool(w.pool, withPolicy({ aaguid_deny: [YUBIKEY] }));
    for (const a of [claimed, vouched]) await expectError(await signIn(w.wid, a), 401, "authentication_failed");
    expect(await lastSigninFailure(w.wid)).toBe("authenticator_policy");
    expect((await signIn(w.wid, other)).status).toBe(200);

    await updatePool(w.pool, withPolicy({ aaguid_deny: [], aaguid_allow: [YUBIKEY] }));
    expect((await signIn(w.wid, vouched)).status).toBe(200);
    await expectError(await signIn(w.wid, claimed), 401, "authentication_failed");
    await expectError(await signIn(w.wid, other), 401, "authentication_failed");
    expect(await lastSigninFailure(w.wid)).toBe("authenticator_policy");
  });
});

describe("acr of a device-bound-only pool", () => {
  it("an OIDC authorization signed in with a device-bound, user-verified passkey gets an ID token with acr phrh", async () => {
    const w = await world(DEVICE_BOUND_ONLY);
    const auth = new SoftAuthenticator();
    await enroll(auth, w.pool, w.user.id, "smart");
    const redirect = "http://localhost:3000/callback";
    const clientId = await publicClient(w.wid, { redirect, scopes: ["openid", "profile"], name: "Policy app" });
    const verifier = randomPKCECodeVerifier();
    const query = new URLSearchParams({
      client_id: clientId,
      redirect_uri: redirect,
      response_type: "code",
      scope: "openid",
      state: "s",
      nonce: "n",
      code_challenge: await calculatePKCECodeChallenge(verifier),
      code_challenge_method: "S256",
    });
    const get = (path: string, cookie?: string) =>
      SELF.fetch(`${ORIGIN}${path}`, { redirect: "manual", headers: { accept: "text/html", ...(cookie ? { cookie } : {}) } });
    const toLogin = new URL((await get(`/default/${w.wid}/oauth2/authorize?${query}`)).headers.get("location")!, ORIGIN);
    const authz = toLogin.searchParams.get("authz")!;
    const o = await options(w.wid);
    const credential = await auth.authenticate(o.publicKey, { origin: ORIGIN });
    const signedIn = await call("POST", `/default/${w.wid}/login/webauthn/finish`, { body: { login_id: o.login_id, credential, authz } });
    const { continue_url } = await json<{ continue_url: string }>(signedIn);
    const resumed = await get(continue_url, signedIn.headers.get("set-cookie")!.split(";")[0]!);
    const code = new URL(resumed.headers.get("location")!).searchParams.get("code")!;
    const tokens = await json<{ id_token: string }>(
      await SELF.fetch(`${ORIGIN}/default/${w.wid}/oauth2/token`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({
          grant_type: "authorization_code",
          code,
          redirect_uri: redirect,
          client_id: clientId,
          code_verifier: verifier,
        }),
      }),
    );
    expect(decodeJwt(tokens.id_token)).toMatchObject({ acr: "phrh", amr: expect.arrayContaining(["pop"]) });
  });
});
