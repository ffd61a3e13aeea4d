/**
 * Passkey sign-up on the hosted pages in a real browser (chromium + CDP virtual authenticator) against `wrangler dev`
 * (issue 12, acceptance): a new person signs up with only an email address (the code read from the development outbox)
 * and a passkey, signs out, and signs back in with no username (Smart); a wrong code and a cancelled prompt; sign-up for
 * an app (OpenID Connect). Every page state visited is saved under test/e2e/screenshots/signup-*.png.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AuthPage, credentialsOf, launch, pageWithAuthenticator, refusePrompts, shot, sysApi, uniq } from "./browser";
import { BASE } from "./config";

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => browser?.close());

/** A pool that takes sign-ups and a Smart workspace over it. */
async function signupWorkspace() {
  const pool = (await sysApi<{ id: string }>("POST", "/pools", { name: uniq("pool"), self_service: { sign_up: true } })).id;
  const wid = (
    await sysApi<{ id: string }>("POST", "/workspaces", {
      name: uniq("Shop"),
      authentication_mechanisms: ["usernameless_webauthn"],
      identity_pools: [pool],
    })
  ).id;
  return { pool, wid };
}

/** The newest sign-up code sent to the address (development outbox, system API). */
async function codeFor(address: string): Promise<string> {
  let code: string | undefined;
  await expect
    .poll(async () => {
      const { messages } = await sysApi<{ messages: { to: string; purpose: string; code: string }[] }>("GET", "/outbox");
      code = messages.find((m) => m.to === address && m.purpose === "sign_up")?.code;
      return code;
    })
    .toBeTruthy();
  return code!;
}

/**
 * Conditional mediation as a real browser runs it while nobody touches the username field: pending until aborted
 * (chromium's virtual authenticator would answer it at once, signing in before the button is clicked).
 */
async function autofillPendingUntilAborted(page: Page) {
  await page.addInitScript(() => {
    const get = navigator.credentials.get.bind(navigator.credentials);
    navigator.credentials.get = (options?: CredentialRequestOptions) => {
      if (options?.mediation !== "conditional") return get(options);
      return new Promise((_, reject) => options.signal?.addEventListener("abort", () => reject(options.signal!.reason)));
    };
  });
}

const status = (page: Page) => page.locator("#status");

/** The sign-up page's first two steps: the address, then the code field. Returns the code that was sent. */
async function sendCode(page: Page, address: string): Promise<string> {
  await page.getByLabel("Email address").fill(address);
  await page.getByRole("button", { name: "Send me a code" }).click();
  await expect.poll(() => status(page).textContent(), { timeout: 10_000 }).toContain(`We sent a code to ${address}`);
  await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe("code");
  return codeFor(address);
}

async function restorePrompts(p: AuthPage) {
  await p.cdp.send("WebAuthn.setUserVerified", { authenticatorId: p.authenticatorId, isUserVerified: true });
  await p.cdp.send("WebAuthn.setAutomaticPresenceSimulation", { authenticatorId: p.authenticatorId, enabled: true });
}

