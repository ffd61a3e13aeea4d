/**
 * OpenID Connect authorization through the hosted sign-in page in Classic mode (issue 10), in chromium with the virtual
 * authenticator; the relying party is openid-client (discovery, PKCE, state, nonce, iss, and the ID token's signature
 * against the JWKS). A Classic workspace: login_hint prefills the identifier, the passkey signs in, the code is redeemed
 * and the ID token's claims checked; the same with a password first factor and the passkey as second factor; with a
 * provider session, prompt=login and max_age=0 show the sign-in page again and the new ID token's auth_time is not
 * older than the first's. Screenshots: test/e2e/screenshots/oidc-classic-*.png.
 */
import * as oidc from "openid-client";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AuthPage, credentialsOf, enrollPasskey, launch, pageWithAuthenticator, shot, sysApi, uniq } from "./browser";
import { BASE } from "./config";

// The app's callback: on this server (a 404 page), so the browser lands on a real address whose query openid-client reads.
const CALLBACK = `${BASE}/app/callback`;

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => browser?.close());

/** A Classic workspace over a fresh pool (pool settings in `pool`), one user with an email identifier, and a trusted confidential client. */
async function classicWorld(pool: Record<string, unknown>, workspaceMechanisms: string[], password?: string) {
  const poolId = (await sysApi<{ id: string }>("POST", "/pools", { name: uniq("pool"), ...pool })).id;
  const wid = (
    await sysApi<{ id: string }>("POST", "/workspaces", {
      name: uniq("Classic"),
      authentication_mechanisms: workspaceMechanisms,
      identity_pools: [poolId],
    })
  ).id;
  const email = `${uniq("grace")}@example.com`;
  const user = await sysApi<{ id: string }>("POST", `/pools/${poolId}/users`, {
    identifiers: [{ identifier: email, type: "email" }],
    verifiable_addresses: [{ address: email, type: "email", verified: true }],
    ...(password ? { credentials: [{ type: "password", password }] } : {}),
  });
  const client = await sysApi<{ client_id: string; client_secret: string }>("POST", `/workspaces/${wid}/clients`, {
    client_name: "Classic app",
    redirect_uris: [CALLBACK],
    scopes: ["openid", "profile", "email"],
    trusted: true,
  });
  expect(client.client_secret).toBeTruthy(); // client_secret_basic by default
  const issuer = `${BASE}/default/${wid}`;
  const config = await oidc.discovery(new URL(issuer), client.client_id, undefined, oidc.ClientSecretBasic(client.client_secret), {
    execute: [oidc.allowInsecureRequests],
  });
  oidc.enableNonRepudiationChecks(config); // the ID token's signature is checked against the JWKS too
  return { poolId, wid, email, userId: user.id, clientId: client.client_id, issuer, config };
}

type World = Awaited<ReturnType<typeof classicWorld>>;

/** One authorization request of the app (PKCE, state, nonce), opened in the page; returns what the callback is checked against. */
async function authorize(page: Page, w: World, extra: Record<string, string> = {}) {
  const checks = { pkceCodeVerifier: oidc.randomPKCECodeVerifier(), expectedState: oidc.randomState(), expectedNonce: oidc.randomNonce() };
  const url = oidc.buildAuthorizationUrl(w.config, {
    redirect_uri: CALLBACK,
    scope: "openid profile email",
    state: checks.expectedState,
    nonce: checks.expectedNonce,
    code_challenge: await oidc.calculatePKCECodeChallenge(checks.pkceCodeVerifier),
    code_challenge_method: "S256",
    ...extra,
  });
  await page.goto(url.href, { waitUntil: "commit" }); // it redirects at once (openRedirecting's reason)
  return checks;
}

/** At the app's callback: code, state and iss on the address, then the code redeemed by openid-client. */
async function redeem(page: Page, w: World, checks: Awaited<ReturnType<typeof authorize>>) {
  await page.waitForURL(`${CALLBACK}?**`, { timeout: 30_000 });
  const url = new URL(page.url());
  expect(url.searchParams.get("code")).toMatch(/^[A-Za-z0-9_-]{43}$/);
  expect(url.searchParams.get("state")).toBe(checks.expectedState);
  expect(url.searchParams.get("iss")).toBe(w.issuer);
  const tokens = await oidc.authorizationCodeGrant(w.config, url, { ...checks, idTokenExpected: true });
  const claims = tokens.claims();
  if (!claims) throw new Error("no ID token");
  expect(claims).toMatchObject({ iss: w.issuer, sub: w.userId, aud: w.clientId, nonce: checks.expectedNonce });
  expect(typeof claims.auth_time).toBe("number");
  return claims;
}

