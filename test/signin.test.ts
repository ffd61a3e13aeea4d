import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { SoftAuthenticator } from "./authenticator";
import { call, expectError, json, ORIGIN, sys } from "./helpers/api";
import { count, enroll, newUser } from "./helpers/passkeys";
import { finish, options, optionsRes, password, setup, verifyWithJwks, type Options, type Tokens } from "./helpers/signin";

const credentialState = (id: string) =>
  env.DB.prepare("SELECT sign_count, last_used_at, clone_warning, backup_state, discoverable_id FROM credentials WHERE credential_id = ?")
    .bind(id)
    .first();

describe("Smart sign-in", () => {
  it("signs in with no username; the token's claims verify against the JWKS", async () => {
    const { pool, wid } = await setup("smart");
    const user = await newUser(pool);
    const auth = new SoftAuthenticator();
    await enroll(auth, pool, user.id, "smart");

    const opts = await options(wid);
    expect(opts.publicKey.allowCredentials).toEqual([]);
    expect(opts.publicKey.rpId).toBe("localhost");
    expect(opts.publicKey.userVerification).toBe("required");
    const assertion = await auth.authenticate(opts.publicKey, { origin: ORIGIN });
    const tokens = await json<Tokens>(await finish(wid, opts.login_id, assertion));
    expect(tokens).toMatchObject({ token_type: "Bearer", expires_in: 900, scope: "view_ss_profile manage_ss_profile" });

    const claims = await verifyWithJwks(tokens.access_token);
    expect(claims).toMatchObject({
      sub: user.id,
      tid: "default",
      wid,
      pool_id: pool,
      amr: ["pop"],
      scope: "view_ss_profile manage_ss_profile",
    });
    expect(claims.exp! - claims.iat!).toBe(900);
    expect(Math.abs((claims.auth_time as number) - Date.now() / 1000)).toBeLessThan(5);
    expect(typeof claims.jti).toBe("string");

    const state = await credentialState(assertion.id);
    expect(state).toMatchObject({ sign_count: 1 });
    expect(state!.last_used_at).not.toBeNull();
    expect(await count("audit_events", "user_id = ? AND type = 'signin.succeeded'", user.id)).toBe(1);
  });

  it("limits scopes to the allowed list", async () => {
    const { pool, wid } = await setup("smart");
    const user = await newUser(pool);
    const auth = new SoftAuthenticator();
    await enroll(auth, pool, user.id, "smart");
    const opts = await options(wid, { scope: "openid view_ss_profile" });
    const tokens = await json<Tokens>(await finish(wid, opts.login_id, await auth.authenticate(opts.publicKey, { origin: ORIGIN })));
    expect(tokens.scope).toBe("openid view_ss_profile");
    await expectError(await optionsRes(wid, { scope: "identity" }), 400, "invalid_scope");
  });

  it("refuses a non-discoverable Classic credential, and accepts a Classic credential made discoverable (recording its discoverable_id)", async () => {
    const { pool, wid } = await setup("smart");
    const user = await newUser(pool);
    const plain = new SoftAuthenticator();
    await enroll(plain, pool, user.id, "classic", { discoverable: false, credProps: false });
    const opts = await options(wid);
    // A non-discoverable credential yields no userHandle.
    const noHandle = await plain.authenticate(opts.publicKey, { origin: ORIGIN, credential: plain.credentials[0]! });
    await expectError(await finish(wid, opts.login_id, noHandle), 401, "authentication_failed");

    const rk = new SoftAuthenticator();
    const { credentials } = await enroll(rk, pool, user.id, "classic", { discoverable: true, credProps: false });
    expect(credentials[1]!.discoverable_id).toBe("");
    const opts2 = await options(wid);
    await json<Tokens>(await finish(wid, opts2.login_id, await rk.authenticate(opts2.publicKey, { origin: ORIGIN })));
    const handle = (await env.DB.prepare("SELECT user_handle FROM users WHERE id = ?").bind(user.id).first<{ user_handle: string }>())!
      .user_handle;
    expect((await credentialState(rk.credentials[0]!.idB64))!.discoverable_id).toBe(handle);
  });

  it("ignores credentials of pools outside the workspace", async () => {
    const a = await setup("smart");
    const b = await setup("smart");
    const user = await newUser(b.pool);
    const auth = new SoftAuthenticator();
    await enroll(auth, b.pool, user.id, "smart");
    const opts = await options(a.wid);
    await expectError(
      await finish(a.wid, opts.login_id, await auth.authenticate(opts.publicKey, { origin: ORIGIN })),
      401,
      "authentication_failed",
    );
  });
});

