import { describe, expect, it } from "vitest";
import { expectError, json, sys, uid } from "./helpers/api";

type Pool = Record<string, unknown> & {
  id: string;
  passkey_settings: { relying_party_id: string; relying_party_origins: string[]; user_verification: string; attestation: string };
  limits: { max_credentials: number; webauthn_credentials_capacity: number };
};

const createPool = (body: Record<string, unknown>) => sys("POST", "/pools", { body: { name: uid("pool"), ...body } });

describe("pools", () => {
  it("creates with the contract's defaults, reads, lists, updates and deletes", async () => {
    const created = await json<Pool>(await createPool({ name: "Staff" }), 201);
    expect(created).toMatchObject({
      tenant_id: "default",
      name: "Staff",
      description: "",
      authentication_mechanisms: ["webauthn"],
      preferred_authentication_mechanism: "webauthn",
      second_factor_authentication_mechanisms: [],
      passkey_settings: { relying_party_id: "", relying_party_origins: [], user_verification: "required", attestation: "none" },
      limits: { max_credentials: 100, webauthn_credentials_capacity: 10 },
      otp_settings: { enroll_webauthn: { length: 8, ttl: "10m" } },
    });
    expect(created.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);

    expect(await json(await sys("GET", `/pools/${created.id}`))).toEqual(created);
    const list = await json<{ pools: Pool[] }>(await sys("GET", "/pools"));
    expect(list.pools.map((p) => p.id)).toContain(created.id);

    const updated = await json<Pool>(
      await sys("PUT", `/pools/${created.id}`, {
        body: {
          authentication_mechanisms: ["password"],
          second_factor_authentication_mechanisms: ["webauthn"],
          passkey_settings: {
            relying_party_id: "Example.COM",
            relying_party_origins: ["https://app.example.com", "https://example.com:8443"],
          },
          limits: { webauthn_credentials_capacity: 5 },
        },
      }),
    );
    expect(updated).toMatchObject({
      name: "Staff",
      authentication_mechanisms: ["password"],
      preferred_authentication_mechanism: "password",
      second_factor_authentication_mechanisms: ["webauthn"],
      second_factor_preferred_authentication_mechanism: "webauthn",
      passkey_settings: { relying_party_id: "example.com", relying_party_origins: ["https://app.example.com", "https://example.com:8443"] },
      limits: { max_credentials: 100, webauthn_credentials_capacity: 5 },
    });

    expect((await sys("DELETE", `/pools/${created.id}`)).status).toBe(204);
    await expectError(await sys("GET", `/pools/${created.id}`), 404, "not_found");
    await expectError(await sys("DELETE", `/pools/${created.id}`), 404, "not_found");
  });

  it("accepts a caller-chosen id once (409 pool_exists after)", async () => {
    const id = uid("p");
    await json(await createPool({ id }), 201);
    await expectError(await createPool({ id }), 409, "pool_exists");
  });

  it("hides another tenant's pools (404) and lists only the caller's", async () => {
    const mine = await json<Pool>(await createPool({}), 201);
    await expectError(await sys("GET", `/pools/${mine.id}`, { tid: "other" }), 404, "not_found");
    await expectError(await sys("PUT", `/pools/${mine.id}`, { tid: "other", body: { name: "x" } }), 404, "not_found");
    await expectError(await sys("DELETE", `/pools/${mine.id}`, { tid: "other" }), 404, "not_found");
    const theirs = await json<{ pools: Pool[] }>(await sys("GET", "/pools", { tid: "other" }));
    expect(theirs.pools.map((p) => p.id)).not.toContain(mine.id);
  });

  it("refuses to delete a pool a workspace signs in from (409 pool_in_use)", async () => {
    const pool = await json<Pool>(await createPool({}), 201);
    const ws = await json<{ id: string }>(await sys("POST", "/workspaces", { body: { name: "w", identity_pools: [pool.id] } }), 201);
    await expectError(await sys("DELETE", `/pools/${pool.id}`), 409, "pool_in_use");
    expect((await sys("DELETE", `/workspaces/${ws.id}`)).status).toBe(204);
    expect((await sys("DELETE", `/pools/${pool.id}`)).status).toBe(204);
  });

  it("deletes a pool's users with it", async () => {
    const pool = await json<Pool>(await createPool({}), 201);
    const user = await json<{ id: string }>(
      await sys("POST", `/pools/${pool.id}/users`, { body: { identifiers: [{ identifier: `${uid()}@example.com`, type: "email" }] } }),
      201,
    );
    expect((await sys("DELETE", `/pools/${pool.id}`)).status).toBe(204);
    const again = await json<Pool>(await createPool({ id: pool.id }), 201);
    await expectError(await sys("GET", `/pools/${again.id}/users/${user.id}`), 404, "not_found");
  });
});

