/**
 * Identifiers and addresses must be well-formed Unicode: an unpaired surrogate would be stored as U+FFFD, so two
 * distinct inputs would become one display string nobody can sign in with. Every entry point refuses them with 400.
 */
import { describe, expect, it } from "vitest";
import { call, expectError, json, sys, uid } from "./helpers/api";
import { count, newPool, newUser } from "./helpers/passkeys";
import { setup } from "./helpers/signin";

const lone = ["\ud800", "\udfff", "a\ud83d", "\ude00b"];

describe("identifiers with lone surrogates", () => {
  it.each(lone.map((s) => [JSON.stringify(s), s]))("user creation refuses identifier and address with %s", async (_n, bad) => {
    const pool = await newPool();
    const email = `${uid("u")}${bad}@example.com`;
    const res = await sys("POST", `/pools/${pool}/users`, { body: { identifiers: [{ identifier: email, type: "email" }] } });
    const body = await expectError(res, 400, "validation_failed");
    expect(JSON.stringify(body.details)).toContain("identifiers.0.identifier");
    const addr = await sys("POST", `/pools/${pool}/users`, {
      body: {
        identifiers: [{ identifier: `${uid("u")}@example.com`, type: "email" }],
        verifiable_addresses: [{ address: email, type: "email" }],
      },
    });
    await expectError(addr, 400, "validation_failed");
    expect(await count("users", "pool_id = ?", pool)).toBe(0);
  });

  it("user update refuses them and keeps the old identifier", async () => {
    const pool = await newPool();
    const user = await newUser(pool);
    await expectError(
      await sys("PUT", `/pools/${pool}/users/${user.id}`, { body: { identifiers: [{ identifier: "x\ud800", type: "uid" }] } }),
      400,
      "validation_failed",
    );
    const after = await json<{ identifiers: { identifier: string }[] }>(await sys("GET", `/pools/${pool}/users/${user.id}`));
    expect(after.identifiers.map((i) => i.identifier)).toEqual([user.email]);
  });

  it("two inputs that differ only in their lone surrogate never become one stored identifier", async () => {
    const pool = await newPool();
    for (const s of ["\ud800", "\ud801"]) {
      await expectError(
        await sys("POST", `/pools/${pool}/users`, { body: { identifiers: [{ identifier: `same${s}`, type: "uid" }] } }),
        400,
        "validation_failed",
      );
    }
    expect(await count("identifiers", "pool_id = ?", pool)).toBe(0);
  });

  it("sign-in, password and code requests refuse them with 400 too", async () => {
    const { wid, pool } = await setup("classic");
    await expectError(
      await call("POST", `/default/${wid}/login/webauthn/options`, { body: { identifier: "a\ud800" } }),
      400,
      "validation_failed",
    );
    await expectError(
      await call("POST", `/default/${wid}/login/password`, { body: { identifier: "a\ud800", password: "whatever-123" } }),
      400,
      "validation_failed",
    );
    await expectError(
      await sys("POST", `/pools/${pool}/user/webauthn/add/request`, { body: { identifier: "a\ud800" } }),
      400,
      "validation_failed",
    );
    await expectError(
      await sys("POST", `/pools/${pool}/user/webauthn/add/request`, { body: { address: "a\udc00@example.com" } }),
      400,
      "validation_failed",
    );
  });

  it("well-formed astral characters (paired surrogates) are still accepted", async () => {
    const pool = await newPool();
    const res = await sys("POST", `/pools/${pool}/users`, {
      body: { identifiers: [{ identifier: `${uid("u")}\ud83d\ude00@example.com`, type: "email" }] },
    });
    expect(res.status).toBe(201);
  });
});
