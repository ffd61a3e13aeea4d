/**
 * Classic options must not tell real users from anybody else: an unknown identifier, a user without passkeys and an
 * inactive user get an answer that has the shape of some real user's answer in the same workspace (pool, user
 * verification, RP ID, passkey count, credential id lengths, fields), stable per identifier.
 */
import { describe, expect, it } from "vitest";
import { SoftAuthenticator } from "./authenticator";
import { json, sys, uid } from "./helpers/api";
import { enroll, newPool, newUser } from "./helpers/passkeys";
import { newWorkspace, options, type Options } from "./helpers/signin";

/** Everything in an answer except the random challenge, the login id and the ids' bytes. */
const shape = (o: Options) =>
  JSON.stringify({
    keys: Object.keys(o).sort(),
    publicKey: Object.fromEntries(
      Object.entries(o.publicKey)
        .filter(([k]) => k !== "challenge")
        .map(([k, v]) => [
          k,
          k === "allowCredentials"
            ? (v as { id: string; type: string }[]).map((c) => ({
                keys: Object.keys(c).sort(),
                type: c.type,
                bytes: Math.floor((c.id.length * 3) / 4),
              }))
            : v,
        ])
        .sort(),
    ),
  });

async function userWithPasskeys(pool: string, idLengths: number[]) {
  const user = await newUser(pool);
  const auth = new SoftAuthenticator();
  for (const n of idLengths) await enroll(auth, pool, user.id, "classic", { credentialId: crypto.getRandomValues(new Uint8Array(n)) });
  return user;
}

async function twoPoolWorkspace() {
  const strict = await newPool({ passkey_settings: { user_verification: "required" } });
  const lax = await newPool({ passkey_settings: { user_verification: "discouraged" } });
  const wid = await newWorkspace(["webauthn"], [strict, lax]);
  const real = [await userWithPasskeys(strict, [16]), await userWithPasskeys(strict, [64, 64, 64]), await userWithPasskeys(lax, [20, 48])];
  return { strict, lax, wid, real };
}

describe("Classic options reveal no account", () => {
  it("answers for unknown identifiers have exactly the shapes of real users' answers, pool settings included", async () => {
    const w = await twoPoolWorkspace();
    const realShapes = new Set<string>();
    for (const u of w.real) realShapes.add(shape(await options(w.wid, { identifier: u.email })));
    expect(realShapes.size).toBe(3);
    // The user of the second pool has that pool's user verification.
    const laxAnswer = await options(w.wid, { identifier: w.real[2]!.email });
    expect(laxAnswer.publicKey.userVerification).toBe("discouraged");

    for (let i = 0; i < 24; i++) {
      const unknown = await options(w.wid, { identifier: `${uid("nobody")}@example.com` });
      expect(realShapes, shape(unknown)).toContain(shape(unknown));
    }
  });

  it("a user without passkeys and an inactive user look like real users too", async () => {
    const w = await twoPoolWorkspace();
    const realShapes = new Set<string>();
    for (const u of w.real) realShapes.add(shape(await options(w.wid, { identifier: u.email })));
    const bare = await newUser(w.lax);
    expect(realShapes).toContain(shape(await options(w.wid, { identifier: bare.email })));
    const inactive = await userWithPasskeys(w.lax, [77]);
    await json(await sys("PUT", `/pools/${w.lax}/users/${inactive.id}`, { body: { status: "inactive" } }));
    const answer = await options(w.wid, { identifier: inactive.email });
    expect(realShapes).toContain(shape(answer));
  });

  it("fake ids are stable per identifier (case-insensitive), differ between identifiers and never equal a real id", async () => {
    const w = await twoPoolWorkspace();
    const ids = (o: Options) => o.publicKey.allowCredentials!.map((c) => c.id);
    const a1 = await options(w.wid, { identifier: "someone-new@example.com" });
    const a2 = await options(w.wid, { identifier: "SOMEONE-NEW@example.com" });
    expect(ids(a1)).toEqual(ids(a2));
    expect(a1.publicKey.challenge).not.toBe(a2.publicKey.challenge);
    const b = await options(w.wid, { identifier: "someone-else@example.com" });
    expect(ids(b)).not.toEqual(ids(a1));
    const realIds = new Set<string>();
    for (const u of w.real) for (const id of ids(await options(w.wid, { identifier: u.email }))) realIds.add(id);
    for (const id of [...ids(a1), ...ids(b)]) expect(realIds.has(id)).toBe(false);
  });
});