describe("pool validation: relying party", () => {
  const rpCases: [string, string, boolean][] = [
    ["plain domain", "example.com", true],
    ["subdomain", "login.example.com", true],
    ["localhost", "localhost", true],
    ["empty = server default", "", true],
    ["scheme", "https://example.com", false],
    ["port", "example.com:443", false],
    ["path", "example.com/login", false],
    ["IPv4", "192.168.1.10", false],
    ["IPv6", "[::1]", false],
    ["bare IPv6", "::1", false],
    ["single label", "intranet", false],
    ["bad label", "-bad.example.com", false],
    ["underscore", "ex_ample.com", false],
    ["trailing dot", "example.com.", false],
  ];
  for (const [name, rpId, ok] of rpCases) {
    it(`relying_party_id ${name} (${JSON.stringify(rpId)}) → ${ok ? "accepted" : "422"}`, async () => {
      const res = await createPool({ passkey_settings: { relying_party_id: rpId } });
      if (ok) expect((await json<Pool>(res, 201)).passkey_settings.relying_party_id).toBe(rpId);
      else expect((await expectError(res, 422, "invalid_configuration")).details.field).toBe("passkey_settings.relying_party_id");
    });
  }

  const originCases: [string, string, boolean][] = [
    ["the RP ID itself", "https://example.com", true],
    ["a subdomain", "https://app.example.com", true],
    ["a deep subdomain", "https://a.b.example.com", true],
    ["a port", "https://app.example.com:8443", true],
    ["http on a foreign domain", "http://app.example.com", false],
    ["another domain (a related origin, issue 12)", "https://example.org", true],
    ["a look-alike suffix (another domain: a related origin)", "https://evilexample.com", true],
    ["a look-alike prefix (another domain: a related origin)", "https://example.com.evil.org", true],
    ["a path", "https://app.example.com/login", false],
    ["a trailing slash", "https://app.example.com/", false],
    ["a query", "https://app.example.com?x=1", false],
    ["credentials", "https://user:pw@app.example.com", false],
    ["another scheme", "ftp://example.com", false],
    ["no scheme", "app.example.com", false],
    ["an IP", "https://93.184.216.34", false],
  ];
  for (const [name, origin, ok] of originCases) {
    it(`relying_party_origins with ${name} (${origin}) → ${ok ? "accepted" : "422"}`, async () => {
      const res = await createPool({ passkey_settings: { relying_party_id: "example.com", relying_party_origins: [origin] } });
      if (ok) expect((await json<Pool>(res, 201)).passkey_settings.relying_party_origins).toEqual([origin]);
      else expect((await expectError(res, 422, "invalid_configuration")).details.field).toBe("passkey_settings.relying_party_origins");
    });
  }

  it("allows http only for localhost", async () => {
    const ok = await json<Pool>(
      await createPool({
        passkey_settings: { relying_party_id: "localhost", relying_party_origins: ["http://localhost:8787", "https://localhost"] },
      }),
      201,
    );
    expect(ok.passkey_settings.relying_party_origins).toEqual(["http://localhost:8787", "https://localhost"]);
    await expectError(
      await createPool({ passkey_settings: { relying_party_id: "localhost", relying_party_origins: ["http://127.0.0.1:8787"] } }),
      422,
      "invalid_configuration",
    );
  });

  it("requires a relying_party_id for origins, and checks origins again when only the RP ID changes", async () => {
    const noRp = await expectError(
      await createPool({ passkey_settings: { relying_party_origins: ["https://example.com"] } }),
      422,
      "invalid_configuration",
    );
    expect(noRp.details.field).toBe("passkey_settings.relying_party_origins");
    const pool = await json<Pool>(
      await createPool({ passkey_settings: { relying_party_id: "example.com", relying_party_origins: ["https://app.example.com"] } }),
      201,
    );
    await expectError(
      await sys("PUT", `/pools/${pool.id}`, { body: { passkey_settings: { relying_party_id: "localhost" } } }),
      422,
      "invalid_configuration",
    );
    expect((await json<Pool>(await sys("GET", `/pools/${pool.id}`))).passkey_settings.relying_party_id).toBe("example.com");
  });

  it("rejects a bad user_verification value with 400 naming the field", async () => {
    const body = await expectError(await createPool({ passkey_settings: { user_verification: "sometimes" } }), 400, "validation_failed");
    expect(JSON.stringify(body.details)).toContain("passkey_settings.user_verification");
  });
});

