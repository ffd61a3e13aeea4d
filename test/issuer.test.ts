/**
 * Issue 8, defect 7: the service's own origin (token issuer, default RP ID, default expected origin) must not follow
 * the request's Host header. With ISSUER_BASE_URL it comes from that URL; in production without it, nothing that
 * issues tokens or runs a ceremony works (503 not_configured); development keeps the request origin.
 */
import type { PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON } from "@simplewebauthn/server";
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import worker from "../src/index";
import { SoftAuthenticator } from "./authenticator";
import { basic, CLIENT, expectError, expectOAuthError, json, ORIGIN, requestToken, sys } from "./helpers/api";
import { newUser } from "./helpers/passkeys";

const ISSUER = "https://id.example.com";
const EVIL = "https://evil.example";
const grant = { grant_type: "client_credentials", scope: "identity" };

/** Calls the Worker with a modified environment (the suite itself runs as development). */
async function callWith(
  vars: Record<string, string | undefined>,
  method: string,
  url: string,
  opts: { body?: unknown; form?: Record<string, string>; token?: string } = {},
) {
  const headers: Record<string, string> = {};
  let body: string | undefined;
  if (opts.form) {
    headers["content-type"] = "application/x-www-form-urlencoded";
    headers.authorization = basic(CLIENT.id, CLIENT.secret);
    body = new URLSearchParams(opts.form).toString();
  } else if (opts.body !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(opts.body);
  }
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  const ctx = createExecutionContext();
  const res = await worker.fetch(new Request(url, { method, headers, body }), { ...env, ...vars }, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

const prod = { ENVIRONMENT: "production", ISSUER_BASE_URL: ISSUER };
const prodToken = async (host: string, vars: Record<string, string | undefined> = prod) =>
  (await json<{ access_token: string }>(await callWith(vars, "POST", `${host}/default/system/oauth2/token`, { form: grant }))).access_token;

describe("ISSUER_BASE_URL set: the Host header decides nothing", () => {
  it("system tokens requested through another host carry iss ISSUER_BASE_URL/{tid} and work through any host", async () => {
    const token = await prodToken(EVIL);
    expect(decodeJwt(token).iss).toBe(`${ISSUER}/default`);
    // Verification also uses the configured issuer, whatever host the request names.
    await json(await callWith(prod, "GET", "https://other.example/api/identity/default/system/pools", { token }));
  });

  it("a trailing slash on ISSUER_BASE_URL does not change the issuer", async () => {
    const token = await prodToken(EVIL, { ...prod, ISSUER_BASE_URL: `${ISSUER}/` });
    expect(decodeJwt(token).iss).toBe(`${ISSUER}/default`);
  });

  it("sign-in options for a pool with an empty RP ID name the configured host, not the Host header", async () => {
    const res = await callWith(prod, "POST", `${EVIL}/default/default/login/webauthn/options`, { body: {} });
    const { publicKey } = await json<{ publicKey: PublicKeyCredentialRequestOptionsJSON }>(res);
    expect(publicKey.rpId).toBe("id.example.com");
  });

  it("user tokens from a password sign-in carry iss ISSUER_BASE_URL/{tid}", async () => {
    const password = "correct horse battery staple";
    const user = await newUser("default", "default", { credentials: [{ type: "password", password }] });
    const res = await callWith(prod, "POST", `${EVIL}/default/default/login/password`, { body: { identifier: user.email, password } });
    const tokens = await json<{ access_token: string }>(res);
    expect(decodeJwt(tokens.access_token)).toMatchObject({ iss: `${ISSUER}/default`, sub: user.id });
  });

  it("enrollment: rp.id is the configured host; the expected origin is the configured origin, not the Host's", async () => {
    const token = await prodToken(EVIL);
    const user = await newUser();
    const path = `/api/identity/default/system/pools/default/users/${user.id}/usernameless-webauthn/create`;
    const begin = async () =>
      (await json<{ publicKey: PublicKeyCredentialCreationOptionsJSON }>(await callWith(prod, "POST", `${EVIL}${path}/begin`, { token })))
        .publicKey;

    const first = await begin();
    expect(first.rp.id).toBe("id.example.com");
    const fromHost = await new SoftAuthenticator().register(first, { origin: EVIL });
    await expectError(await callWith(prod, "POST", `${EVIL}${path}/complete`, { token, body: fromHost }), 400, "registration_failed");

    const second = await begin();
    const fromConfig = await new SoftAuthenticator().register(second, { origin: ISSUER });
    const done = await json<{ credentials: unknown[] }>(
      await callWith(prod, "POST", `${EVIL}${path}/complete`, { token, body: fromConfig }),
    );
    expect(done.credentials).toHaveLength(1);
  });
});

describe("production without ISSUER_BASE_URL: no tokens, no ceremonies", () => {
  const bare = { ENVIRONMENT: "production", ISSUER_BASE_URL: undefined };

  it("the token endpoint answers 503 not_configured with Retry-After", async () => {
    const res = await callWith(bare, "POST", `${EVIL}/default/system/oauth2/token`, { form: grant });
    const body = await expectOAuthError(res, 503, "not_configured");
    expect(body.error_description).toMatch(/ISSUER_BASE_URL/);
    expect(res.headers.get("retry-after")).toMatch(/^\d+$/);
  });

  it("sign-in options and password sign-in answer 503 not_configured", async () => {
    await expectError(await callWith(bare, "POST", `${EVIL}/default/default/login/webauthn/options`, { body: {} }), 503, "not_configured");
    const password = "correct horse battery staple";
    const user = await newUser("default", "default", { credentials: [{ type: "password", password }] });
    await expectError(
      await callWith(bare, "POST", `${EVIL}/default/default/login/password`, { body: { identifier: user.email, password } }),
      503,
      "not_configured",
    );
  });

  it("an empty ENVIRONMENT is production too", async () => {
    await expectOAuthError(
      await callWith({ ENVIRONMENT: undefined, ISSUER_BASE_URL: undefined }, "POST", `${EVIL}/default/system/oauth2/token`, {
        form: grant,
      }),
      503,
      "not_configured",
    );
  });
});

describe("ISSUER_BASE_URL shape", () => {
  it.each([
    ["not a URL", "id.example.com"],
    ["http outside localhost", "http://id.example.com"],
    ["http://localhost in production", "http://localhost:8787"],
    ["a query", "https://id.example.com/?x=1"],
    ["a fragment", "https://id.example.com/#x"],
    ["credentials", "https://user:pw@id.example.com"],
    ["an IP address", "https://192.0.2.1"],
    ["another scheme", "ftp://id.example.com"],
  ])("%s (%s) is 503 not_configured, not a 500", async (_label, value) => {
    const vars = { ENVIRONMENT: "production", ISSUER_BASE_URL: value };
    await expectOAuthError(await callWith(vars, "POST", `${EVIL}/default/system/oauth2/token`, { form: grant }), 503, "not_configured");
    await expectError(await callWith(vars, "POST", `${EVIL}/default/default/login/webauthn/options`, { body: {} }), 503, "not_configured");
  });

  it("http://localhost is accepted in development", async () => {
    const vars = { ENVIRONMENT: "development", ISSUER_BASE_URL: "http://localhost:9999" };
    const token = await prodToken(EVIL, vars);
    expect(decodeJwt(token).iss).toBe("http://localhost:9999/default");
    const { publicKey } = await json<{ publicKey: PublicKeyCredentialRequestOptionsJSON }>(
      await callWith(vars, "POST", `${EVIL}/default/default/login/webauthn/options`, { body: {} }),
    );
    expect(publicKey.rpId).toBe("localhost");
  });
});

describe("development without ISSUER_BASE_URL keeps the request origin", () => {
  it("tokens and options follow the request", async () => {
    const res = await requestToken("default", grant, { authorization: basic(CLIENT.id, CLIENT.secret) });
    expect(decodeJwt((await json<{ access_token: string }>(res)).access_token).iss).toBe(`${ORIGIN}/default`);
    const { publicKey } = await json<{ publicKey: PublicKeyCredentialRequestOptionsJSON }>(
      await callWith({ ISSUER_BASE_URL: undefined }, "POST", `${EVIL}/default/default/login/webauthn/options`, { body: {} }),
    );
    expect(publicKey.rpId).toBe("evil.example");
    await json(await sys("GET", "/pools"));
  });
});