describe("hosted sign-up", () => {
  it("a new person signs up with an email and a passkey, signs out, and signs back in with no username (Smart)", async () => {
    const { wid } = await signupWorkspace();
    const p = await pageWithAuthenticator(browser);
    const { page } = p;
    await autofillPendingUntilAborted(page);
    // No script error and no failed request of ours (the browser's own /favicon.ico request is a 404: there is none).
    const errors: string[] = [];
    page.on("console", (m) => m.type() === "error" && !m.text().startsWith("Failed to load resource") && errors.push(m.text()));
    page.on("pageerror", (e) => errors.push(e.message));
    page.on("response", (r) => r.status() >= 400 && !r.url().endsWith("/favicon.ico") && errors.push(`${r.status()} ${r.url()}`));
    const address = `${uniq("new")}@example.com`;

    await page.goto(`${BASE}/default/${wid}/login`);
    await shot(page, "signup-signin-link");
    await page.getByRole("link", { name: "Create an account with a passkey" }).click();
    await page.waitForURL(`${BASE}/default/${wid}/signup`);
    await page.getByRole("heading", { name: "Create your account" }).waitFor();
    await shot(page, "signup-address");

    const code = await sendCode(page, address);
    await shot(page, "signup-code");
    await page.getByLabel("One-time code").fill(code);
    await page.getByRole("button", { name: "Create your passkey" }).click();
    await page.waitForURL(`${BASE}/default/${wid}/account`);
    await expect.poll(() => page.locator("#user-identifier").textContent()).toBe(address);
    await expect.poll(() => page.locator("#passkey-rows tr").count()).toBe(1);
    const [credential] = await credentialsOf(p);
    expect(credential?.isResidentCredential).toBe(true);
    await shot(page, "signup-signed-in");

    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(/\/login\?signed_out=1$/);
    await shot(page, "signup-signed-out");
    await page.getByRole("button", { name: "Sign in with a passkey" }).click();
    await page.waitForURL(`${BASE}/default/${wid}/account`);
    await expect.poll(() => page.locator("#user-identifier").textContent()).toBe(address);
    await shot(page, "signup-signed-back-in");
    expect(errors).toEqual([]);
  });

  it("a wrong code and a cancelled prompt say so; the code still works afterwards", async () => {
    const { wid } = await signupWorkspace();
    const p = await pageWithAuthenticator(browser);
    const { page } = p;
    const address = `${uniq("retry")}@example.com`;
    await page.goto(`${BASE}/default/${wid}/signup`);
    await page.getByLabel("Email address").fill("not an address");
    await page.getByRole("button", { name: "Send me a code" }).click();
    await expect.poll(() => status(page).textContent()).toContain("Enter your email address");
    expect(await page.getByLabel("Email address").getAttribute("aria-invalid")).toBe("true");
    const code = await sendCode(page, address);

    const wrong = code === "00000000" ? "11111111" : "00000000";
    await page.getByLabel("One-time code").fill(wrong);
    await page.getByRole("button", { name: "Create your passkey" }).click();
    await expect.poll(() => status(page).textContent()).toContain("This code doesn't work");
    expect(await status(page).getAttribute("role")).toBe("alert");
    expect(await page.getByLabel("One-time code").getAttribute("aria-invalid")).toBe("true");
    await shot(page, "signup-wrong-code");

    await refusePrompts(p);
    // With presence simulation off, Chromium leaves the request pending until its timeout; with it back on, the refused
    // user verification fails at once, as a cancelled prompt does.
    await p.cdp.send("WebAuthn.setAutomaticPresenceSimulation", { authenticatorId: p.authenticatorId, enabled: true });
    await page.getByLabel("One-time code").fill(code);
    await page.getByRole("button", { name: "Create your passkey" }).click();
    await expect.poll(() => status(page).textContent()).toContain("cancelled or timed out");
    expect(await credentialsOf(p)).toHaveLength(0);
    await shot(page, "signup-cancelled");

    await restorePrompts(p);
    await page.getByRole("button", { name: "Create your passkey" }).click();
    await page.waitForURL(`${BASE}/default/${wid}/account`);
    await expect.poll(() => page.locator("#user-identifier").textContent()).toBe(address);
  });

  it("for an app: the authorization's sign-in page → sign-up → back to the app with a code", async () => {
    const { wid } = await signupWorkspace();
    const callback = `${BASE}/app/callback`;
    const client = await sysApi<{ client_id: string }>("POST", `/workspaces/${wid}/clients`, {
      client_name: "Shop app",
      redirect_uris: [callback],
      token_endpoint_auth_method: "none",
      scopes: ["openid", "email"],
      trusted: true,
    });
    const { page } = await pageWithAuthenticator(browser);
    await autofillPendingUntilAborted(page);
    const q = new URLSearchParams({
      client_id: client.client_id,
      redirect_uri: callback,
      response_type: "code",
      scope: "openid email",
      state: "xyz",
      code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
      code_challenge_method: "S256",
    });
    await page.goto(`${BASE}/default/${wid}/oauth2/authorize?${q}`);
    await page.waitForURL(/\/login\?authz=/);
    await page.getByRole("link", { name: "Create an account with a passkey" }).click();
    await page.waitForURL(/\/signup\?authz=/);
    const code = await sendCode(page, `${uniq("app")}@example.com`);
    await page.getByLabel("One-time code").fill(code);
    await page.getByRole("button", { name: "Create your passkey" }).click();
    await page.waitForURL(`${callback}?**`);
    const url = new URL(page.url());
    expect(url.searchParams.get("code")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(url.searchParams.get("state")).toBe("xyz");
  });

  it("a workspace without sign-up shows the 404 page and no link", async () => {
    const pool = (await sysApi<{ id: string }>("POST", "/pools", { name: uniq("pool") })).id;
    const wid = (
      await sysApi<{ id: string }>("POST", "/workspaces", {
        name: uniq("Closed"),
        authentication_mechanisms: ["usernameless_webauthn"],
        identity_pools: [pool],
      })
    ).id;
    const { page } = await pageWithAuthenticator(browser);
    await page.goto(`${BASE}/default/${wid}/login`);
    expect(await page.getByRole("link", { name: "Create an account with a passkey" }).count()).toBe(0);
    const res = await page.goto(`${BASE}/default/${wid}/signup`);
    expect(res?.status()).toBe(404);
    await page.getByRole("heading", { name: "We can't find this page" }).waitFor();
    await shot(page, "signup-off");
  });
});
