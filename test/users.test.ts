import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { verifyPassword } from "../src/crypto/password";
import { expectError, json, sys, uid } from "./helpers/api";

type Credential = {
  id: string;
  type: string;
  tenant_id: string;
  user_pool_id: string;
  user_id: string;
  state: string;
  name: string | null;
  discoverable_id: string;
  payload: Record<string, unknown>;
};
type User = {
  id: string;
  tenant_id: string;
  user_pool_id: string;
  status: string;
  identifiers: { identifier: string; type: string }[];
  verifiable_addresses: { address: string; type: string; verified: boolean }[];
  credentials?: Credential[];
  payload: Record<string, unknown>;
  metadata: Record<string, unknown>;
};

const email = () => `${uid("ada")}@example.com`;
const newUser = (body: Record<string, unknown>, pool = "default") => sys("POST", `/pools/${pool}/users`, { body });

describe("users", () => {
  it("creates a user with identifiers, addresses and a password; Get User Details shows a password credential without its hash", async () => {
    const addr = email();
    const created = await json<User>(
      await newUser({
        status: "active",
        identifiers: [
          { identifier: addr, type: "email" },
          { identifier: uid("ada"), type: "uid" },
        ],
        verifiable_addresses: [{ address: addr, type: "email", verified: true }],
        credentials: [{ type: "password", password: "correct horse battery" }],
        payload: { plan: "pro" },
        metadata: { source: "import" },
      }),
      201,
    );
    expect(created).toMatchObject({
      tenant_id: "default",
      user_pool_id: "default",
      status: "active",
      payload: { plan: "pro" },
      metadata: { source: "import" },
    });
    expect(created.identifiers[0]).toEqual({ identifier: addr, type: "email" });
    expect(created.verifiable_addresses).toEqual([{ address: addr, type: "email", verified: true }]);
    expect(created.credentials).toHaveLength(1);
    expect(created.credentials![0]).toMatchObject({
      type: "password",
      tenant_id: "default",
      user_pool_id: "default",
      user_id: created.id,
      state: "valid",
      discoverable_id: "",
      payload: {},
    });
    expect(JSON.stringify(created)).not.toMatch(/pbkdf2|correct horse/);

    const details = await json<User>(await sys("GET", `/pools/default/users/${created.id}`));
    expect(details).toEqual(created);

    const row = await env.DB.prepare("SELECT password_hash FROM credentials WHERE user_id = ?")
      .bind(created.id)
      .first<{ password_hash: string }>();
    expect(row!.password_hash).toMatch(/^pbkdf2-sha256\$100000\$/);
    expect(await verifyPassword("correct horse battery", row!.password_hash)).toBe(true);
    expect(await verifyPassword("correct horse batterz", row!.password_hash)).toBe(false);
  });

  it("gives every user its own random 32-byte WebAuthn user handle, not the user id", async () => {
    const a = await json<User>(await newUser({ identifiers: [{ identifier: email(), type: "email" }] }), 201);
    const b = await json<User>(await newUser({ identifiers: [{ identifier: email(), type: "email" }] }), 201);
    const rows = await env.DB.prepare("SELECT id, user_handle FROM users WHERE id IN (?, ?)")
      .bind(a.id, b.id)
      .all<{ id: string; user_handle: string }>();
    for (const r of rows.results) {
      expect(r.user_handle).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(r.user_handle).not.toContain(r.id);
    }
    expect(rows.results[0]!.user_handle).not.toBe(rows.results[1]!.user_handle);
  });

  it("keeps identifiers unique per pool case-insensitively (409 identifier_taken), storing nothing", async () => {
    const addr = email();
    await json(await newUser({ identifiers: [{ identifier: addr, type: "email" }] }), 201);
    const before = await env.DB.prepare("SELECT count(*) AS n FROM users").first<{ n: number }>();
    await expectError(await newUser({ identifiers: [{ identifier: addr.toUpperCase(), type: "email" }] }), 409, "identifier_taken");
    await expectError(await newUser({ identifiers: [{ identifier: `  ${addr}  `, type: "email" }] }), 409, "identifier_taken");
    expect(await env.DB.prepare("SELECT count(*) AS n FROM users").first<{ n: number }>()).toEqual(before);
    // Another pool may use the same identifier.
    const pool = (await json<{ id: string }>(await sys("POST", "/pools", { body: { name: uid() } }), 201)).id;
    await json(await newUser({ identifiers: [{ identifier: addr, type: "email" }] }, pool), 201);
  });

  it("two parallel creates with one identifier: exactly one wins", async () => {
    const addr = email();
    const results = await Promise.all([0, 1, 2, 3].map(() => newUser({ identifiers: [{ identifier: addr, type: "email" }] })));
    expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409, 409]);
  });

  it("updates status, identifiers, addresses, payload and password; absent fields keep their values", async () => {
    const u = await json<User>(
      await newUser({ identifiers: [{ identifier: email(), type: "email" }], payload: { a: 1 }, metadata: { m: 1 } }),
      201,
    );
    const addr = email();
    const upd = await json<User>(
      await sys("PUT", `/pools/default/users/${u.id}`, {
        body: {
          status: "inactive",
          identifiers: [{ identifier: addr, type: "email" }],
          verifiable_addresses: [{ address: addr, type: "email" }],
          credentials: [{ type: "password", password: "new password 1" }],
        },
      }),
    );
    expect(upd).toMatchObject({
      status: "inactive",
      identifiers: [{ identifier: addr, type: "email" }],
      verifiable_addresses: [{ address: addr, type: "email", verified: false }],
      payload: { a: 1 },
      metadata: { m: 1 },
    });
    expect(upd.credentials!.map((c) => c.type)).toEqual(["password"]);
    const again = await json<User>(
      await sys("PUT", `/pools/default/users/${u.id}`, { body: { credentials: [{ type: "password", password: "newer password 2" }] } }),
    );
    expect(again.credentials).toHaveLength(1);
    const row = await env.DB.prepare("SELECT password_hash FROM credentials WHERE user_id = ?")
      .bind(u.id)
      .first<{ password_hash: string }>();
    expect(await verifyPassword("newer password 2", row!.password_hash)).toBe(true);
  });

  it("an update to a taken identifier is 409 and changes nothing", async () => {
    const taken = email();
    await json(await newUser({ identifiers: [{ identifier: taken, type: "email" }] }), 201);
    const mine = email();
    const u = await json<User>(await newUser({ identifiers: [{ identifier: mine, type: "email" }] }), 201);
    await expectError(
      await sys("PUT", `/pools/default/users/${u.id}`, {
        body: { status: "inactive", identifiers: [{ identifier: taken, type: "email" }] },
      }),
      409,
      "identifier_taken",
    );
    expect(await json<User>(await sys("GET", `/pools/default/users/${u.id}`))).toMatchObject({
      status: "active",
      identifiers: [{ identifier: mine, type: "email" }],
    });
  });

  it("lists a pool's users with identifiers, newest first, with limit and offset", async () => {
    const pool = (await json<{ id: string }>(await sys("POST", "/pools", { body: { name: uid() } }), 201)).id;
    const ids: string[] = [];
    for (let i = 0; i < 3; i++)
      ids.push((await json<User>(await newUser({ identifiers: [{ identifier: email(), type: "email" }] }, pool), 201)).id);
    const all = await json<{ users: User[] }>(await sys("GET", `/pools/${pool}/users`));
    expect(all.users).toHaveLength(3);
    expect(all.users.every((u) => u.identifiers.length === 1 && u.credentials === undefined)).toBe(true);
    const page = await json<{ users: User[] }>(await sys("GET", `/pools/${pool}/users?limit=2&offset=2`));
    expect(page.users).toHaveLength(1);
    await expectError(await sys("GET", `/pools/${pool}/users?limit=0`), 400, "validation_failed");
  });

  it("a page of 150 users answers with every user and its data (D1 binds at most 100 values per statement)", async () => {
    const pool = (await json<{ id: string }>(await sys("POST", "/pools", { body: { name: uid() } }), 201)).id;
    for (let batch = 0; batch < 15; batch++)
      await Promise.all(
        Array.from({ length: 10 }, async () => json(await newUser({ identifiers: [{ identifier: email(), type: "email" }] }, pool), 201)),
      );
    const { users } = await json<{ users: User[] }>(await sys("GET", `/pools/${pool}/users?limit=150`));
    expect(users).toHaveLength(150);
    expect(users.every((u) => u.identifiers.length === 1)).toBe(true);
    const searched = await json<{ users: User[] }>(await sys("GET", `/pools/${pool}/users?limit=1000&search=example`));
    expect(searched.users).toHaveLength(150);
  });

  it("search keeps the users with an identifier containing the text, case-insensitively; LIKE wildcards are literal", async () => {
    const pool = (await json<{ id: string }>(await sys("POST", "/pools", { body: { name: uid() } }), 201)).id;
    const make = async (...identifiers: string[]) =>
      (await json<User>(await newUser({ identifiers: identifiers.map((identifier) => ({ identifier, type: "uid" })) }, pool), 201)).id;
    const ada = await make("Ada.Lovelace", "ada_l");
    const grace = await make("grace%hopper");
    await make("alan");
    const found = async (search: string) =>
      (await json<{ users: User[] }>(await sys("GET", `/pools/${pool}/users?search=${encodeURIComponent(search)}`))).users.map((u) => u.id);
    expect(await found("LOVELACE")).toEqual([ada]);
    expect(await found("a_l")).toEqual([ada]); // the second identifier; "_" is not a wildcard
    expect(await found("%")).toEqual([grace]); // "%" is not a wildcard
    expect(await found("e%h")).toEqual([grace]);
    expect(await found("a")).toHaveLength(3);
    expect(await found("zzz")).toEqual([]);
    expect(await found("ada")).toEqual([ada]);
    await expectError(await sys("GET", `/pools/${pool}/users?search=`), 400, "validation_failed");
  });

  it("deletes a user (and its credentials); another pool, tenant or unknown id is 404", async () => {
    const u = await json<User>(
      await newUser({
        identifiers: [{ identifier: email(), type: "email" }],
        credentials: [{ type: "password", password: "long enough pw" }],
      }),
      201,
    );
    const pool = (await json<{ id: string }>(await sys("POST", "/pools", { body: { name: uid() } }), 201)).id;
    await expectError(await sys("GET", `/pools/${pool}/users/${u.id}`), 404, "not_found");
    await expectError(await sys("DELETE", `/pools/${pool}/users/${u.id}`), 404, "not_found");
    await expectError(await sys("PUT", `/pools/${pool}/users/${u.id}`, { body: { status: "inactive" } }), 404, "not_found");
    await expectError(await sys("GET", `/pools/default/users/${u.id}`, { tid: "other" }), 404, "not_found");
    expect((await sys("DELETE", `/pools/default/users/${u.id}`)).status).toBe(204);
    await expectError(await sys("GET", `/pools/default/users/${u.id}`), 404, "not_found");
    const left = await env.DB.prepare("SELECT count(*) AS n FROM credentials WHERE user_id = ?").bind(u.id).first<{ n: number }>();
    expect(left!.n).toBe(0);
  });

  it("404 for users of an unknown pool", async () => {
    await expectError(await newUser({ identifiers: [{ identifier: email(), type: "email" }] }, "nope"), 404, "not_found");
    await expectError(await sys("GET", "/pools/nope/users"), 404, "not_found");
  });

  const invalid: [string, Record<string, unknown>, string][] = [
    ["no identifiers", { identifiers: [] }, "identifiers"],
    ["an unknown identifier type", { identifiers: [{ identifier: "x", type: "passport" }] }, "identifiers.0.type"],
    ["a malformed email", { identifiers: [{ identifier: "not-an-email", type: "email" }] }, "identifiers.0.identifier"],
    ["a malformed mobile", { identifiers: [{ identifier: "0123", type: "mobile" }] }, "identifiers.0.identifier"],
    ["a control character", { identifiers: [{ identifier: "ada\u0007", type: "uid" }] }, "identifiers.0.identifier"],
    [
      "a duplicate identifier",
      {
        identifiers: [
          { identifier: "Ada", type: "uid" },
          { identifier: "ada", type: "uid" },
        ],
      },
      "identifiers.1.identifier",
    ],
    [
      "a short password",
      { identifiers: [{ identifier: "ada", type: "uid" }], credentials: [{ type: "password", password: "short" }] },
      "credentials.0.password",
    ],
    ["a bad status", { identifiers: [{ identifier: "ada", type: "uid" }], status: "zombie" }, "status"],
    ["a non-object payload", { identifiers: [{ identifier: "ada", type: "uid" }], payload: [1] }, "payload"],
  ];
  for (const [name, body, field] of invalid) {
    it(`rejects ${name} with 400 naming ${field}`, async () => {
      const err = await expectError(await newUser(body), 400, "validation_failed");
      expect((err.details.fields as { field: string }[]).map((f) => f.field)).toContain(field);
    });
  }
});
