/**
 * The example app (examples/node-app, openid-client v6) signs a user in through the hosted sign-in page with a
 * Smart passkey, shows the ID token claims that openid-client verified, refreshes and logs out; then the same with
 * the public client (PKCE only), which is not trusted and so asks for consent. Both clients come from the dev seed
 * (scripts/seed.sql), registered for http://localhost:3000, so the app runs on port 3000 as in the README.
 */
import { type ChildProcess, spawn } from "node:child_process";
import type { Browser, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { enrollPasskey, launch, pageWithAuthenticator, shot, sysApi, uniq } from "./browser";
import { BASE } from "./config";

const APP = "http://localhost:3000";

let browser: Browser;
let app: ChildProcess | undefined;
beforeAll(async () => {
  browser = await launch();
});
afterEach(() => {
  app?.kill();
  app = undefined;
});
afterAll(async () => browser?.close());

/** Starts the example app for one client of the seed and waits until it answers. */
async function startApp(clientId: string) {
  app = spawn(process.execPath, ["examples/node-app/server.mjs"], {
    env: { ...process.env, ISSUER: `${BASE}/default/default`, CLIENT_ID: clientId, PORT: "3000" },
    stdio: "ignore",
  });
  for (let i = 0; i < 100; i++) {
    if (
      await fetch(APP).then(
        (r) => r.ok,
        () => false,
      )
    )
      return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("the example app did not start");
}

/** A user of the seeded default pool with a passkey in this page's virtual authenticator. */
async function userWithPasskey(page: Page) {
  const email = `${uniq("app-user")}@example.com`;
  const user = await sysApi<{ id: string }>("POST", "/pools/default/users", {
    identifiers: [{ identifier: email, type: "email" }],
    verifiable_addresses: [{ address: email, type: "email", verified: true }],
  });
  await enrollPasskey(page, "default", "default", user.id, email);
  return user.id;
}

const claimsOf = async (page: Page) => JSON.parse((await page.locator("#claims").textContent()) ?? "{}") as Record<string, unknown>;

/** From the app's home page through the hosted sign-in page (Smart passkey) back to the app. */
async function signIn(page: Page) {
  await page.goto(APP);
  await page.locator("#signin").click();
  await page.waitForURL(/\/default\/default\/login\?authz=/);
  const back = page.waitForURL(`${APP}/**`, { timeout: 30_000 });
  await page
    .getByRole("button", { name: /sign in with a passkey/i })
    .click({ timeout: 10_000 })
    .catch(() => undefined); // the virtual authenticator may answer the username field's autofill request first
  await back;
}

describe("the example app (openid-client) through the hosted sign-in page", () => {
  it("confidential client: signs in with a passkey, shows verified claims, refreshes, logs out", async () => {
    await startApp("example-app");
    const { page } = await pageWithAuthenticator(browser);
    const userId = await userWithPasskey(page);

    await signIn(page);
    await page.locator("#claims").waitFor();
    await shot(page, "example-app-signed-in");
    const claims = await claimsOf(page);
    expect(claims).toMatchObject({ iss: `${BASE}/default/default`, sub: userId, aud: "example-app", acr: expect.any(String) });
    expect(claims.amr).toContain("pop");
    expect(typeof claims.nonce).toBe("string");

    await page.locator("#refresh").click();
    await page.locator("#claims").waitFor();
    expect((await claimsOf(page)).sub).toBe(userId);

    // The app logs out with id_token_hint: the provider ends its session without asking and returns to the app.
    await page.locator("#signout").click();
    await page.waitForURL(`${APP}/**`);
    await page.getByText("You are not signed in.").waitFor();
    // The provider session is over: signing in again needs the sign-in page (no silent SSO back to the app).
    await page.locator("#signin").click();
    await page.waitForURL(/\/default\/default\/login\?authz=/);
    await page.context().close();
  });

  it("public client (PKCE only, not trusted): the consent page, then verified claims", async () => {
    await startApp("example-spa");
    const { page } = await pageWithAuthenticator(browser);
    const userId = await userWithPasskey(page);

    await page.goto(APP);
    await page.locator("#signin").click();
    await page.waitForURL(/\/default\/default\/login\?authz=/);
    const consent = page.waitForURL(/\/oauth2\/consent\?authz=/, { timeout: 30_000 });
    await page
      .getByRole("button", { name: /sign in with a passkey/i })
      .click({ timeout: 10_000 })
      .catch(() => undefined);
    await consent;
    await shot(page, "example-app-consent");
    await page.getByRole("button", { name: "Allow", exact: true }).click();
    await page.locator("#claims").waitFor();
    expect(await claimsOf(page)).toMatchObject({ sub: userId, aud: "example-spa" });
    await page.context().close();
  });
});
