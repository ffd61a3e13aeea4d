/**
 * Passkey references (api.md "Passkey references"): a reference names at most one passkey of the user, the entry id
 * first. An authenticator chooses its credential id freely, so these tests register a passkey whose credential id
 * equals another passkey's entry id and check that no rename or delete ever touches two rows.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { SoftAuthenticator, fromB64url } from "./authenticator";
import { call, expectError, sys } from "./helpers/api";
import { count, enroll, newUser } from "./helpers/passkeys";
import { setup, userToken } from "./helpers/signin";

const selfPath = (wid: string, p: string) => `/default/${wid}/identity/v2/self${p}`;

/** A user with passkey A, and passkey B whose WebAuthn credential id is A's entry id. */
async function collidingPair() {
  const { pool, wid } = await setup("smart");
  const user = await newUser(pool);
  const auth = new SoftAuthenticator();
  const a = (await enroll(auth, pool, user.id, "smart")).credentials[0]!;
  const both = (await enroll(auth, pool, user.id, "smart", { credentialId: fromB64url(a.id) })).credentials;
  const b = both.find((c) => c.id !== a.id)!;
  expect(b.payload.credential_id).toBe(a.id);
  return { pool, wid, user, a, b, token: await userToken({ wid, pool, userId: user.id }) };
}

async function names(userId: string): Promise<Record<string, string | null>> {
  const rows = await env.DB.prepare("SELECT id, name FROM credentials WHERE user_id = ? AND type = 'webauthn'")
    .bind(userId)
    .all<{ id: string; name: string | null }>();
  return Object.fromEntries(rows.results.map((x) => [x.id, x.name]));
}

describe("passkey references resolve to one row, entry id first", () => {
  it("self-service rename by A's entry id renames only A", async () => {
    const s = await collidingPair();
    expect((await call("PUT", selfPath(s.wid, `/webauthn/${s.a.id}/name`), { token: s.token, body: { name: "Laptop" } })).status).toBe(204);
    expect(await names(s.user.id)).toEqual({ [s.a.id]: "Laptop", [s.b.id]: null });
  });

  it("self-service delete by A's entry id deletes only A and keeps B", async () => {
    const s = await collidingPair();
    expect((await call("DELETE", selfPath(s.wid, `/webauthn/${s.a.id}`), { token: s.token })).status).toBe(204);
    expect(Object.keys(await names(s.user.id))).toEqual([s.b.id]);
    // B is now the last passkey: the same reference (now B's credential id) cannot remove it.
    await expectError(await call("DELETE", selfPath(s.wid, `/webauthn/${s.a.id}`), { token: s.token }), 409, "last_credential");
    expect(await count("credentials", "user_id = ? AND type = 'webauthn'", s.user.id)).toBe(1);
  });

  it("system rename and delete by A's entry id touch only A; B stays reachable by its own ids", async () => {
    const s = await collidingPair();
    const base = `/pools/${s.pool}/users/${s.user.id}/webauthn`;
    expect((await sys("PUT", `${base}/${s.a.id}/name`, { body: { name: "Key A" } })).status).toBe(204);
    expect(await names(s.user.id)).toEqual({ [s.a.id]: "Key A", [s.b.id]: null });
    expect((await sys("DELETE", `${base}/${s.a.id}`)).status).toBe(204);
    expect(Object.keys(await names(s.user.id))).toEqual([s.b.id]);
    // With A gone, the reference falls through to B's credential id.
    expect((await sys("PUT", `${base}/${s.a.id}/name`, { body: { name: "Key B" } })).status).toBe(204);
    expect(await names(s.user.id)).toEqual({ [s.b.id]: "Key B" });
  });

  it("a credential id equal to another user's entry id reaches only the caller's own passkey", async () => {
    const victim = await collidingPair();
    const attacker = await newUser(victim.pool);
    const auth = new SoftAuthenticator();
    await enroll(auth, victim.pool, attacker.id, "smart");
    const own = (await enroll(auth, victim.pool, attacker.id, "smart", { credentialId: fromB64url(victim.b.id) })).credentials;
    const token = await userToken({ wid: victim.wid, pool: victim.pool, userId: attacker.id });
    expect((await call("PUT", selfPath(victim.wid, `/webauthn/${victim.b.id}/name`), { token, body: { name: "mine" } })).status).toBe(204);
    expect(await names(victim.user.id)).toEqual({ [victim.a.id]: null, [victim.b.id]: null });
    expect(Object.values(await names(attacker.id)).filter((n) => n === "mine")).toHaveLength(1);
    expect(own).toHaveLength(2);
  });
});