describe("pool validation: limits and mechanisms", () => {
  const limitCases: [string, Record<string, number>, string | null][] = [
    ["capacity 1", { webauthn_credentials_capacity: 1 }, null],
    ["capacity 100", { webauthn_credentials_capacity: 100 }, null],
    ["capacity 0", { webauthn_credentials_capacity: 0 }, "limits.webauthn_credentials_capacity"],
    ["capacity 101", { webauthn_credentials_capacity: 101 }, "limits.webauthn_credentials_capacity"],
    ["capacity above max_credentials", { max_credentials: 5, webauthn_credentials_capacity: 6 }, "limits.webauthn_credentials_capacity"],
    ["capacity equal to max_credentials", { max_credentials: 5, webauthn_credentials_capacity: 5 }, null],
    ["max_credentials 1000", { max_credentials: 1000 }, null],
    ["max_credentials 1001", { max_credentials: 1001 }, "limits.max_credentials"],
    ["max_credentials 0", { max_credentials: 0 }, "limits.max_credentials"],
    ["max_credentials below the default capacity", { max_credentials: 9 }, "limits.webauthn_credentials_capacity"],
  ];
  for (const [name, limits, field] of limitCases) {
    it(`${name} → ${field ? "422" : "accepted"}`, async () => {
      const res = await createPool({ limits });
      if (!field) expect((await json<Pool>(res, 201)).limits).toMatchObject(limits);
      else expect((await expectError(res, 422, "invalid_configuration")).details.field).toBe(field);
    });
  }

  it("checks capacity against max_credentials after merging an update", async () => {
    const pool = await json<Pool>(await createPool({ limits: { webauthn_credentials_capacity: 10 } }), 201);
    await expectError(await sys("PUT", `/pools/${pool.id}`, { body: { limits: { max_credentials: 8 } } }), 422, "invalid_configuration");
    expect((await json<Pool>(await sys("GET", `/pools/${pool.id}`))).limits.max_credentials).toBe(100);
  });

  it("rejects a non-integer limit with 400", async () => {
    await expectError(await createPool({ limits: { webauthn_credentials_capacity: 2.5 } }), 400, "validation_failed");
    await expectError(await createPool({ limits: { webauthn_credentials_capacity: "10" } }), 400, "validation_failed");
  });

  it("rejects a mechanism in both factor lists, counting both passkey values as one", async () => {
    const a = await expectError(
      await createPool({ authentication_mechanisms: ["webauthn", "password"], second_factor_authentication_mechanisms: ["password"] }),
      422,
      "invalid_configuration",
    );
    expect(a.details.field).toBe("second_factor_authentication_mechanisms");
    await expectError(
      await createPool({ authentication_mechanisms: ["webauthn"], second_factor_authentication_mechanisms: ["usernameless_webauthn"] }),
      422,
      "invalid_configuration",
    );
    await expectError(await createPool({ authentication_mechanisms: ["webauthn", "usernameless_webauthn"] }), 422, "invalid_configuration");
  });

  it("requires the preferred mechanisms to be listed, and at least one first factor", async () => {
    expect(
      (
        await expectError(
          await createPool({ authentication_mechanisms: ["password"], preferred_authentication_mechanism: "webauthn" }),
          422,
          "invalid_configuration",
        )
      ).details.field,
    ).toBe("preferred_authentication_mechanism");
    expect(
      (
        await expectError(
          await createPool({
            authentication_mechanisms: ["password"],
            second_factor_authentication_mechanisms: ["webauthn"],
            second_factor_preferred_authentication_mechanism: "email_otp",
          }),
          422,
          "invalid_configuration",
        )
      ).details.field,
    ).toBe("second_factor_preferred_authentication_mechanism");
    await expectError(await createPool({ authentication_mechanisms: [] }), 422, "invalid_configuration");
    await expectError(await createPool({ authentication_mechanisms: ["fingerprint"] }), 400, "validation_failed");
  });

  it("validates otp_settings.enroll_webauthn", async () => {
    expect(
      (await json<Pool>(await createPool({ otp_settings: { enroll_webauthn: { length: 6, ttl: "90s" } } }), 201)).otp_settings,
    ).toEqual({ enroll_webauthn: { length: 6, ttl: "90s" } });
    await expectError(await createPool({ otp_settings: { enroll_webauthn: { length: 3 } } }), 422, "invalid_configuration");
    await expectError(await createPool({ otp_settings: { enroll_webauthn: { ttl: "10 minutes" } } }), 422, "invalid_configuration");
    await expectError(await createPool({ otp_settings: { enroll_webauthn: { ttl: "30s" } } }), 422, "invalid_configuration");
  });

  it("requires a name on create", async () => {
    const body = await expectError(await sys("POST", "/pools", { body: {} }), 400, "validation_failed");
    expect(JSON.stringify(body.details)).toContain('"name"');
  });
});

