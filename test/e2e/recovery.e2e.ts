/**
 * Recovery, "Lost your passkey?", on the hosted pages in a real browser (chromium + CDP virtual authenticator) against
 * `wrangler dev` (issue 12, acceptance): a user whose passkeys were all deleted by an administrator follows the sign-in
 * page's link, gets a code (development outbox), creates a new passkey on a new device, lands signed in, signs out and
 * signs in with the new passkey; with recovery off for the pool, the sign-in page has no link and /recover is 404.
 * Every page state visited is saved under test/e2e/screenshots/recovery-*.png.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { credentialsOf, enrollPasskey, launch, pageWithAuthenticator, shot, sysApi, uniq } from "./browser";
import { BASE } from "./config";
import {
  autofillPendingUntilAborted,
  collectErrors,
  messageFor,
  selfServiceWorkspace,
  sendCode,
  status,
  wrongCodeCancelThenCreate,
} from "./hosted";

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => browser?.close());

async function newUser(pool: string) {
  const email = `${uniq("lost")}@example.com`;
  const { id } = await sysApi<{ id: string }>("POST", `/pools/${pool}/users`, {
    identifiers: [{ identifier: email, type: "email" }],
    verifiable_addresses: [{ address: email, type: "email", verified: true }],
  });
  return { id, email };
}

/** An administrator deletes every passkey of the user (system API). */
async function deleteAllPasskeys(pool: string, userId: string) {
  const { credentials } = await sysApi<{ credentials: { id: string; type: string }[] }>("GET", `/pools/${pool}/users/${userId}`);
  for (const c of credentials.filter((x) => x.type === "webauthn"))
    await sysApi("DELETE", `/pools/${pool}/users/${userId}/webauthn/${c.id}`);
  const after = await sysApi<{ credentials: { type: string }[] }>("GET", `/pools/${pool}/users/${userId}`);
  expect(after.credentials.filter((x) => x.type === "webauthn")).toEqual([]);
}

/** The recovery page's address step (the same message for every address); the code that was sent. */
const askForCode = (page: Page, address: string) =>
  sendCode(page, address, "If this address belongs to an account, we sent it a code", "recover_webauthn");

describe("recovery: Lost your passkey?", () => {
  it("a user with no passkey left recovers through a code, lands signed in, signs out and signs in with the new passkey", async () => {
    const { pool, wid } = await selfServiceWorkspace({ recovery: true });
    const user = await newUser(pool);
    // The old device: a passkey through the enrollment link, then deleted by an administrator.
    const old = await pageWithAuthenticator(browser);
    await enrollPasskey(old.page, pool, wid, user.id, user.email);
    await old.page.context().close();
    await deleteAllPasskeys(pool, user.id);

    // A new device.
    const p = await pageWithAuthenticator(browser);
    const { page } = p;
    await autofillPendingUntilAborted(page);
    const errors = collectErrors(page);
    await page.goto(`${BASE}/default/${wid}/login`);
    await shot(page, "recovery-signin-link");
    await page.getByRole("link", { name: "Lost your passkey?" }).click();
    await page.waitForURL(`${BASE}/default/${wid}/recover`);
    await page.getByRole("heading", { name: "Lost your passkey?" }).waitFor();
    await shot(page, "recovery-address");

    const code = await askForCode(page, user.email);
    await shot(page, "recovery-code");
    await page.getByLabel("One-time code").fill(code);
    await page.getByRole("button", { name: "Create a new passkey" }).click();
    await page.waitForURL(`${BASE}/default/${wid}/account`);
    await expect.poll(() => page.locator("#user-identifier").textContent()).toBe(user.email);
    await expect.poll(() => page.locator("#passkey-rows tr").count()).toBe(1);
    const [credential] = await credentialsOf(p);
    expect(credential?.isResidentCredential).toBe(true);
    await shot(page, "recovery-signed-in");
    const notice = await messageFor(user.email, "passkey_recovered");
    expect(notice.code).toBe("");

    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(/\/login\?signed_out=1$/);
    await page.getByRole("button", { name: "Sign in with a passkey" }).click();
    await page.waitForURL(`${BASE}/default/${wid}/account`);
    await expect.poll(() => page.locator("#user-identifier").textContent()).toBe(user.email);
    await shot(page, "recovery-signed-back-in");
    expect(errors).toEqual([]);
  });

  it("an unknown address gets the same message; a wrong code and a cancelled prompt say so, and the code still works", async () => {
    const { pool, wid } = await selfServiceWorkspace({ recovery: true });
    const user = await newUser(pool);
    const p = await pageWithAuthenticator(browser);
    const { page } = p;
    await page.goto(`${BASE}/default/${wid}/recover`);
    await page.getByLabel("Email address").fill("not an address");
    await page.getByRole("button", { name: "Send me a code" }).click();
    await expect.poll(() => status(page).textContent()).toContain("Enter the email address of your account");
    expect(await page.getByLabel("Email address").getAttribute("aria-invalid")).toBe("true");

    await page.getByLabel("Email address").fill(`${uniq("nobody")}@example.com`);
    await page.getByRole("button", { name: "Send me a code" }).click();
    await expect.poll(() => status(page).textContent()).toContain("If this address belongs to an account, we sent it a code");
    await shot(page, "recovery-unknown-address");
    await page.getByRole("button", { name: "Use another address or get a new code" }).click();
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe("address");

    const code = await askForCode(page, user.email);
    await wrongCodeCancelThenCreate(p, { wid, code, address: user.email, create: "Create a new passkey", prefix: "recovery" });
  });

  it("with recovery off for the pool, the sign-in page does not offer it and /recover is 404", async () => {
    const { wid } = await selfServiceWorkspace({ recovery: false });
    const { page } = await pageWithAuthenticator(browser);
    await autofillPendingUntilAborted(page);
    await page.goto(`${BASE}/default/${wid}/login`);
    await page.getByRole("button", { name: "Sign in with a passkey" }).waitFor();
    expect(await page.getByRole("link", { name: "Lost your passkey?" }).count()).toBe(0);
    await shot(page, "recovery-off-signin");
    const res = await page.goto(`${BASE}/default/${wid}/recover`);
    expect(res?.status()).toBe(404);
    await page.getByRole("heading", { name: "We can't find this page" }).waitFor();
    await shot(page, "recovery-off-404");
  });
});
