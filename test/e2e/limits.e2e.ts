/**
 * Admin console, Users > pool > Pool Limits: the abuse limits are shown and edited in a real browser; a value out of
 * range shows the API's 422 next to its field, a valid one is checked through the system API.
 * Screenshots: test/e2e/screenshots/limits-*.png.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launch, shot, signedInAdmin, sysApi, uniq, type AuthPage } from "./browser";
import { BASE } from "./config";

type Limits = {
  max_credentials: number;
  webauthn_credentials_capacity: number;
  password_failures: number;
  otp_requests_per_hour: number;
  otp_failures_per_day: number;
};

let browser: Browser;
let admin: AuthPage;
let pool = "";
const status = (page: Page) => page.locator("#status");

beforeAll(async () => {
  browser = await launch();
  // An administrator of its own: user in pool admins, a passkey through the enrollment link, sign-in to the console.
  admin = await signedInAdmin(browser, "limits-admin");

  pool = (await sysApi<{ id: string }>("POST", "/pools", { id: uniq("limits").replace(/[^A-Za-z0-9_-]/g, "-"), name: "Limits pool" })).id;
});
afterAll(async () => browser?.close());

describe("Pool Limits", () => {
  it("shows the abuse limits with their defaults", async () => {
    const { page } = admin;
    await page.goto(`${BASE}/default/admin#/pools/${pool}`);
    await page.locator("#limits-card").waitFor();
    expect(await page.getByLabel("Wrong passwords per 15 minutes").inputValue()).toBe("5");
    expect(await page.getByLabel("Code requests per hour").inputValue()).toBe("5");
    expect(await page.getByLabel("Wrong codes per day").inputValue()).toBe("10");
    await page.locator("#limits-card").scrollIntoViewIfNeeded();
    await shot(page, "limits-defaults");
  });

  it("an out-of-range value is the API's 422 next to its field; valid values are saved", async () => {
    const { page } = admin;
    const failures = page.getByLabel("Wrong passwords per 15 minutes");
    await failures.fill("101");
    await page.getByRole("button", { name: "Save limits" }).click();
    await page.locator("#password-failures-error").waitFor();
    expect(await page.locator("#password-failures-error").textContent()).toMatch(/between 1 and 100/);
    expect(await failures.getAttribute("aria-invalid")).toBe("true");
    await shot(page, "limits-error");
    expect((await sysApi<{ limits: Limits }>("GET", `/pools/${pool}`)).limits.password_failures).toBe(5);

    await failures.fill("3");
    await page.getByLabel("Code requests per hour").fill("7");
    await page.getByLabel("Wrong codes per day").fill("20");
    await page.getByRole("button", { name: "Save limits" }).click();
    await expect
      .poll(() => status(page).textContent())
      .toMatch(/Limits saved: .*3 wrong passwords per 15 minutes, 7 codes per hour, 20 wrong codes per day/);
    expect((await sysApi<{ limits: Limits }>("GET", `/pools/${pool}`)).limits).toEqual({
      max_credentials: 100,
      webauthn_credentials_capacity: 10,
      password_failures: 3,
      otp_requests_per_hour: 7,
      otp_failures_per_day: 20,
    });
    await shot(page, "limits-saved");

    // A reload shows the stored values.
    await page.reload();
    await page.locator("#limits-card").waitFor();
    expect(await page.getByLabel("Wrong passwords per 15 minutes").inputValue()).toBe("3");
  });
});
