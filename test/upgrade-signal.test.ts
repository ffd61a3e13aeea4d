/**
 * Issue 12, items 3 and 5 on the server: the password sign-in's `passkey_upgrade` (and the token it comes with creates
 * the passkey through the self-service API), the finish 401's `unknown_credential` detail for the Signal API, and
 * GET /me's `webauthn_user` (RP ID and user handle for signalAllAcceptedCredentials / signalCurrentUserDetails).
 */
import type { PublicKeyCredentialCreationOptionsJSON } from "@simplewebauthn/server";
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { b64url, fromB64url, SoftAuthenticator } from "./authenticator";
import { call, expectError, json, ORIGIN, sys, uid } from "./helpers/api";
import { pendingAuthorization, publicClient } from "./helpers/hosted";
import { type CredentialJson, enroll, newPool, newUser } from "./helpers/passkeys";
import { finish, newWorkspace, options, password, setup, type Tokens, userToken } from "./helpers/signin";

const PASSWORD = "correct horse battery staple";
const selfPath = (wid: string, p: string) => `/default/${wid}/identity/v2/self${p}`;
type PasswordAnswer = Tokens & { passkey_upgrade?: boolean; continue_url?: string; login_id?: string; next?: string[] };

async function passwordUser(pool: string) {
  return newUser(pool, "default", { credentials: [{ type: "password", password: PASSWORD }] });
}
const signInWithPassword = async (wid: string, identifier: string, extra: Record<string, unknown> = {}) =>
  json<PasswordAnswer>(await password(wid, { identifier, password: PASSWORD, ...extra }));

/** Creates a passkey with a user token through the self-service API, as the hosted page's upgrade does. */
async function createWithToken(wid: string, token: string, auth: SoftAuthenticator, segment = "usernameless-webauthn") {
  const begin = await json<{ publicKey: PublicKeyCredentialCreationOptionsJSON }>(
    await call("POST", selfPath(wid, `/${segment}/create/begin`), { token }),
  );
  const response = await auth.register(begin.publicKey, { origin: ORIGIN });
  return json<{ credentials: CredentialJson[] }>(
    await call("POST", selfPath(wid, `/${segment}/create/complete`), { token, body: response }),
  );
}

