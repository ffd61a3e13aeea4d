import type { Browser } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { launch, pageWithAuthenticator, shot } from "./browser";
import { BASE } from "./config";

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => browser?.close());

it("serves the API reference in a real browser with a virtual authenticator attached", async () => {
  const { page } = await pageWithAuthenticator(browser);
  await page.goto(`${BASE}/docs`);
  expect(await page.locator("h1").textContent()).toContain("passkey-edge");
  expect(await page.evaluate(() => typeof window.PublicKeyCredential)).toBe("function");
  await shot(page, "docs");
});
