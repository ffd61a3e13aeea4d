/**
 * Storage round trips of registration (passkey enrollment) and user reads, counted through the Worker's entrypoint
 * (issue 11, item 1): a regression that adds a D1 round trip or a KV call fails here. Caches are warm (the tenant's
 * public keys, cached per isolate by src/crypto/keys.ts, are read once before measuring). The bearer token's liveness
 * check (user active / tenant exists) runs inside the request's first D1 read (src/http/liveness.ts), so it is part of
 * every count below, not an extra round trip.
 */
import type { PublicKeyCredentialCreationOptionsJSON } from "@simplewebauthn/server";
import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { SoftAuthenticator } from "./authenticator";
import { call, expectError, json, ORIGIN, sys, systemToken } from "./helpers/api";
import { type CredentialJson, enroll, type Mode, newUser, segment } from "./helpers/passkeys";
import { setup, userToken } from "./helpers/signin";
import type { StorageUse } from "./helpers/faults";
import { describeCalls, type Measured, measuredFetch, measuredPost } from "./helpers/storage-use";

type Budget = Partial<Omit<StorageUse, "calls">>;
const NONE: Required<Budget> = { d1RoundTrips: 0, d1Statements: 0, kvReads: 0, kvWrites: 0, kvDeletes: 0, kvLists: 0 };

/** Exact counts: the fields named in `budget`, and zero for every KV operation it does not name. */
function expectUse(u: StorageUse, budget: Budget): void {
  const { d1Statements: _s, ...zeros } = NONE;
  const want = { ...zeros, ...budget };
  const got = Object.fromEntries(Object.keys(want).map((k) => [k, u[k as keyof Budget]]));
  expect(got, describeCalls(u)).toEqual(want);
}

/** Nothing left for waitUntil either. */
const expectNoDeferred = (m: Measured) => expectUse(m.deferred, { d1RoundTrips: 0 });

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const sysBase = (pool: string, userId: string) => `/api/identity/default/system/pools/${pool}/users/${userId}`;
type Begin = { publicKey: PublicKeyCredentialCreationOptionsJSON };

let system: Record<string, string>;

beforeAll(async () => {
  system = bearer(await systemToken());
  await json(await sys("GET", "/pools")); // the tenant's public keys are cached per isolate from here on
});

/** Get User Details' passkeys, for comparing the answer of complete with. */
async function detailsPasskeys(pool: string, userId: string): Promise<CredentialJson[]> {
  const u = await json<{ credentials: CredentialJson[] }>(await sys("GET", `/pools/${pool}/users/${userId}`));
  return u.credentials.filter((c) => c.type === "webauthn");
}

describe("registration begin: 1 D1 round trip and 1 KV write; complete: 2 D1 round trips and 1 KV read", () => {
  for (const mode of ["smart", "classic"] as Mode[]) {
    it(`system API, ${mode}: begin and complete; the answer is the user's passkeys, as Get User Details shows them`, async () => {
      const { pool } = await setup(mode);
      const user = await newUser(pool);
      const auth = new SoftAuthenticator();
      await enroll(auth, pool, user.id, mode); // a passkey already there: begin excludes it, complete lists both
      const base = `${sysBase(pool, user.id)}/${segment(mode)}/create`;

      const begin = await measuredPost(`${base}/begin`, undefined, system);
      const { publicKey } = await json<Begin>(begin.res);
      expectUse(begin.critical, { d1RoundTrips: 1, kvWrites: 1 });
      expectNoDeferred(begin);
      expect(publicKey.excludeCredentials).toHaveLength(1);

      const response = await auth.register(publicKey, { origin: ORIGIN });
      const complete = await measuredPost(`${base}/complete`, response, system);
      const { credentials } = await json<{ credentials: CredentialJson[] }>(complete.res);
      expectUse(complete.critical, { d1RoundTrips: 2, kvReads: 1 });
      expectNoDeferred(complete);
      expect(credentials).toHaveLength(2);
      expect(credentials[1]!.payload.credential_id).toBe(response.id);
      expect(credentials).toEqual(await detailsPasskeys(pool, user.id));
    });
  }

  it("self-service (Smart workspace): begin and complete", async () => {
    const { pool, wid } = await setup("smart");
    const user = await newUser(pool);
    await enroll(new SoftAuthenticator(), pool, user.id, "smart");
    const me = bearer(await userToken({ wid, pool, userId: user.id }));
    const base = `/default/${wid}/identity/v2/self/usernameless-webauthn/create`;

    const begin = await measuredPost(`${base}/begin`, undefined, me);
    const { publicKey } = await json<Begin>(begin.res);
    expectUse(begin.critical, { d1RoundTrips: 1, kvWrites: 1 });
    expectNoDeferred(begin);

    const response = await new SoftAuthenticator().register(publicKey, { origin: ORIGIN });
    const complete = await measuredPost(`${base}/complete`, response, me);
    const { credentials } = await json<{ credentials: CredentialJson[] }>(complete.res);
    expectUse(complete.critical, { d1RoundTrips: 2, kvReads: 1 });
    expectNoDeferred(complete);
    expect(credentials.map((c) => c.payload.credential_id)).toContain(response.id);
    expect(credentials).toEqual(await detailsPasskeys(pool, user.id));
  });

  it("a refused complete (the challenge already used) costs the one read and writes nothing", async () => {
    const { pool } = await setup("smart");
    const user = await newUser(pool);
    const { response } = await enroll(new SoftAuthenticator(), pool, user.id, "smart");
    const replay = await measuredPost(`${sysBase(pool, user.id)}/usernameless-webauthn/create/complete`, response, system);
    await expectError(replay.res, 400, "registration_failed");
    expectUse(replay.critical, { d1RoundTrips: 1, kvReads: 1 });
  });
});

