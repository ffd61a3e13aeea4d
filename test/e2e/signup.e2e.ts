/**
 * Passkey sign-up on the hosted pages in a real browser (chromium + CDP virtual authenticator) against `wrangler dev`
 * (issue 12, acceptance): a new person signs up with only an email address (the code read from the development outbox)
 * and a passkey, signs out, and signs back in with no username (Smart); a wrong code and a cancelled prompt; sign-up for
 * an app (OpenID Connect). Every page state visited is saved under test/e2e/screenshots/signup-*.png.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { credentialsOf, launch, pageWithAuthenticator, shot, sysApi, uniq } from "./browser";
import { BASE } from "./config";
import {
  autofillPendingUntilAborted,
  collectErrors,
  selfServiceWorkspace,
  sendCode as sendCodeTo,
  status,
  wrongCodeCancelThenCreate,
} from "./hosted";

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => browser?.close());

/** The sign-up page's address step; the code that was sent. */
const sendCode = (page: Page, address: string) => sendCodeTo(page, address, `We sent a code to ${address}`, "sign_up");

describe("hosted sign-up", () => {
  it("a new person signs up with an email and a passkey, signs out, and signs back in with no username (Smart)", async () => {
    const { wid } = await selfServiceWorkspace({ sign_up: true });
    const p = await pageWithAuthenticator(browser);
    const { page } = p;
    await autofillPendingUntilAborted(page);
    const errors = collectErrors(page);
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
    const { wid } = await selfServiceWorkspace({ sign_up: true });
    const p = await pageWithAuthenticator(browser);
    const { page } = p;
    const address = `${uniq("retry")}@example.com`;
    await page.goto(`${BASE}/default/${wid}/signup`);
    await page.getByLabel("Email address").fill("not an address");
    await page.getByRole("button", { name: "Send me a code" }).click();
    await expect.poll(() => status(page).textContent()).toContain("Enter your email address");
    expect(await page.getByLabel("Email address").getAttribute("aria-invalid")).toBe("true");
    const code = await sendCode(page, address);

    await wrongCodeCancelThenCreate(p, { wid, code, address, create: "Create your passkey", prefix: "signup" });
  });

  it("for an app: the authorization's sign-in page → sign-up → back to the app with a code", async () => {
    const { wid } = await selfServiceWorkspace({ sign_up: true });
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
    const { wid } = await selfServiceWorkspace({ sign_up: false });
    const { page } = await pageWithAuthenticator(browser);
    await page.goto(`${BASE}/default/${wid}/login`);
    expect(await page.getByRole("link", { name: "Create an account with a passkey" }).count()).toBe(0);
    const res = await page.goto(`${BASE}/default/${wid}/signup`);
    expect(res?.status()).toBe(404);
    await page.getByRole("heading", { name: "We can't find this page" }).waitFor();
    await shot(page, "signup-off");
  });
});