describe("Classic sign-in", () => {
  it("lists the user's credentials for its identifier and signs in", async () => {
    const { pool, wid } = await setup("classic");
    const user = await newUser(pool);
    const auth = new SoftAuthenticator();
    await enroll(auth, pool, user.id, "classic");
    await enroll(auth, pool, user.id, "classic");
    const opts = await options(wid, { identifier: user.email.toUpperCase() });
    expect(opts.publicKey.allowCredentials!.map((c) => c.id)).toEqual(auth.credentials.map((c) => c.idB64));
    const tokens = await json<Tokens>(
      await finish(wid, opts.login_id, await auth.authenticate(opts.publicKey, { origin: ORIGIN, credential: auth.credentials[1]! })),
    );
    expect((await verifyWithJwks(tokens.access_token)).sub).toBe(user.id);
  });

  it("answers an unknown identifier with the same shape and stable fake ids", async () => {
    const { pool, wid } = await setup("classic");
    const user = await newUser(pool);
    await enroll(new SoftAuthenticator(), pool, user.id, "classic");
    const known = await options(wid, { identifier: user.email });
    const unknown1 = await options(wid, { identifier: "nobody@example.com" });
    const unknown2 = await options(wid, { identifier: "NOBODY@example.com" });
    const shape = (o: Options) => ({
      keys: Object.keys(o).sort(),
      pk: Object.keys(o.publicKey).sort(),
      allow: o.publicKey.allowCredentials!.map((c) => ({ keys: Object.keys(c).sort(), type: c.type, len: c.id.length })),
      rpId: o.publicKey.rpId,
      uv: o.publicKey.userVerification,
      timeout: o.publicKey.timeout,
    });
    const ks = shape(known);
    const us = shape(unknown1);
    expect(us.keys).toEqual(ks.keys);
    expect(us.pk).toEqual(ks.pk);
    expect([us.rpId, us.uv, us.timeout]).toEqual([ks.rpId, ks.uv, ks.timeout]);
    expect(us.allow[0]).toEqual(ks.allow[0]);
    expect(unknown1.publicKey.allowCredentials).toEqual(unknown2.publicKey.allowCredentials);
    expect(unknown1.publicKey.challenge).not.toBe(unknown2.publicKey.challenge);
    // A user without passkeys gets fake ids too.
    const bare = await newUser(pool);
    expect((await options(wid, { identifier: bare.email })).publicKey.allowCredentials!.length).toBeGreaterThan(0);
  });

  it("refuses a credential of the same user that was not listed (allowCredentials)", async () => {
    const { pool, wid } = await setup("classic");
    const user = await newUser(pool);
    const auth = new SoftAuthenticator();
    await enroll(auth, pool, user.id, "classic");
    const opts = await options(wid, { identifier: user.email });
    await enroll(auth, pool, user.id, "classic");
    const late = await auth.authenticate(opts.publicKey, { origin: ORIGIN, credential: auth.credentials[1]! });
    await expectError(await finish(wid, opts.login_id, late), 401, "authentication_failed");
  });

  it("needs an identifier", async () => {
    const { wid } = await setup("classic");
    await expectError(await optionsRes(wid, {}), 400, "validation_failed");
  });
});

