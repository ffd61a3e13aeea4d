/**
 * Self-service portal in a real browser (chromium + CDP virtual authenticator) against `wrangler dev`: the redirect
 * to sign-in, adding, renaming and deleting passkeys, the disabled last delete, and the re-authentication rule
 * (a sign-in older than 290 s, or a 401 insufficient_user_authentication, asks for a passkey, then carries on).
 * Every page state visited is saved under test/e2e/screenshots/portal-*.png.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { credentialsOf, launch, openRedirecting, pageWithAuthenticator, shot, sysApi, uniq, type AuthPage } from "./browser";
import { BASE } from "./config";

const PASSWORD = "correct horse battery staple";
const ACCOUNT = `${BASE}/default/default/account`;

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => browser?.close());

async function newUser(pool = "default") {
  const email = `${uniq("grace")}@example.com`;
  const user = await sysApi<{ id: string }>("POST", `/pools/${pool}/users`, {
    identifiers: [{ identifier: email, type: "email" }],
    credentials: [{ type: "password", password: PASSWORD }],
  });
  return { id: user.id, email };
}

const status = (page: Page) => page.locator("#status");
const rows = (page: Page) => page.locator("#passkey-rows tr");

async function signInWithPassword(page: Page, email: string) {
  await page.getByLabel("Email or username").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in with password" }).click();
  await page.waitForURL(ACCOUNT);
  await expect.poll(() => page.locator("#user-identifier").textContent()).toBe(email);
}

async function addPasskey(page: Page, expected: number) {
  await page.getByRole("button", { name: "Add a passkey" }).click();
  await expect.poll(() => rows(page).count()).toBe(expected);
  await expect.poll(() => status(page).textContent()).toContain("Passkey added");
}

/** A signed-in user of the default workspace with one passkey enrolled from the portal. */
async function signedInWithPasskey(): Promise<AuthPage & { email: string }> {
  const p = await pageWithAuthenticator(browser);
  const { email } = await newUser();
  await p.page.goto(`${BASE}/default/default/login`);
  await signInWithPassword(p.page, email);
  await addPasskey(p.page, 1);
  return { ...p, email };
}

/** Every <input> on the page has a <label for> naming it. */
async function unlabelledInputs(page: Page) {
  return page.evaluate(() =>
    [...document.querySelectorAll("input")]
      .filter((i) => !i.id || !document.querySelector(`label[for="${CSS.escape(i.id)}"]`))
      .map((i) => i.outerHTML),
  );
}

const storedToken = (page: Page) => page.evaluate(() => sessionStorage.getItem("passkey-edge:default:default"));

/** Moves the page's clock forward, as if the user had stayed on the page for `seconds` since signing in. */
async function ageSignIn(page: Page, seconds: number) {
  await page.evaluate((ms) => {
    const now = Date.now.bind(Date);
    Date.now = () => now() + ms;
  }, seconds * 1000);
}

/** Counts the API calls the page makes to paths ending with `suffix`. */
function countRequests(page: Page, method: string, suffix: string) {
  const seen: string[] = [];
  page.on("request", (r) => {
    if (r.method() === method && new URL(r.url()).pathname.endsWith(suffix)) seen.push(r.url());
  });
  return seen;
}

