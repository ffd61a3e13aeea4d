import { env } from "cloudflare:test";
import { decodeProtectedHeader, generateKeyPair, importJWK, jwtVerify, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { SELF } from "cloudflare:test";
import { createClient } from "../src/services/clients";
import { basic, CLIENT, expectError, expectOAuthError, json, ORIGIN, requestToken, sys, systemToken } from "./helpers/api";
import { testCall } from "./helpers/call";

const grant = { grant_type: "client_credentials", scope: "identity" };

describe("POST /{tid}/system/oauth2/token", () => {
  it("grants an ES256 token with client_secret_basic that verifies against the JWKS", async () => {
    const res = await requestToken("default", grant, { authorization: basic(CLIENT.id, CLIENT.secret) });
    expect(res.headers.get("cache-control")).toBe("no-store");
    const body = await json<{ access_token: string; token_type: string; expires_in: number; scope: string }>(res);
    expect(body).toMatchObject({ token_type: "Bearer", expires_in: 3600, scope: "identity" });
    expect(decodeProtectedHeader(body.access_token).alg).toBe("ES256");

    const jwks = await json<{ keys: { kid: string; kty: string; alg: string; d?: string }[] }>(
      await SELF.fetch(`${ORIGIN}/default/.well-known/jwks.json`),
    );
    // The tenant's two keys: ES256 (access tokens) and RS256 (ID tokens), public parts only.
    expect(jwks.keys.map((k) => [k.kty, k.alg]).sort()).toEqual([
      ["EC", "ES256"],
      ["RSA", "RS256"],
    ]);
    expect(jwks.keys.every((k) => k.d === undefined)).toBe(true);
    const header = decodeProtectedHeader(body.access_token);
    const jwk = jwks.keys.find((k) => k.kid === header.kid)!;
    const { payload } = await jwtVerify(body.access_token, await importJWK(jwk, "ES256"), { issuer: `${ORIGIN}/default` });
    expect(payload).toMatchObject({ sub: CLIENT.id, tid: "default", scope: "identity" });
    expect(payload.exp! - payload.iat!).toBe(3600);
    expect(typeof payload.jti).toBe("string");
  });

  it("grants with client_secret_post and without an explicit scope", async () => {
    const body = await json<{ scope: string }>(
      await requestToken("default", { grant_type: "client_credentials", client_id: CLIENT.id, client_secret: CLIENT.secret }),
    );
    expect(body.scope).toBe("identity");
  });

  it("keeps the private key encrypted at rest", async () => {
    await systemToken("default");
    const row = await env.DB.prepare("SELECT private_jwk_enc, public_jwk FROM signing_keys WHERE tenant_id = 'default'").first<{
      private_jwk_enc: string;
      public_jwk: string;
    }>();
    expect(row).not.toBeNull();
    expect(row!.private_jwk_enc).not.toContain('"d"');
    expect(JSON.parse(row!.public_jwk).d).toBeUndefined();
  });

  it("rejects a wrong secret, an unknown client and missing credentials with 401 invalid_client", async () => {
    const wrong = await requestToken("default", grant, { authorization: basic(CLIENT.id, "nope") });
    await expectOAuthError(wrong, 401, "invalid_client");
    expect(wrong.headers.get("www-authenticate")).toMatch(/^Basic/);
    await expectOAuthError(await requestToken("default", { ...grant, client_id: "ghost", client_secret: "x" }), 401, "invalid_client");
    await expectOAuthError(await requestToken("default", grant), 401, "invalid_client");
    await expectOAuthError(await requestToken("default", grant, { authorization: "Basic !!!" }), 401, "invalid_client");
  });

  it("rejects other grant types, unknown scopes, and two authentication methods at once", async () => {
    const auth = { authorization: basic(CLIENT.id, CLIENT.secret) };
    await expectOAuthError(await requestToken("default", { grant_type: "password" }, auth), 400, "unsupported_grant_type");
    await expectOAuthError(await requestToken("default", { ...grant, scope: "identity admin" }, auth), 400, "invalid_scope");
    await expectOAuthError(
      await requestToken("default", { ...grant, client_id: CLIENT.id, client_secret: CLIENT.secret }, auth),
      400,
      "invalid_request",
    );
  });

  it("answers 404 for an unknown tenant and 415 for a JSON body", async () => {
    await expectOAuthError(await requestToken("nosuchtenant", grant, { authorization: basic(CLIENT.id, CLIENT.secret) }), 404, "not_found");
    const res = await SELF.fetch(`${ORIGIN}/default/system/oauth2/token`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: basic(CLIENT.id, CLIENT.secret) },
      body: JSON.stringify(grant),
    });
    await expectOAuthError(res, 415, "unsupported_media_type");
  });

  it("authenticates stored system clients by their hashed secret", async () => {
    const { client, secret } = await createClient(testCall(), { scopes: ["identity"] });
    const row = await env.DB.prepare("SELECT client_id, secret_hash FROM system_clients WHERE client_id = ?").bind(client.clientId).first<{
      client_id: string;
      secret_hash: string;
    }>();
    expect(row!.secret_hash).not.toBe(secret);
    await json(await requestToken("default", grant, { authorization: basic(row!.client_id, secret) }));
    await expectOAuthError(
      await requestToken("default", grant, { authorization: basic(row!.client_id, `${secret}x`) }),
      401,
      "invalid_client",
    );
    // A stored client belongs to its tenant only.
    await expectOAuthError(await requestToken("other", grant, { authorization: basic(row!.client_id, secret) }), 401, "invalid_client");
  });
});

