import { describe, expect, it } from "vitest";
import { SoftAuthenticator } from "./authenticator";
import { call, expectError, json, ORIGIN } from "./helpers/api";
import { count, enroll, newUser, type CredentialJson } from "./helpers/passkeys";
import { finish, options, setup, userToken, type Tokens } from "./helpers/signin";

const selfPath = (wid: string, p: string) => `/default/${wid}/identity/v2/self${p}`;

async function signedUp(mode: "smart" | "classic" = "smart", passkeys = 1) {
  const { pool, wid } = await setup(mode);
  const user = await newUser(pool);
  const auth = new SoftAuthenticator();
  const creds: CredentialJson[] = [];
  for (let i = 0; i < passkeys; i++) creds.splice(0, creds.length, ...(await enroll(auth, pool, user.id, mode)).credentials);
  return { pool, wid, user, auth, creds, t: { wid, pool, userId: user.id } };
}

describe("self-service", () => {
  it("a user signed in with a passkey reads /me and adds, names and deletes its own passkeys", async () => {
    const s = await signedUp("smart");
    const opts = await options(s.wid);
    const { access_token } = await json<Tokens>(
      await finish(s.wid, opts.login_id, await s.auth.authenticate(opts.publicKey, { origin: ORIGIN })),
    );
    const me = await json<{ id: string; credentials: CredentialJson[] }>(
      await call("GET", selfPath(s.wid, "/me"), { token: access_token }),
    );
    expect(me.id).toBe(s.user.id);
    expect(me.credentials).toHaveLength(1);

    const begin = await json<{ publicKey: Parameters<SoftAuthenticator["register"]>[0] }>(
      await call("POST", selfPath(s.wid, "/usernameless-webauthn/create/begin"), { token: access_token }),
    );
    expect(begin.publicKey.authenticatorSelection).toMatchObject({ residentKey: "required" });
    const phone = new SoftAuthenticator();
    const response = await phone.register(begin.publicKey, { origin: ORIGIN });
    const added = await json<{ credentials: CredentialJson[] }>(
      await call("POST", selfPath(s.wid, "/usernameless-webauthn/create/complete"), { token: access_token, body: response }),
    );
    expect(added.credentials).toHaveLength(2);
    expect(await count("audit_events", "user_id = ? AND type = 'passkey.registered' AND actor = ?", s.user.id, `user:${s.user.id}`)).toBe(
      1,
    );

    const newId = added.credentials[1]!.id;
    expect((await call("PUT", selfPath(s.wid, `/webauthn/${newId}/name`), { token: access_token, body: { name: "Phone" } })).status).toBe(
      204,
    );
    expect((await call("DELETE", selfPath(s.wid, `/webauthn/${s.creds[0]!.payload.credential_id}`), { token: access_token })).status).toBe(
      204,
    );
    const after = await json<{ credentials: CredentialJson[] }>(await call("GET", selfPath(s.wid, "/me"), { token: access_token }));
    expect(after.credentials.map((c) => [c.id, c.name])).toEqual([[newId, "Phone"]]);
  });

  it("never deletes the last passkey (409 last_credential)", async () => {
    const s = await signedUp("smart");
    const token = await userToken(s.t);
    await expectError(await call("DELETE", selfPath(s.wid, `/webauthn/${s.creds[0]!.id}`), { token }), 409, "last_credential");
    expect(await count("credentials", "user_id = ? AND type = 'webauthn'", s.user.id)).toBe(1);
  });

  it("two parallel deletes of the last two passkeys leave one", async () => {
    const s = await signedUp("smart", 2);
    const token = await userToken(s.t);
    const results = await Promise.all(s.creds.map((c) => call("DELETE", selfPath(s.wid, `/webauthn/${c.id}`), { token })));
    expect(results.map((r) => r.status).sort()).toEqual([204, 409]);
    expect(await count("credentials", "user_id = ? AND type = 'webauthn'", s.user.id)).toBe(1);
  });

  it("the 5-minute rule: auth_time 299 s ago passes, 301 s ago is 401 insufficient_user_authentication with max_age=300", async () => {
    const s = await signedUp("smart");
    const fresh = await userToken(s.t, { ago: 299 });
    expect((await call("POST", selfPath(s.wid, "/usernameless-webauthn/create/begin"), { token: fresh })).status).toBe(200);
    const stale = await userToken(s.t, { ago: 301 });
    for (const [method, p, body] of [
      ["POST", "/usernameless-webauthn/create/begin", undefined],
      ["POST", "/usernameless-webauthn/create/complete", {}],
      ["DELETE", `/webauthn/${s.creds[0]!.id}`, undefined],
      ["PUT", `/webauthn/${s.creds[0]!.id}/name`, { name: "x" }],
    ] as const) {
      const res = await call(method, selfPath(s.wid, p), { token: stale, body });
      await expectError(res, 401, "insufficient_user_authentication");
      expect(res.headers.get("www-authenticate")).toBe('Bearer error="insufficient_user_authentication", max_age=300');
    }
    // Reading the profile does not need a recent sign-in.
    expect((await call("GET", selfPath(s.wid, "/me"), { token: stale })).status).toBe(200);
  });

  it("scope checks: /me needs view_ss_profile, passkey endpoints need manage_ss_profile (403 insufficient_scope)", async () => {
    const s = await signedUp("smart");
    const viewOnly = await userToken(s.t, { scope: "view_ss_profile" });
    await expectError(
      await call("POST", selfPath(s.wid, "/usernameless-webauthn/create/begin"), { token: viewOnly }),
      403,
      "insufficient_scope",
    );
    await expectError(
      await call("PUT", selfPath(s.wid, `/webauthn/${s.creds[0]!.id}/name`), { token: viewOnly, body: { name: "x" } }),
      403,
      "insufficient_scope",
    );
    const manageOnly = await userToken(s.t, { scope: "manage_ss_profile" });
    await expectError(await call("GET", selfPath(s.wid, "/me"), { token: manageOnly }), 403, "insufficient_scope");
    await expectError(await call("GET", selfPath(s.wid, "/me"), { token: null }), 401, "unauthorized");
  });

  it("another workspace's user token is 404; a system token (valid, without the scope) is 403 insufficient_scope", async () => {
    const s = await signedUp("smart");
    const other = await setup("smart");
    const foreign = await userToken({ ...s.t, wid: other.wid });
    await expectError(await call("GET", selfPath(s.wid, "/me"), { token: foreign }), 404, "not_found");
    const { systemToken } = await import("./helpers/api");
    const sysToken = await systemToken();
    await expectError(await call("GET", selfPath(s.wid, "/me"), { token: sysToken }), 403, "insufficient_scope");
    await expectError(
      await call("POST", selfPath(s.wid, "/usernameless-webauthn/create/begin"), { token: sysToken }),
      403,
      "insufficient_scope",
    );
    await expectError(await call("DELETE", selfPath(s.wid, `/webauthn/${s.creds[0]!.id}`), { token: sysToken }), 403, "insufficient_scope");
    expect(await count("credentials", "user_id = ? AND type = 'webauthn'", s.user.id)).toBe(1);
  });

  it("a deactivated or deleted user's token stops working at once (401 invalid_token)", async () => {
    const { sys } = await import("./helpers/api");
    for (const end of ["deactivate", "delete"] as const) {
      const s = await signedUp("smart");
      const token = await userToken(s.t);
      expect((await call("GET", selfPath(s.wid, "/me"), { token })).status).toBe(200);
      const res =
        end === "deactivate"
          ? await sys("PUT", `/pools/${s.pool}/users/${s.user.id}`, { body: { status: "inactive" } })
          : await sys("DELETE", `/pools/${s.pool}/users/${s.user.id}`);
      expect(res.status).toBeLessThan(300);
      for (const [method, p] of [
        ["GET", "/me"],
        ["POST", "/usernameless-webauthn/create/begin"],
        ["PUT", `/webauthn/${s.creds[0]!.id}/name`],
      ] as const) {
        const r = await call(method, selfPath(s.wid, p), { token, body: method === "PUT" ? { name: "x" } : undefined });
        await expectError(r, 401, "invalid_token");
        expect(r.headers.get("www-authenticate")).toContain('error="invalid_token"');
      }
    }
  });

  it("another user's credential id is 404 and left untouched", async () => {
    const a = await signedUp("smart", 2);
    const b = await newUser(a.pool);
    const token = await userToken({ ...a.t, userId: b.id });
    for (const ref of [a.creds[0]!.id, a.creds[0]!.payload.credential_id]) {
      await expectError(await call("DELETE", selfPath(a.wid, `/webauthn/${ref}`), { token }), 404, "not_found");
      await expectError(
        await call("PUT", selfPath(a.wid, `/webauthn/${ref}/name`), { token, body: { name: "mine now" } }),
        404,
        "not_found",
      );
    }
    expect(await count("credentials", "user_id = ? AND type = 'webauthn' AND name IS NULL", a.user.id)).toBe(2);
  });

  it("the family that does not match the workspace's mode is 409 passkey_mode_mismatch", async () => {
    const smart = await signedUp("smart");
    await expectError(
      await call("POST", selfPath(smart.wid, "/webauthn/create/begin"), { token: await userToken(smart.t) }),
      409,
      "passkey_mode_mismatch",
    );
    const classic = await signedUp("classic");
    await expectError(
      await call("POST", selfPath(classic.wid, "/usernameless-webauthn/create/begin"), { token: await userToken(classic.t) }),
      409,
      "passkey_mode_mismatch",
    );
    const ok = await json<{ publicKey: { authenticatorSelection: { residentKey: string } } }>(
      await call("POST", selfPath(classic.wid, "/webauthn/create/begin"), { token: await userToken(classic.t) }),
    );
    expect(ok.publicKey.authenticatorSelection.residentKey).toBe("discouraged");
  });

  it("names follow the rules (400 for control or bidi characters)", async () => {
    const s = await signedUp("smart");
    const token = await userToken(s.t);
    await expectError(
      await call("PUT", selfPath(s.wid, `/webauthn/${s.creds[0]!.id}/name`), { token, body: { name: "evil\u202Etxt.exe" } }),
      400,
      "validation_failed",
    );
    expect(await count("credentials", "user_id = ? AND name IS NULL", s.user.id)).toBe(1);
  });
});