describe("self-service portal", () => {
  it("without a token it sends you to sign in, and brings you back after", async () => {
    const { page } = await pageWithAuthenticator(browser);
    const { email } = await newUser();
    await openRedirecting(page, ACCOUNT);
    await page.waitForURL(/\/default\/default\/login\?/);
    expect(new URL(page.url()).searchParams.get("return_to")).toBe("/default/default/account");
    await shot(page, "portal-redirect-to-signin");
    await signInWithPassword(page, email);
    expect(await page.locator("#empty").isVisible()).toBe(true);
    expect(await page.locator("#passkey-table").isVisible()).toBe(false);
    await shot(page, "portal-no-passkeys");
  });

  it("adds, renames and deletes passkeys; the last one cannot be deleted", async () => {
    const p = await signedInWithPasskey();
    const { page } = p;

    // One passkey: its row, and a disabled Delete with the reason next to it.
    const first = rows(page).first();
    expect(await first.locator("th").textContent()).toBe("Unnamed passkey");
    const cells = await first.locator("td").allTextContents();
    expect(cells.slice(0, 2)).toEqual(["Unknown authenticator", "Device-bound"]);
    expect(cells[2]).toMatch(/\d{4}/);
    expect(cells[3]).toBe("Never");
    const lastDelete = first.getByRole("button", { name: /^Delete/ });
    expect(await lastDelete.isDisabled()).toBe(true);
    const reason = page.locator(`#${await lastDelete.getAttribute("aria-describedby")}`);
    expect(await reason.textContent()).toBe("You can't remove your only passkey. Add another first.");
    expect(await reason.isVisible()).toBe(true);
    // The focus went to the new passkey's Rename button, so naming it is one key press away.
    expect(await page.evaluate(() => document.activeElement?.textContent)).toMatch(/^Rename/);
    await shot(page, "portal-one-passkey");

    // Rename inline: a labelled field; an empty name is refused with a message; Escape cancels.
    await first.getByRole("button", { name: /^Rename/ }).click();
    const field = page.getByLabel("New name");
    expect(await field.evaluate((el) => el === document.activeElement)).toBe(true);
    expect(await unlabelledInputs(page)).toEqual([]);
    await shot(page, "portal-rename-form");
    await field.fill("   ");
    await page.getByRole("button", { name: "Save" }).click();
    await expect.poll(() => status(page).textContent()).toBe("Enter a name for this passkey.");
    expect(await field.getAttribute("aria-invalid")).toBe("true");
    await shot(page, "portal-rename-empty");
    await field.press("Escape");
    expect(await page.getByLabel("New name").count()).toBe(0);
    expect(await first.locator("th").textContent()).toBe("Unnamed passkey");

    await first.getByRole("button", { name: /^Rename/ }).click();
    await page.getByLabel("New name").fill("Work laptop");
    await page.getByLabel("New name").press("Enter");
    await expect.poll(() => status(page).textContent()).toBe("Passkey renamed to “Work laptop”.");
    expect(await rows(page).first().locator("th").textContent()).toBe("Work laptop");
    await shot(page, "portal-renamed");

    // This device already holds a passkey for the account: the browser refuses a second one.
    await page.getByRole("button", { name: "Add a passkey" }).click();
    await expect.poll(() => status(page).textContent()).toBe("This device already has a passkey for this account.");
    await shot(page, "portal-add-same-device");

    // Another device (the authenticator forgets its passkey): a second passkey; both can now be deleted.
    await p.cdp.send("WebAuthn.clearCredentials", { authenticatorId: p.authenticatorId });
    await addPasskey(page, 2);
    for (const button of await page.getByRole("button", { name: /^Delete/ }).all()) expect(await button.isEnabled()).toBe(true);
    expect(await page.getByText("You can't remove your only passkey").count()).toBe(0);
    await shot(page, "portal-two-passkeys");

    // Delete asks first; Cancel keeps it.
    await rows(page)
      .first()
      .getByRole("button", { name: /^Delete/ })
      .click();
    const dialog = page.getByRole("dialog", { name: "Delete this passkey?" });
    expect(await dialog.isVisible()).toBe(true);
    expect(await dialog.textContent()).toContain("Work laptop");
    await shot(page, "portal-delete-confirm");
    await dialog.getByRole("button", { name: "Cancel" }).click();
    expect(await rows(page).count()).toBe(2);

    await rows(page)
      .first()
      .getByRole("button", { name: /^Delete/ })
      .click();
    await dialog.getByRole("button", { name: "Delete passkey" }).click();
    await expect.poll(() => rows(page).count()).toBe(1);
    await expect.poll(() => status(page).textContent()).toBe("Passkey “Work laptop” deleted.");
    expect(await rows(page).first().locator("th").textContent()).toBe("Unnamed passkey");
    expect(
      await rows(page)
        .first()
        .getByRole("button", { name: /^Delete/ })
        .isDisabled(),
    ).toBe(true);
    expect(await page.getByText("You can't remove your only passkey. Add another first.").isVisible()).toBe(true);
    expect(await credentialsOf(p)).toHaveLength(1);
    await shot(page, "portal-deleted");

    // Phone-sized screen: the table becomes one block per passkey.
    await page.setViewportSize({ width: 390, height: 844 });
    await shot(page, "portal-mobile");
  });

  it("the passkey table fits its card on a 1280 px screen and on a 390 px phone (every Delete inside the card)", async () => {
    const p = await signedInWithPasskey();
    const { page } = p;
    await p.cdp.send("WebAuthn.clearCredentials", { authenticatorId: p.authenticatorId });
    await addPasskey(page, 2);
    // The widest rows: a long name (the API allows 64 characters) and a "Last used" date. The rename comes after an
    // aged sign-in, so the portal confirms with the second passkey first, which gives that passkey its last use.
    await ageSignIn(page, 6 * 60);
    await rows(page)
      .first()
      .getByRole("button", { name: /^Rename/ })
      .click();
    await page.getByLabel("New name").fill("Grace's work laptop in the office on the third floor, by window");
    await page.getByLabel("New name").press("Enter");
    await expect.poll(() => status(page).textContent()).toContain("Passkey renamed");
    await page.reload();
    await expect.poll(() => rows(page).count()).toBe(2);
    expect(await rows(page).nth(1).locator("td").nth(3).textContent()).toMatch(/\d{4}/);

    const card = page.locator("section.card", { has: page.locator("#passkey-table") });
    for (const [width, height] of [
      [1280, 800],
      [820, 1180],
      [390, 844],
    ] as const) {
      await page.setViewportSize({ width, height });
      const box = (await card.boundingBox())!;
      expect(box.x).toBeGreaterThanOrEqual(0);
      expect(box.x + box.width, `card at ${width} px`).toBeLessThanOrEqual(width);
      const deletes = await page
        .locator("#passkey-rows")
        .getByRole("button", { name: /^Delete/ })
        .all();
      expect(deletes).toHaveLength(2);
      for (const button of [
        ...deletes,
        ...(await page
          .locator("#passkey-rows")
          .getByRole("button", { name: /^Rename/ })
          .all()),
      ]) {
        const b = (await button.boundingBox())!;
        expect(b.x, `${await button.textContent()} at ${width} px`).toBeGreaterThanOrEqual(box.x);
        expect(b.x + b.width, `${await button.textContent()} at ${width} px`).toBeLessThanOrEqual(box.x + box.width);
        expect(b.y).toBeGreaterThanOrEqual(box.y);
        expect(b.y + b.height).toBeLessThanOrEqual(box.y + box.height);
      }
      // Nothing scrolls sideways.
      expect(await page.evaluate(() => document.documentElement.scrollWidth), `page width at ${width} px`).toBeLessThanOrEqual(width);
      await shot(page, `portal-fit-${width}`);
    }
  });

  it("a sign-in older than 5 minutes: the change asks for a passkey first, then goes on without another click", async () => {
    const { page } = await signedInWithPasskey();
    const before = await storedToken(page);
    const finishes = countRequests(page, "POST", "/login/webauthn/finish");
    const renames = countRequests(page, "PUT", "/name");

    await ageSignIn(page, 6 * 60);
    await rows(page)
      .first()
      .getByRole("button", { name: /^Rename/ })
      .click();
    await page.getByLabel("New name").fill("Phone");
    await page.getByRole("button", { name: "Save" }).click();
    await expect.poll(() => status(page).textContent()).toBe("Passkey renamed to “Phone”.");
    expect(finishes).toHaveLength(1);
    expect(renames).toHaveLength(1);
    const after = await storedToken(page);
    expect(after).not.toBe(before);
    await shot(page, "portal-reauth-renamed");
  });

  it("Classic workspace: the confirmation asks for this user's passkeys (options with the identifier)", async () => {
    const p = await pageWithAuthenticator(browser);
    const { page } = p;
    const pool = (
      await sysApi<{ id: string }>("POST", "/pools", { name: uniq("pool"), authentication_mechanisms: ["webauthn", "password"] })
    ).id;
    const wid = (
      await sysApi<{ id: string }>("POST", "/workspaces", {
        name: uniq("Classic"),
        authentication_mechanisms: ["webauthn", "password"],
        identity_pools: [pool],
      })
    ).id;
    const { email } = await newUser(pool);
    await page.goto(`${BASE}/default/${wid}/login`);
    await page.getByLabel("Email or username").fill(email);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in with password" }).click();
    await page.waitForURL(`${BASE}/default/${wid}/account`);
    await addPasskey(page, 1);

    const options: string[] = [];
    page.on("request", (r) => r.url().endsWith("/login/webauthn/options") && options.push(r.postData() ?? ""));
    await ageSignIn(page, 6 * 60);
    await rows(page)
      .first()
      .getByRole("button", { name: /^Rename/ })
      .click();
    await page.getByLabel("New name").fill("Desk key");
    await page.getByRole("button", { name: "Save" }).click();
    await expect.poll(() => status(page).textContent()).toBe("Passkey renamed to “Desk key”.");
    expect(options.map((b) => JSON.parse(b))).toEqual([{ identifier: email }]);
    await shot(page, "portal-classic-reauth-renamed");
  });

  it("401 insufficient_user_authentication from the API: confirms with a passkey and retries once", async () => {
    const { page } = await signedInWithPasskey();
    const finishes = countRequests(page, "POST", "/login/webauthn/finish");
    let refused = 0;
    await page.route("**/identity/v2/self/webauthn/*/name", async (route) => {
      if (refused++ > 0) return route.fallback();
      await route.fulfill({
        status: 401,
        contentType: "application/json",
        headers: { "www-authenticate": 'Bearer error="insufficient_user_authentication", max_age=300', "cache-control": "no-store" },
        body: JSON.stringify({
          status_code: 401,
          error: "sign in again",
          error_code: "insufficient_user_authentication",
          details: { max_age: 300 },
        }),
      });
    });
    await rows(page)
      .first()
      .getByRole("button", { name: /^Rename/ })
      .click();
    await page.getByLabel("New name").fill("Security key");
    await page.getByRole("button", { name: "Save" }).click();
    await expect.poll(() => status(page).textContent()).toBe("Passkey renamed to “Security key”.");
    expect(refused).toBe(2);
    expect(finishes).toHaveLength(1);
  });

  it("a refused confirmation leaves everything as it was and offers to sign in again", async () => {
    const p = await signedInWithPasskey();
    const { page } = p;
    await ageSignIn(page, 6 * 60);
    await p.cdp.send("WebAuthn.setUserVerified", { authenticatorId: p.authenticatorId, isUserVerified: false });
    const renames = countRequests(page, "PUT", "/name");
    await rows(page)
      .first()
      .getByRole("button", { name: /^Rename/ })
      .click();
    await page.getByLabel("New name").fill("Never saved");
    await page.getByRole("button", { name: "Save" }).click();
    await expect.poll(() => status(page).textContent()).toContain("Your change wasn't made");
    expect(await status(page).getAttribute("role")).toBe("alert");
    expect(renames).toHaveLength(0);
    const again = page.getByRole("link", { name: "Sign in again" });
    expect(await again.isVisible()).toBe(true);
    expect(await again.getAttribute("href")).toBe("/default/default/login?return_to=%2Fdefault%2Fdefault%2Faccount");
    await shot(page, "portal-reauth-refused");
  });

  it("Sign out forgets the token", async () => {
    const { page } = await signedInWithPasskey();
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(/signed_out=1$/);
    expect(await storedToken(page)).toBeNull();
    await openRedirecting(page, ACCOUNT);
    await page.waitForURL(/\/login\?return_to=/);
  });
});