/**
 * The code-gated flows meet the same budget: the one-time code's check is conditional statements of a batch that is
 * already there (src/repo/codes.ts codeCheckStmts): in the options' read (the code checked, not consumed), and in the
 * commit batch of complete (the code consumed and the passkey inserted, gated by the check).
 */
describe("code-gated enrollment: options 1 D1 round trip + 1 KV write; complete 2 D1 round trips + 1 KV read", () => {
  async function codeFor(pool: string, user: { id: string; email: string }): Promise<string> {
    expect((await sys("POST", `/pools/${pool}/user/webauthn/add/request`, { body: { userID: user.id } })).status).toBe(204);
    const { messages } = await json<{ messages: { to: string; code: string }[] }>(await sys("GET", "/outbox"));
    return messages.find((m) => m.to === user.email)!.code;
  }

  it("enrollment link: options 1 D1 + 1 KV write, complete 2 D1 + 1 KV read", async () => {
    const { pool, wid } = await setup("smart");
    const user = await newUser(pool);
    const code = await codeFor(pool, user);

    const options = await measuredPost(`/default/${wid}/enroll/webauthn/options`, { user_id: user.id, code });
    const { publicKey } = await json<Begin>(options.res);
    expectUse(options.critical, { d1RoundTrips: 1, kvWrites: 1 });
    expectNoDeferred(options);

    const credential = await new SoftAuthenticator().register(publicKey, { origin: ORIGIN });
    const complete = await measuredPost(`/default/${wid}/enroll/webauthn/complete`, { user_id: user.id, code, credential });
    expect(complete.res.status, await complete.res.clone().text()).toBe(204);
    expectUse(complete.critical, { d1RoundTrips: 2, kvReads: 1 });
    expectNoDeferred(complete);
    expect((await detailsPasskeys(pool, user.id)).map((c) => c.payload.credential_id)).toEqual([credential.id]);
  });

  it("system API add/complete: 2 D1 + 1 KV read", async () => {
    const { pool } = await setup("classic");
    const user = await newUser(pool);
    const code = await codeFor(pool, user);
    const { publicKey } = await json<Begin>(await sys("POST", `/pools/${pool}/users/${user.id}/webauthn/create/begin`));
    const response = await new SoftAuthenticator().register(publicKey, { origin: ORIGIN });
    const add = await measuredPost(
      `/api/identity/default/system/pools/${pool}/user/webauthn/add/complete`,
      { userID: user.id, code, new_web_authn: response },
      system,
    );
    expect(add.res.status, await add.res.clone().text()).toBe(204);
    expectUse(add.critical, { d1RoundTrips: 2, kvReads: 1 });
    expectNoDeferred(add);
    expect((await detailsPasskeys(pool, user.id)).map((c) => c.payload.credential_id)).toEqual([response.id]);
  });
});

describe("Get User Details and GET /me: 1 D1 round trip for any number of passkeys", () => {
  it("0, 1 and 5 passkeys cost the same single round trip, with the same answer as before", async () => {
    const { pool, wid } = await setup("smart");
    const user = await newUser(pool);
    const auth = new SoftAuthenticator();
    const me = bearer(await userToken({ wid, pool, userId: user.id }));
    // GET /me also reads the workspace's configuration (its RP ID, for webauthn_user): warm its isolate cache first,
    // as every budget here assumes.
    expect((await call("GET", `/default/${wid}/login/config`)).status).toBe(200);
    for (const passkeys of [0, 1, 5]) {
      while ((await detailsPasskeys(pool, user.id)).length < passkeys) await enroll(auth, pool, user.id, "smart");
      const details = await measuredFetch(sysBase(pool, user.id), { headers: system });
      const body = await json<{ id: string; identifiers: unknown[]; verifiable_addresses: unknown[]; credentials: CredentialJson[] }>(
        details.res,
      );
      expectUse(details.critical, { d1RoundTrips: 1 });
      expect(body).toMatchObject({
        id: user.id,
        user_pool_id: pool,
        identifiers: [{ identifier: user.email, type: "email" }],
        verifiable_addresses: [{ address: user.email, type: "email", verified: true }],
      });
      expect(body.credentials).toHaveLength(passkeys);

      const self = await measuredFetch(`/default/${wid}/identity/v2/self/me`, { headers: me });
      // GET /me is Get User Details plus the Signal API's webauthn_user (issue 12), from the same read.
      const { webauthn_user, ...same } = await json<Record<string, unknown>>(self.res);
      expect(same).toEqual(body);
      expect(webauthn_user).toMatchObject({ rp_id: "localhost", name: user.email, display_name: user.email });
      expectUse(self.critical, { d1RoundTrips: 1 });
    }
  });

  it("the token's liveness check rides in that read: a deactivated user's token is 401 invalid_token after 1 round trip", async () => {
    const { pool, wid } = await setup("smart");
    const user = await newUser(pool);
    const me = bearer(await userToken({ wid, pool, userId: user.id }));
    await env.DB.prepare("UPDATE users SET status = 'inactive' WHERE id = ?").bind(user.id).run();
    const self = await measuredFetch(`/default/${wid}/identity/v2/self/me`, { headers: me });
    await expectError(self.res, 401, "invalid_token");
    expectUse(self.critical, { d1RoundTrips: 1 });
  });
});