describe("passkey upgrade after a password sign-in", () => {
  it("on: the answer says passkey_upgrade, its token creates a Smart passkey, and then the offer stops", async () => {
    const { pool, wid } = await setup("smart", { self_service: { passkey_upgrade: true } });
    const user = await passwordUser(pool);
    const first = await signInWithPassword(wid, user.email);
    expect(first.passkey_upgrade).toBe(true);
    expect(first.scope.split(" ")).toContain("manage_ss_profile");

    const auth = new SoftAuthenticator();
    const made = await createWithToken(wid, first.access_token, auth);
    expect(made.credentials).toHaveLength(1);
    expect(made.credentials[0]!.discoverable_id).not.toBe("");
    // The new passkey signs in (Smart, no username).
    const opts = await options(wid);
    expect((await finish(wid, opts.login_id, await auth.authenticate(opts.publicKey, { origin: ORIGIN }))).status).toBe(200);
    // It has a passkey usable here now: no more offers.
    expect(await signInWithPassword(wid, user.email)).not.toHaveProperty("passkey_upgrade");
  });

  it("off by default, and never in a workspace without passkeys", async () => {
    const off = await setup("smart");
    const user = await passwordUser(off.pool);
    expect(await signInWithPassword(off.wid, user.email)).not.toHaveProperty("passkey_upgrade");

    const pool = await newPool({ authentication_mechanisms: ["webauthn", "password"], self_service: { passkey_upgrade: true } });
    const passwordOnly = await newWorkspace(["password"], [pool]);
    const other = await passwordUser(pool);
    const answer = await signInWithPassword(passwordOnly, other.email);
    expect(answer.access_token).toBeTruthy();
    expect(answer).not.toHaveProperty("passkey_upgrade");
  });

  it("Smart: a non-discoverable passkey is not usable here, so it is offered while the user has room for one more", async () => {
    for (const [capacity, offered] of [
      [2, true],
      [1, false],
    ] as const) {
      const { pool, wid } = await setup("smart", {
        self_service: { passkey_upgrade: true },
        limits: { webauthn_credentials_capacity: capacity },
      });
      const user = await passwordUser(pool);
      await enroll(new SoftAuthenticator(), pool, user.id, "classic"); // residentKey discouraged: not discoverable
      const answer = await signInWithPassword(wid, user.email);
      expect(answer.access_token).toBeTruthy();
      if (offered) expect(answer.passkey_upgrade, `capacity ${capacity}`).toBe(true);
      else expect(answer, `capacity ${capacity}: at capacity`).not.toHaveProperty("passkey_upgrade");
    }
  });

  it("Classic: any passkey of the user is usable, so there is no offer", async () => {
    const { pool, wid } = await setup("classic", { self_service: { passkey_upgrade: true } });
    const user = await passwordUser(pool);
    expect((await signInWithPassword(wid, user.email)).passkey_upgrade).toBe(true);
    await enroll(new SoftAuthenticator(), pool, user.id, "classic");
    expect(await signInWithPassword(wid, user.email)).not.toHaveProperty("passkey_upgrade");
  });

  it("not when a second factor follows the password (the answer is the next step)", async () => {
    const { pool, wid } = await setup("smart", {
      self_service: { passkey_upgrade: true },
      second_factor_authentication_mechanisms: ["email_otp"],
    });
    const user = await passwordUser(pool);
    const answer = await signInWithPassword(wid, user.email);
    expect(answer.next).toEqual(["email_otp"]);
    expect(answer).not.toHaveProperty("passkey_upgrade");
    expect(answer).not.toHaveProperty("access_token");
  });

  it("with a pending OIDC authorization: continue_url, and the token still carries manage_ss_profile and creates the passkey", async () => {
    const { pool, wid } = await setup("smart", { self_service: { passkey_upgrade: true } });
    const user = await passwordUser(pool);
    const redirect = "http://localhost:3000/callback";
    const clientId = await publicClient(wid, { redirect, scopes: ["openid", "profile"] });
    const { authz } = await pendingAuthorization(wid, { clientId, redirect, scope: "openid", state: "s" });
    const answer = await signInWithPassword(wid, user.email, { authz });
    expect(answer.continue_url).toBe(`/default/${wid}/oauth2/authorize/resume?authz=${authz}`);
    expect(answer.passkey_upgrade).toBe(true);
    expect(answer.scope.split(" ")).toContain("manage_ss_profile");
    expect((await createWithToken(wid, answer.access_token, new SoftAuthenticator())).credentials).toHaveLength(1);
  });
});