/** The hosted sign-in page in Classic mode for this request: heading, the identifier field (its value), no Smart button. */
async function expectClassicSignin(page: Page, wid: string) {
  // Wait for either page, so that a code issued at once fails here with the address in the message.
  await page.waitForURL((u) => u.pathname === `/default/${wid}/login` || u.href.startsWith(CALLBACK));
  expect(page.url()).toMatch(new RegExp(`^${BASE}/default/${wid}/login\\?authz=`));
  await page.getByRole("heading", { name: "Sign in", level: 1 }).waitFor();
  expect(await page.getByRole("button", { name: /sign in with a passkey/i }).count()).toBe(0);
  return page.getByLabel("Email or username").inputValue();
}

/** Classic: the identifier is on the page (prefilled or typed), then "Continue with a passkey". */
async function continueWithPasskey(page: Page) {
  await page.getByRole("button", { name: "Continue with a passkey" }).click();
}

const signCount = async (p: AuthPage) => (await credentialsOf(p))[0]?.signCount ?? -1;

describe("OIDC authorization in Classic mode", () => {
  it("login_hint prefills the identifier; the passkey signs in; the ID token says pop, hwk, user and phrh", async () => {
    const w = await classicWorld({ authentication_mechanisms: ["webauthn"] }, ["webauthn"]);
    const p = await pageWithAuthenticator(browser);
    const { page } = p;
    await enrollPasskey(page, w.poolId, w.wid, w.userId, w.email);
    expect(await credentialsOf(p)).toHaveLength(1);

    const checks = await authorize(page, w, { login_hint: w.email });
    expect(await expectClassicSignin(page, w.wid)).toBe(w.email);
    await shot(page, "oidc-classic-signin");
    await continueWithPasskey(page);
    const claims = await redeem(page, w, checks);
    // The virtual authenticator's passkey is device-bound (backup eligibility 0) and verifies the user.
    expect(claims.amr).toEqual(["pop", "hwk", "user"]);
    expect(claims.acr).toBe("phrh");
    await page.context().close();
  });

  it("password first factor, then the passkey as second factor: amr pwd, pop, hwk, user, mfa", async () => {
    const password = "correct horse battery staple";
    const w = await classicWorld(
      { authentication_mechanisms: ["password"], second_factor_authentication_mechanisms: ["webauthn"] },
      ["webauthn", "password"],
      password,
    );
    const p = await pageWithAuthenticator(browser);
    const { page } = p;
    await enrollPasskey(page, w.poolId, w.wid, w.userId, w.email);

    const checks = await authorize(page, w, { login_hint: w.email });
    expect(await expectClassicSignin(page, w.wid)).toBe(w.email);
    await page.getByLabel("Password").fill(password);
    await page.getByRole("button", { name: "Sign in with password" }).click();
    await page.getByRole("heading", { name: "Confirm it's you" }).waitFor();
    await shot(page, "oidc-classic-second-factor");
    await continueWithPasskey(page);
    const claims = await redeem(page, w, checks);
    expect(claims.amr).toEqual(["pwd", "pop", "hwk", "user", "mfa"]);
    expect(claims.acr).toBe("phrh");
    await page.context().close();
  });

  it("with a provider session, prompt=login and max_age=0 ask again; auth_time does not go back", async () => {
    const w = await classicWorld({ authentication_mechanisms: ["webauthn"] }, ["webauthn"]);
    const p = await pageWithAuthenticator(browser);
    const { page } = p;
    await enrollPasskey(page, w.poolId, w.wid, w.userId, w.email);

    // The first sign-in (the identifier typed: no login_hint) sets the provider session.
    let checks = await authorize(page, w);
    expect(await expectClassicSignin(page, w.wid)).toBe("");
    await page.getByLabel("Email or username").fill(w.email);
    await continueWithPasskey(page);
    const first = await redeem(page, w, checks);
    const countAfterFirst = await signCount(p);

    // The session is usable: a plain request returns a code at once, with the same sign-in's auth_time.
    checks = await authorize(page, w);
    expect((await redeem(page, w, checks)).auth_time).toBe(first.auth_time);
    expect(await signCount(p)).toBe(countAfterFirst);

    // prompt=login: the sign-in page again, not a code; signing in again returns one.
    checks = await authorize(page, w, { prompt: "login", login_hint: w.email });
    expect(await expectClassicSignin(page, w.wid)).toBe(w.email);
    await shot(page, "oidc-classic-prompt-login");
    await continueWithPasskey(page);
    const second = await redeem(page, w, checks);
    expect(await signCount(p)).toBeGreaterThan(countAfterFirst); // the passkey was used again
    expect(second.auth_time).toBeGreaterThanOrEqual(first.auth_time!);
    expect(second.amr).toEqual(["pop", "hwk", "user"]);

    // max_age=0: the same.
    const countAfterSecond = await signCount(p);
    checks = await authorize(page, w, { max_age: "0", login_hint: w.email });
    expect(await expectClassicSignin(page, w.wid)).toBe(w.email);
    await continueWithPasskey(page);
    const third = await redeem(page, w, checks);
    expect(await signCount(p)).toBeGreaterThan(countAfterSecond);
    expect(third.auth_time).toBeGreaterThanOrEqual(second.auth_time!);
    await page.context().close();
  });
});