describe("sign-in rejections: the same 401, no token, no state change", () => {
  async function enrolled(mode: "smart" | "classic" = "smart", poolBody: Record<string, unknown> = {}) {
    const { pool, wid } = await setup(mode, poolBody);
    const user = await newUser(pool);
    const auth = new SoftAuthenticator();
    await enroll(auth, pool, user.id, mode, { flags: { be: false } });
    const opts = await options(wid, mode === "classic" ? { identifier: user.email } : {});
    return { pool, wid, user, auth, opts, cred: auth.credentials[0]! };
  }

  async function rejected(wid: string, signinId: string, credential: unknown, credentialId: string) {
    const before = await credentialState(credentialId);
    await expectError(await finish(wid, signinId, credential), 401, "authentication_failed");
    expect(await credentialState(credentialId)).toEqual(before);
  }

  it("wrong challenge", async () => {
    const t = await enrolled();
    await rejected(
      t.wid,
      t.opts.login_id,
      await t.auth.authenticate(t.opts.publicKey, { origin: ORIGIN, challenge: "A".repeat(43) }),
      t.cred.idB64,
    );
  });

  it("replayed assertion", async () => {
    const t = await enrolled();
    const a = await t.auth.authenticate(t.opts.publicKey, { origin: ORIGIN });
    await json(await finish(t.wid, t.opts.login_id, a));
    await rejected(t.wid, t.opts.login_id, a, t.cred.idB64);
  });

  it("challenge of another sign-in transaction or workspace", async () => {
    const t = await enrolled();
    const other = await options(t.wid);
    await rejected(t.wid, other.login_id, await t.auth.authenticate(t.opts.publicKey, { origin: ORIGIN }), t.cred.idB64);
    const t2 = await enrolled();
    await rejected(t2.wid, t2.opts.login_id, await t.auth.authenticate(t.opts.publicKey, { origin: ORIGIN }), t.cred.idB64);
  });

  it("wrong origin, wrong RP ID hash, UP missing, UV missing, webauthn.create type, crossOrigin", async () => {
    const t = await enrolled();
    const cases = [
      { origin: "http://localhost:9999" },
      { origin: "https://localhost:8787" },
      { origin: ORIGIN, rpId: "evil.com" },
      { origin: ORIGIN, flags: { up: false } },
      { origin: ORIGIN, flags: { uv: false } },
      { origin: ORIGIN, type: "webauthn.create" },
      { origin: ORIGIN, crossOrigin: true },
    ];
    for (const c of cases) {
      const opts = await options(t.wid);
      await rejected(t.wid, opts.login_id, await t.auth.authenticate(opts.publicKey, { ...c, signCount: 50 }), t.cred.idB64);
    }
  });

  it("a signature with one bit flipped", async () => {
    const t = await enrolled();
    await rejected(
      t.wid,
      t.opts.login_id,
      await t.auth.authenticate(t.opts.publicKey, { origin: ORIGIN, tamperSignature: true }),
      t.cred.idB64,
    );
  });

  it("a userHandle of another user", async () => {
    const t = await enrolled();
    const other = await newUser(t.pool);
    const handle = (await env.DB.prepare("SELECT user_handle FROM users WHERE id = ?").bind(other.id).first<{ user_handle: string }>())!
      .user_handle;
    const { fromB64url } = await import("../src/crypto/bytes");
    await rejected(
      t.wid,
      t.opts.login_id,
      await t.auth.authenticate(t.opts.publicKey, { origin: ORIGIN, userHandle: fromB64url(handle) }),
      t.cred.idB64,
    );
  });

  it("backup eligibility flipped", async () => {
    const t = await enrolled();
    await rejected(
      t.wid,
      t.opts.login_id,
      await t.auth.authenticate(t.opts.publicKey, { origin: ORIGIN, flags: { be: true, bs: true } }),
      t.cred.idB64,
    );
  });

  it("a counter that does not increase is rejected, flagged cloneWarning and audited; 0/0 is fine", async () => {
    const t = await enrolled();
    await json(await finish(t.wid, t.opts.login_id, await t.auth.authenticate(t.opts.publicKey, { origin: ORIGIN, signCount: 5 })));
    const opts = await options(t.wid);
    await expectError(
      await finish(t.wid, opts.login_id, await t.auth.authenticate(opts.publicKey, { origin: ORIGIN, signCount: 5 })),
      401,
      "authentication_failed",
    );
    expect(await credentialState(t.cred.idB64)).toMatchObject({ sign_count: 5, clone_warning: 1 });
    expect(await count("audit_events", "user_id = ? AND type = 'passkey.clone_warning'", t.user.id)).toBe(1);
    const details = await json<{ credentials: { payload: { authenticator: { cloneWarning: boolean } } }[] }>(
      await sys("GET", `/pools/${t.pool}/users/${t.user.id}`),
    );
    expect(details.credentials[0]!.payload.authenticator.cloneWarning).toBe(true);

    const synced = await enrolled();
    for (let i = 0; i < 2; i++) {
      const o = await options(synced.wid);
      await json(
        await finish(synced.wid, o.login_id, await synced.auth.authenticate(o.publicKey, { origin: ORIGIN, keepZeroCounter: true })),
      );
    }
  });

  it("UV may be absent when the pool prefers but does not require it", async () => {
    const t = await enrolled("smart", { passkey_settings: { user_verification: "preferred" } });
    await json(await finish(t.wid, t.opts.login_id, await t.auth.authenticate(t.opts.publicKey, { origin: ORIGIN, flags: { uv: false } })));
  });

  it("an unknown login_id and a malformed credential", async () => {
    const t = await enrolled();
    const a = await t.auth.authenticate(t.opts.publicKey, { origin: ORIGIN });
    await expectError(await finish(t.wid, "A".repeat(22), a), 401, "authentication_failed");
    await expectError(
      await finish(t.wid, t.opts.login_id, { ...a, response: { ...a.response, clientDataJSON: "bm90IGpzb24" } }),
      401,
      "authentication_failed",
    );
    await expectError(await finish(t.wid, t.opts.login_id, { id: "x" }), 400, "validation_failed");
  });

  it("20 parallel finishes of one assertion give exactly one token", async () => {
    const t = await enrolled();
    const a = await t.auth.authenticate(t.opts.publicKey, { origin: ORIGIN });
    const results = await Promise.all(Array.from({ length: 20 }, () => finish(t.wid, t.opts.login_id, a)));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 401)).toHaveLength(19);
    expect(await count("consumed_challenges", "challenge = ?", t.opts.publicKey.challenge)).toBe(1);
  });
});

