/**
 * OpenID Connect authorization through the hosted sign-in page (issue 10 part B) in chromium with the virtual
 * authenticator: an app's authorization request without a session goes to the sign-in page, the Smart passkey sign-in
 * sets the provider session and returns to the app with a code; a second authorization signs in silently (SSO);
 * an untrusted client shows the consent page; logout asks first, then ends the session. Screenshots:
 * test/e2e/screenshots/oidc-*.png.
 * Run alone with E2E_PORT=8800 when other browser runs use 8790.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { enrollPasskey, launch, pageWithAuthenticator, shot, sysApi, uniq } from "./browser";
import { BASE } from "./config";

// The app's callback: on this server (a 404 page), so the browser lands on a real address whose query we read.
const CALLBACK = `${BASE}/app/callback`;
const SIGNED_OUT = `${BASE}/app/signed-out`;

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => browser?.close());

async function smartWorkspaceWithUser() {
  const pool = (await sysApi<{ id: string }>("POST", "/pools", { name: uniq("pool"), authentication_mechanisms: ["webauthn"] })).id;
  const wid = (
    await sysApi<{ id: string }>("POST", "/workspaces", {
      name: uniq("Workspace"),
      authentication_mechanisms: ["usernameless_webauthn"],
      identity_pools: [pool],
    })
  ).id;
  const email = `${uniq("ada")}@example.com`;
  const user = await sysApi<{ id: string }>("POST", `/pools/${pool}/users`, {
    identifiers: [{ identifier: email, type: "email" }],
    verifiable_addresses: [{ address: email, type: "email", verified: true }],
  });
  return { pool, wid, email, userId: user.id };
}

async function newClient(wid: string, trusted: boolean): Promise<string> {
  const c = await sysApi<{ client_id: string }>("POST", `/workspaces/${wid}/clients`, {
    client_name: trusted ? "Trusted app" : "Untrusted app",
    redirect_uris: [CALLBACK],
    post_logout_redirect_uris: [SIGNED_OUT],
    token_endpoint_auth_method: "none",
    scopes: ["openid", "profile", "email"],
    trusted,
  });
  return c.client_id;
}

function authorizeUrl(wid: string, clientId: string, extra: Record<string, string> = {}) {
  const q = new URLSearchParams({
    client_id: clientId,
    redirect_uri: CALLBACK,
    response_type: "code",
    scope: "openid profile",
    state: "xyz",
    // S256 of the RFC 7636 appendix B verifier; the browser test does not redeem the code.
    code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
    code_challenge_method: "S256",
    ...extra,
  });
  return `${BASE}/default/${wid}/oauth2/authorize?${q}`;
}

function expectCodeAt(page: Page, wid: string) {
  const url = new URL(page.url());
  expect(url.origin + url.pathname).toBe(CALLBACK);
  expect(url.searchParams.get("code")).toMatch(/^[A-Za-z0-9_-]{43}$/);
  expect(url.searchParams.get("state")).toBe("xyz");
  expect(url.searchParams.get("iss")).toBe(`${BASE}/default/${wid}`);
}

describe("OIDC authorization through the hosted sign-in page", () => {
  it("signs in with a Smart passkey, returns a code, then SSO, consent for an untrusted client, logout", async () => {
    const { pool, wid, email, userId } = await smartWorkspaceWithUser();
    const trusted = await newClient(wid, true);
    const untrusted = await newClient(wid, false);
    const { page } = await pageWithAuthenticator(browser);
    await enrollPasskey(page, pool, wid, userId, email);

    // No provider session: the sign-in page, then back to the app with a code.
    await page.goto(authorizeUrl(wid, trusted));
    await page.waitForURL(/\/login\?authz=/);
    await shot(page, "oidc-signin");
    const back = page.waitForURL(`${CALLBACK}?**`, { timeout: 30_000 });
    await page
      .getByRole("button", { name: /sign in with a passkey/i })
      .click({ timeout: 10_000 })
      .catch(() => undefined); // the virtual authenticator may answer the autofill request first
    await back;
    expectCodeAt(page, wid);

    // SSO: the same client again, no prompt.
    await page.goto(authorizeUrl(wid, trusted, { prompt: "none" }));
    await page.waitForURL(`${CALLBACK}?**`);
    expectCodeAt(page, wid);

    // An untrusted client: the consent page; Allow returns a code; the next time no consent is asked.
    await page.goto(authorizeUrl(wid, untrusted));
    await page.waitForURL(/\/oauth2\/consent\?authz=/);
    await page.getByRole("heading", { name: "Allow Untrusted app?" }).waitFor();
    await shot(page, "oidc-consent");
    await page.getByRole("button", { name: "Allow", exact: true }).click();
    await page.waitForURL(`${CALLBACK}?**`);
    expectCodeAt(page, wid);
    await page.goto(authorizeUrl(wid, untrusted, { prompt: "none" }));
    await page.waitForURL(`${CALLBACK}?**`);
    expectCodeAt(page, wid);

    // Logout without id_token_hint: the provider asks first. "Stay signed in" returns to the registered address with
    // state and the session stays; "Sign out" ends it and returns there; afterwards prompt=none says login_required.
    const logout = `${BASE}/default/${wid}/oidc/logout?${new URLSearchParams({ client_id: trusted, post_logout_redirect_uri: SIGNED_OUT, state: "bye" })}`;
    await page.goto(logout);
    await page.getByRole("heading", { name: /^Sign out of Workspace/ }).waitFor();
    await page.getByText("Trusted app").first().waitFor();
    await shot(page, "oidc-logout-confirm");
    await page.getByRole("button", { name: "Stay signed in" }).click();
    await page.waitForURL(`${SIGNED_OUT}?state=bye`);
    await page.goto(authorizeUrl(wid, trusted, { prompt: "none" }));
    await page.waitForURL(`${CALLBACK}?**`);
    expectCodeAt(page, wid);
    await page.goto(logout);
    await page.getByRole("button", { name: "Sign out", exact: true }).click();
    await page.waitForURL(`${SIGNED_OUT}?state=bye`);
    await page.goto(authorizeUrl(wid, trusted, { prompt: "none" }));
    await page.waitForURL(`${CALLBACK}?**`);
    expect(new URL(page.url()).searchParams.get("error")).toBe("login_required");
    await page.context().close();
  });
});
