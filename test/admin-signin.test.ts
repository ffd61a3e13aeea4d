import { describe, expect, it } from "vitest";
import { SoftAuthenticator } from "./authenticator";
import { call, expectError, json, ORIGIN, sys } from "./helpers/api";
import { enroll, newUser } from "./helpers/passkeys";
import { finish, options, optionsRes, verifyWithJwks, type Tokens } from "./helpers/signin";

describe("administrators sign in with passkeys through the admin workspace", () => {
  it("a user of the admins pool gets scope identity and can call the system API", async () => {
    const admin = await newUser("admins");
    const auth = new SoftAuthenticator();
    await enroll(auth, "admins", admin.id, "smart");
    const opts = await options("admin");
    const tokens = await json<Tokens>(await finish("admin", opts.login_id, await auth.authenticate(opts.publicKey, { origin: ORIGIN })));
    expect(tokens.scope).toBe("identity view_ss_profile manage_ss_profile");
    expect(await verifyWithJwks(tokens.access_token)).toMatchObject({ sub: admin.id, wid: "admin", pool_id: "admins" });
    expect((await call("GET", "/api/identity/default/system/pools", { token: tokens.access_token })).status).toBe(200);
    // Another tenant's objects stay out of reach.
    await expectError(await call("GET", "/api/identity/other/system/pools", { token: tokens.access_token }), 404, "not_found");
  });

  it("a deactivated administrator's token stops working on the system API (401 invalid_token)", async () => {
    const admin = await newUser("admins");
    const auth = new SoftAuthenticator();
    await enroll(auth, "admins", admin.id, "smart");
    const opts = await options("admin");
    const { access_token } = await json<Tokens>(
      await finish("admin", opts.login_id, await auth.authenticate(opts.publicKey, { origin: ORIGIN })),
    );
    expect((await call("GET", "/api/identity/default/system/pools", { token: access_token })).status).toBe(200);
    await json(await sys("PUT", `/pools/admins/users/${admin.id}`, { body: { status: "inactive" } }));
    await expectError(await call("GET", "/api/identity/default/system/pools", { token: access_token }), 401, "invalid_token");
    await expectError(
      await call("POST", "/api/identity/default/system/pools", { token: access_token, body: { name: "x" } }),
      401,
      "invalid_token",
    );
  });

  it("identity is never granted outside the admins pool or the admin workspace", async () => {
    // A user of another pool that an administrator added to the admin workspace.
    await json(await sys("PUT", "/workspaces/admin", { body: { identity_pools: ["admins", "default"] } }));
    try {
      const user = await newUser("default");
      const auth = new SoftAuthenticator();
      await enroll(auth, "default", user.id, "smart");
      const opts = await options("admin", { scope: "identity view_ss_profile" });
      const tokens = await json<Tokens>(await finish("admin", opts.login_id, await auth.authenticate(opts.publicKey, { origin: ORIGIN })));
      expect(tokens.scope).toBe("view_ss_profile");
      await expectError(await call("GET", "/api/identity/default/system/pools", { token: tokens.access_token }), 403, "insufficient_scope");
    } finally {
      await json(await sys("PUT", "/workspaces/admin", { body: { identity_pools: ["admins"] } }));
    }
    // Other workspaces cannot even ask for it.
    await expectError(await optionsRes("default", { scope: "identity" }), 400, "invalid_scope");
  });
});

describe("the administrators' own objects", () => {
  it("the admin workspace and the admins pool cannot be deleted (409), so administrators cannot lock themselves out", async () => {
    await expectError(await sys("DELETE", "/workspaces/admin"), 409, "reserved_workspace");
    await expectError(await sys("DELETE", "/pools/admins"), 409, "reserved_pool");
    expect((await sys("GET", "/workspaces/admin")).status).toBe(200);
    expect((await sys("GET", "/pools/admins")).status).toBe(200);
  });
});