describe("password and passkey as second factor", () => {
  async function twoFactor() {
    const { pool, wid } = await setup("classic", {
      authentication_mechanisms: ["password"],
      second_factor_authentication_mechanisms: ["webauthn"],
    });
    const user = await newUser(pool, "default", { credentials: [{ type: "password", password: "correct horse battery" }] });
    return { pool, wid, user };
  }

  it("password first, then a passkey listed for that user; amr pwd+pop", async () => {
    const { pool, wid, user } = await twoFactor();
    const auth = new SoftAuthenticator();
    await enroll(auth, pool, user.id, "classic");
    const step = await json<{ login_id: string; next: string[] }>(
      await password(wid, { identifier: user.email, password: "correct horse battery" }),
    );
    expect(step.next).toEqual(["webauthn"]);
    const opts = await options(wid, { login_id: step.login_id });
    expect(opts.login_id).toBe(step.login_id);
    expect(opts.publicKey.allowCredentials!.map((c) => c.id)).toEqual([auth.credentials[0]!.idB64]);
    const tokens = await json<Tokens>(await finish(wid, opts.login_id, await auth.authenticate(opts.publicKey, { origin: ORIGIN })));
    expect(await verifyWithJwks(tokens.access_token)).toMatchObject({ sub: user.id, amr: ["pwd", "pop"] });
  });

  it("a passkey cannot stand in for the password when it is only a second factor; the refusal commits nothing", async () => {
    const { pool, wid, user } = await twoFactor();
    const auth = new SoftAuthenticator();
    await enroll(auth, pool, user.id, "classic");
    const opts = await options(wid, { identifier: user.email });
    await expectError(
      await finish(wid, opts.login_id, await auth.authenticate(opts.publicKey, { origin: ORIGIN })),
      401,
      "authentication_failed",
    );
    // Refused after the signature verified but before the commit: the challenge unused, the sign count unchanged, the
    // failure audited with its reason and no success beside it.
    expect(await count("consumed_challenges", "challenge = ?", opts.publicKey.challenge)).toBe(0);
    expect(await count("credentials", "user_id = ? AND type = 'webauthn' AND sign_count = 0 AND last_used_at IS NULL", user.id)).toBe(1);
    expect(await count("audit_events", "user_id = ? AND type = 'signin.succeeded'", user.id)).toBe(0);
    expect(await count("audit_events", "user_id = ? AND type = 'signin.failed' AND details LIKE ?", user.id, "%not a first factor%")).toBe(
      1,
    );
  });

  it("403 second_factor_not_enrolled for a user with no passkey; a wrong password is the same 401 as an unknown user", async () => {
    const { wid, user } = await twoFactor();
    await expectError(
      await password(wid, { identifier: user.email, password: "correct horse battery" }),
      403,
      "second_factor_not_enrolled",
    );
    const wrong = await expectError(
      await password(wid, { identifier: user.email, password: "nope nope nope" }),
      401,
      "authentication_failed",
    );
    const unknown = await expectError(
      await password(wid, { identifier: "ghost@example.com", password: "nope nope nope" }),
      401,
      "authentication_failed",
    );
    expect(unknown).toEqual(wrong);
  });

  it("password alone gives a token with amr pwd when no second factor is configured", async () => {
    const { pool, wid } = await setup("smart");
    const user = await newUser(pool, "default", { credentials: [{ type: "password", password: "correct horse battery" }] });
    const tokens = await json<Tokens>(await password(wid, { identifier: user.email, password: "correct horse battery" }));
    expect(await verifyWithJwks(tokens.access_token)).toMatchObject({ sub: user.id, amr: ["pwd"] });
  });
});