describe("unknown credential (Signal API)", () => {
  /** A Smart workspace whose user has one passkey. */
  async function smartUser() {
    const { pool, wid } = await setup("smart");
    const user = await newUser(pool);
    const auth = new SoftAuthenticator();
    const { credentials } = await enroll(auth, pool, user.id, "smart");
    return { pool, wid, user, auth, credential: credentials[0]! };
  }
  const failedFinish = async (
    wid: string,
    auth: SoftAuthenticator,
    o: Parameters<SoftAuthenticator["authenticate"]>[1] = { origin: ORIGIN },
  ) => {
    const opts = await options(wid);
    return expectError(await finish(wid, opts.login_id, await auth.authenticate(opts.publicKey, o)), 401, "authentication_failed");
  };

  it("a passkey deleted on the server: the 401 carries details.unknown_credential", async () => {
    const s = await smartUser();
    await env.DB.prepare("DELETE FROM credentials WHERE id = ?").bind(s.credential.id).run();
    expect((await failedFinish(s.wid, s.auth)).details).toEqual({ unknown_credential: true });
  });

  it("a known passkey with a wrong signature: the same 401 without the detail", async () => {
    const s = await smartUser();
    expect((await failedFinish(s.wid, s.auth, { origin: ORIGIN, tamperSignature: true })).details).toEqual({});
  });

  it("a passkey of a pool outside the workspace (same RP ID) is not called unknown: it works elsewhere", async () => {
    const s = await smartUser();
    const elsewhere = await setup("smart");
    expect((await failedFinish(elsewhere.wid, s.auth)).details).toEqual({});
  });

  it("a Classic decoy's fake id is never called unknown (it would tell an unknown identifier from a real one)", async () => {
    const { pool, wid: classic } = await setup("classic");
    const smart = await newWorkspace(["usernameless_webauthn"], [pool]);
    await enroll(new SoftAuthenticator(), pool, (await newUser(pool)).id, "classic"); // a decoy to copy
    const nobody = await options(classic, { identifier: `${uid("nobody")}@example.com` });
    const fakeId = nobody.publicKey.allowCredentials![0]!.id;
    // An authenticator that holds a key under the fake id (a forger who copied it from the options).
    const forger = new SoftAuthenticator();
    const creation = { rp: { id: "localhost", name: "x" }, user: { id: b64url(new Uint8Array(16)), name: "x", displayName: "x" } };
    await forger.register({ ...creation, challenge: "AA", pubKeyCredParams: [] } as PublicKeyCredentialCreationOptionsJSON, {
      origin: ORIGIN,
      credentialId: fromB64url(fakeId),
      discoverable: true,
    });
    const inClassic = await forger.authenticate(nobody.publicKey, { origin: ORIGIN });
    const res = await finish(classic, nobody.login_id, inClassic);
    expect((await expectError(res, 401, "authentication_failed")).details).toEqual({});
    // In a Smart workspace of the same pool the options list nothing: the id is still recognised as a fake.
    expect((await failedFinish(smart, forger)).details).toEqual({});
    // The same forger with a random id is unknown: the tag, not the length or the workspace, makes the difference.
    const random = new SoftAuthenticator();
    await random.register({ ...creation, challenge: "AA", pubKeyCredParams: [] } as PublicKeyCredentialCreationOptionsJSON, {
      origin: ORIGIN,
      credentialId: crypto.getRandomValues(new Uint8Array(fromB64url(fakeId).length)),
      discoverable: true,
    });
    expect((await failedFinish(smart, random)).details).toEqual({ unknown_credential: true });
  });
});

describe("GET /me webauthn_user", () => {
  it("the user's RP ID, user handle and names, only with the user's own token", async () => {
    const { pool, wid } = await setup("smart");
    const user = await newUser(pool);
    const auth = new SoftAuthenticator();
    await enroll(auth, pool, user.id, "smart");
    const me = await json<{ id: string; webauthn_user: Record<string, string> }>(
      await call("GET", selfPath(wid, "/me"), { token: await userToken({ wid, pool, userId: user.id }, { scope: "view_ss_profile" }) }),
    );
    expect(me.id).toBe(user.id);
    expect(me.webauthn_user).toEqual({
      rp_id: "localhost",
      id: b64url(auth.credentials[0]!.userHandle!),
      name: user.email,
      display_name: user.email,
    });
    // Nobody else gets it: no token, another user's token (its own identity), and the system API's user view.
    await expectError(await call("GET", selfPath(wid, "/me")), 401, "unauthorized");
    const other = await newUser(pool);
    const theirs = await json<{ webauthn_user: { id: string } }>(
      await call("GET", selfPath(wid, "/me"), { token: await userToken({ wid, pool, userId: other.id }) }),
    );
    expect(theirs.webauthn_user.id).not.toBe(me.webauthn_user.id);
    const viaSystem = await json<Record<string, unknown>>(await sys("GET", `/pools/${pool}/users/${user.id}`));
    expect(viaSystem).not.toHaveProperty("webauthn_user");
    expect(viaSystem).not.toHaveProperty("user_handle");
  });

  it("null in a workspace without passkeys", async () => {
    const pool = await newPool({ authentication_mechanisms: ["webauthn", "password"] });
    const wid = await newWorkspace(["password"], [pool]);
    const user = await newUser(pool);
    const me = await json<{ webauthn_user: unknown }>(
      await call("GET", selfPath(wid, "/me"), { token: await userToken({ wid, pool, userId: user.id }) }),
    );
    expect(me.webauthn_user).toBeNull();
  });
});