describe("bearer middleware on the system API", () => {
  it("401 with WWW-Authenticate: Bearer when the token is missing, malformed, forged or expired", async () => {
    const missing = await sys("GET", "/pools", { token: null });
    await expectError(missing, 401, "unauthorized");
    expect(missing.headers.get("www-authenticate")).toMatch(/^Bearer/);
    const bad = await sys("GET", "/pools", { token: "not.a.jwt" });
    await expectError(bad, 401, "invalid_token");
    expect(bad.headers.get("www-authenticate")).toMatch(/^Bearer .*error="invalid_token"/);

    const real = await systemToken("default");
    const { kid } = decodeProtectedHeader(real);
    const { privateKey } = await generateKeyPair("ES256");
    const forged = await new SignJWT({ tid: "default", scope: "identity", sub: "x" })
      .setProtectedHeader({ alg: "ES256", kid })
      .setIssuer(`${ORIGIN}/default`)
      .setIssuedAt()
      .setExpirationTime("1h")
      .sign(privateKey);
    await expectError(await sys("GET", "/pools", { token: forged }), 401, "invalid_token");

    const tampered = real.replace(/\.[^.]+\./, (p) => `${p.slice(0, -2) + (p.at(-2) === "A" ? "B" : "A")}.`);
    await expectError(await sys("GET", "/pools", { token: tampered }), 401, "invalid_token");
  });

  it("401 for an expired token or one of another issuer", async () => {
    const { signAccessToken } = await import("../src/crypto/jwt");
    const expired = await signAccessToken(
      { db: env.DB, secret: env.KEY_ENCRYPTION_SECRET },
      `${ORIGIN}/default`,
      { sub: "c", tid: "default", scope: "identity" },
      60,
      Date.now() - 3600_000,
    );
    await expectError(await sys("GET", "/pools", { token: expired }), 401, "invalid_token");
    const otherIssuer = await signAccessToken(
      { db: env.DB, secret: env.KEY_ENCRYPTION_SECRET },
      "https://evil.example/default",
      { sub: "c", tid: "default", scope: "identity" },
      600,
      Date.now(),
    );
    await expectError(await sys("GET", "/pools", { token: otherIssuer }), 401, "invalid_token");
  });

  it("403 insufficient_scope when the scope is wrong", async () => {
    const { signAccessToken } = await import("../src/crypto/jwt");
    const token = await signAccessToken(
      { db: env.DB, secret: env.KEY_ENCRYPTION_SECRET },
      `${ORIGIN}/default`,
      { sub: "u", tid: "default", scope: "view_ss_profile" },
      600,
      Date.now(),
    );
    const res = await sys("GET", "/pools", { token });
    await expectError(res, 403, "insufficient_scope");
    expect(res.headers.get("www-authenticate")).toMatch(/insufficient_scope/);
  });

  it("404 when a valid token of one tenant is used on another tenant's path", async () => {
    const token = await systemToken("other");
    await expectError(await sys("GET", "/pools", { tid: "default", token }), 404, "not_found");
    await expectError(await sys("GET", "/pools/default", { tid: "default", token }), 404, "not_found");
  });
});