describe("GET /login/config", () => {
  it("gives the mode and the methods, preferred first", async () => {
    const { wid } = await setup("classic", { preferred_authentication_mechanism: "password" });
    expect(await json(await call("GET", `/default/${wid}/login/config`))).toEqual({
      passkey_mode: "classic",
      methods: ["password", "webauthn"],
      preferred: "password",
      sign_up: false,
      recovery: true,
    });
    expect(await json(await call("GET", "/default/default/login/config"))).toEqual({
      passkey_mode: "smart",
      methods: ["usernameless_webauthn", "password"],
      preferred: "usernameless_webauthn",
      sign_up: false,
      recovery: true,
    });
    // The admin workspace's only pool (admins) has recovery off.
    expect(await json(await call("GET", "/default/admin/login/config"))).toMatchObject({ sign_up: false, recovery: false });
    await expectError(await call("GET", "/default/nope/login/config"), 404, "not_found");
  });
});

describe("without KEY_ENCRYPTION_SECRET", () => {
  it("Classic options for an unknown identifier answer 503 not_configured rather than predictable fake ids", async () => {
    const { app } = await import("../src/app");
    const { wid } = await setup("classic");
    const res = await app.request(
      `${ORIGIN}/default/${wid}/login/webauthn/options`,
      {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ identifier: "nobody@example.com" }),
      },
      { ...env, KEY_ENCRYPTION_SECRET: undefined },
    );
    await expectError(res, 503, "not_configured");
  });
});