describe("pool settings: self-service and authenticator policy", () => {
  const YUBIKEY = "cb69481e-8ff7-4039-93ec-0a2729a154a8";
  const OTHER = "ee882879-721c-4913-9775-3dfcce97072a";

  it("defaults: no sign-up, recovery on, no upgrade, any authenticator; the admins pool has recovery off", async () => {
    const created = await json<Pool>(await createPool({}), 201);
    expect(created.self_service).toEqual({ sign_up: false, recovery: true, passkey_upgrade: false });
    expect(created.passkey_settings).toMatchObject({
      authenticator_policy: { device_bound_only: false, aaguid_allow: [], aaguid_deny: [] },
    });
    const admins = await json<Pool>(await sys("GET", "/pools/admins"));
    expect(admins.self_service).toEqual({ sign_up: false, recovery: false, passkey_upgrade: false });
  });

  it("updates each field alone, keeping the others, and normalises AAGUIDs", async () => {
    const { id } = await json<Pool>(await createPool({ self_service: { sign_up: true } }), 201);
    const updated = await json<Pool>(
      await sys("PUT", `/pools/${id}`, {
        body: {
          self_service: { recovery: false },
          passkey_settings: {
            attestation: "direct",
            authenticator_policy: { device_bound_only: true, aaguid_allow: [YUBIKEY.toUpperCase(), ` ${YUBIKEY}`] },
          },
        },
      }),
    );
    expect(updated.self_service).toEqual({ sign_up: true, recovery: false, passkey_upgrade: false });
    expect(updated.passkey_settings).toMatchObject({
      attestation: "direct",
      authenticator_policy: { device_bound_only: true, aaguid_allow: [YUBIKEY], aaguid_deny: [] },
    });
    const again = await json<Pool>(await sys("PUT", `/pools/${id}`, { body: { self_service: { passkey_upgrade: true } } }));
    expect(again.self_service).toEqual({ sign_up: true, recovery: false, passkey_upgrade: true });
    expect(again.passkey_settings).toMatchObject({ authenticator_policy: { device_bound_only: true, aaguid_allow: [YUBIKEY] } });
  });

  it("refuses malformed AAGUIDs, both lists at once, and a list without direct attestation (422 naming the field)", async () => {
    const field = async (body: Record<string, unknown>) =>
      JSON.stringify((await expectError(await createPool(body), 422, "invalid_configuration")).details);
    const policy = (p: Record<string, unknown>, attestation = "direct") => ({ passkey_settings: { attestation, authenticator_policy: p } });
    expect(await field(policy({ aaguid_allow: ["not-a-uuid"] }))).toContain("passkey_settings.authenticator_policy.aaguid_allow");
    expect(await field(policy({ aaguid_deny: [`${YUBIKEY}0`] }))).toContain("passkey_settings.authenticator_policy.aaguid_deny");
    expect(await field(policy({ aaguid_allow: [YUBIKEY], aaguid_deny: [OTHER] }))).toContain('"passkey_settings.authenticator_policy"');
    expect(await field(policy({ aaguid_deny: [OTHER] }, "none"))).toContain("passkey_settings.attestation");
    // Attestation cannot drop back to none while a list stands.
    const { id } = await json<Pool>(await createPool(policy({ aaguid_deny: [OTHER] })), 201);
    await expectError(
      await sys("PUT", `/pools/${id}`, { body: { passkey_settings: { attestation: "none" } } }),
      422,
      "invalid_configuration",
    );
    await expectError(await createPool({ self_service: { sign_up: "yes" } }), 400, "validation_failed");
  });

  it("allows sign-up only where a passkey alone signs in: a passkey first factor and no second factor", async () => {
    const field = async (body: Record<string, unknown>) =>
      JSON.stringify((await expectError(await createPool(body), 422, "invalid_configuration")).details);
    expect(await field({ authentication_mechanisms: ["password"], self_service: { sign_up: true } })).toContain("self_service.sign_up");
    expect(await field({ second_factor_authentication_mechanisms: ["password"], self_service: { sign_up: true } })).toContain(
      "self_service.sign_up",
    );
    // Checked against the merged configuration: adding a second factor later to a sign-up pool is refused too.
    const { id } = await json<Pool>(await createPool({ self_service: { sign_up: true } }), 201);
    await expectError(
      await sys("PUT", `/pools/${id}`, { body: { second_factor_authentication_mechanisms: ["password"] } }),
      422,
      "invalid_configuration",
    );
    const off = await json<Pool>(
      await sys("PUT", `/pools/${id}`, {
        body: { self_service: { sign_up: false }, second_factor_authentication_mechanisms: ["password"] },
      }),
    );
    expect(off.self_service).toMatchObject({ sign_up: false });
  });
});
