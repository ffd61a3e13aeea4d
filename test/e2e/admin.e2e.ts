/**
 * Admin console and first-admin enrollment in a real browser: enrollment link → passkey (virtual authenticator) →
 * sign-in at /default/admin/login → console screens (methods, pool sign-in, passkey settings, limits, users, one user).
 * Every screen state is saved under test/e2e/screenshots/admin-*.png.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  credentialsOf,
  launch,
  openRedirecting,
  pageWithAuthenticator,
  shot,
  signInToConsole,
  sysApi,
  uniq,
  type AuthPage,
} from "./browser";
import { BASE } from "./config";

type Message = { to: string; purpose: string; code: string };
type Credential = { id: string; type: string; name: string | null };
type UserDetails = { id: string; credentials: Credential[] };

let browser: Browser;
let admin: AuthPage;
/** CSP violations and page errors seen by any page: there must be none. */
const problems: string[] = [];

function watch(page: Page) {
  page.on("console", (m) => {
    if (m.type() === "error" && /Content Security Policy|Refused to/i.test(m.text())) problems.push(m.text());
  });
  page.on("pageerror", (e) => problems.push(e.message));
}

async function newUser(pool: string, prefix: string) {
  const email = `${uniq(prefix)}@example.com`;
  const name = uniq(prefix);
  const user = await sysApi<{ id: string }>("POST", `/pools/${pool}/users`, {
    identifiers: [{ identifier: name, type: "uid" }],
    verifiable_addresses: [{ address: email, type: "email", verified: true }],
  });
  return { id: user.id, email, name };
}

/** add/request for the user, then the newest code sent to its address. */
async function codeFor(pool: string, user: { id: string; email: string }): Promise<string> {
  await sysApi("POST", `/pools/${pool}/user/webauthn/add/request`, { userID: user.id });
  const { messages } = await sysApi<{ messages: Message[] }>("GET", "/outbox");
  const m = messages.find((x) => x.to === user.email && x.purpose === "enroll_webauthn");
  if (!m) throw new Error(`no code for ${user.email}`);
  return m.code;
}

const passkeysOf = async (pool: string, userId: string) =>
  (await sysApi<UserDetails>("GET", `/pools/${pool}/users/${userId}`)).credentials.filter((c) => c.type === "webauthn");

const status = (page: Page) => page.locator("#status");

/** Every form control of the page has a label (or an aria-label). */
async function unlabelled(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll<HTMLInputElement>("input, select, textarea")]
      .filter((el) => !el.closest("[hidden]") && !el.labels?.length && !el.getAttribute("aria-label"))
      .map((el) => el.outerHTML),
  );
}

/** Enrolls a passkey through the enrollment-link page in this page's virtual authenticator. */
async function enrollThroughLink(p: AuthPage, wid: string, user: { id: string }, code: string, shotName?: string) {
  await p.page.goto(`${BASE}/default/${wid}/enroll?user=${user.id}&code=${code}`);
  if (shotName) await shot(p.page, shotName);
  await p.page.getByRole("button", { name: "Create a passkey" }).click();
  await p.page.getByText("Your passkey is ready").first().waitFor();
}

beforeAll(async () => {
  browser = await launch();
  admin = await pageWithAuthenticator(browser);
  watch(admin.page);
});
afterAll(async () => browser?.close());

describe("first administrator", () => {
  const adminUser = { id: "", email: "", name: "" };

  it("without a token, the console sends the browser to the admin sign-in page", async () => {
    const { page } = await pageWithAuthenticator(browser);
    watch(page);
    await openRedirecting(page, `${BASE}/default/admin`);
    await page.waitForURL(/\/default\/admin\/login\?return_to=/);
    expect(new URL(page.url()).searchParams.get("return_to")).toBe("/default/admin");
    await page.getByRole("button", { name: /sign in with a passkey/i }).waitFor();
    await shot(page, "admin-login");
    await page.context().close();
  });

  it("enrolls its first passkey with the enrollment link (a wrong code first)", async () => {
    Object.assign(adminUser, await newUser("admins", "admin"));
    const code = await codeFor("admins", adminUser);
    const wrong = code === "00000000" ? "11111111" : "00000000";
    const { page } = admin;

    await page.goto(`${BASE}/default/admin/enroll?user=${adminUser.id}&code=${wrong}`);
    await page.getByRole("button", { name: "Create a passkey" }).click();
    await expect.poll(() => status(page).textContent()).toMatch(/does not work/);
    expect(await page.locator("#code").getAttribute("aria-invalid")).toBe("true");
    await shot(page, "admin-enroll-wrong-code");
    expect(await credentialsOf(admin)).toHaveLength(0);

    await page.goto(`${BASE}/default/admin/enroll?code=${code}`);
    expect(await page.getByRole("alert").textContent()).toMatch(/link is incomplete/);
    await shot(page, "admin-enroll-incomplete");

    await enrollThroughLink(admin, "admin", adminUser, code, "admin-enroll-link");
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("done-title");
    expect(await page.getByRole("link", { name: /sign in to the admin console/i }).getAttribute("href")).toBe("/default/admin/login");
    await shot(page, "admin-enroll-done");
    expect(await credentialsOf(admin)).toHaveLength(1);
    expect(await passkeysOf("admins", adminUser.id)).toHaveLength(1);
  });

  it("signs in at /default/admin/login with the passkey and lands in the console", async () => {
    const { page } = admin;
    await signInToConsole(page);
    await page.locator("[data-workspace=default]").waitFor();
    await expect.poll(() => page.locator("#who").textContent()).toBe(`Signed in as ${adminUser.name}`);
    expect(await page.getByRole("link", { name: "Authentication" }).getAttribute("aria-current")).toBe("page");
    await shot(page, "admin-methods");
    expect(await unlabelled(page)).toEqual([]);
  });
});

describe("Authentication > Settings > Methods", () => {
  it("switches workspace default from Smart to Classic (with the re-enroll warning) and back", async () => {
    const { page } = admin;
    const card = page.locator("[data-workspace=default]");
    expect(await card.getByLabel("Smart", { exact: true }).isChecked()).toBe(true);
    expect(await card.getByLabel("Password", { exact: true }).isChecked()).toBe(true);

    await card.getByLabel("Classic", { exact: true }).check();
    const warning = card.locator(".warning");
    expect(await warning.textContent()).toMatch(/must re-enroll/);
    await shot(page, "admin-methods-classic-warning");
    await card.getByRole("button", { name: "Save" }).click();
    await expect.poll(() => status(page).textContent()).toMatch(/Saved “Default workspace”: Classic passkeys, password/);
    expect((await sysApi<{ passkey_mode: string }>("GET", "/workspaces/default")).passkey_mode).toBe("classic");
    await shot(page, "admin-methods-saved-classic");

    await card.getByLabel("Smart", { exact: true }).check();
    await card.getByRole("button", { name: "Save" }).click();
    await expect.poll(() => status(page).textContent()).toMatch(/Smart passkeys/);
    const ws = await sysApi<{ passkey_mode: string; authentication_mechanisms: string[] }>("GET", "/workspaces/default");
    expect(ws.passkey_mode).toBe("smart");
    expect(ws.authentication_mechanisms).toEqual(["usernameless_webauthn", "password"]);
  });
});

describe("Users > pool > Sign-in and Sign-up", () => {
  it("makes Password the preferred first factor and back", async () => {
    const { page } = admin;
    // By keyboard: the tab link, Enter; focus moves to the new screen's heading.
    await page.getByRole("link", { name: "Users" }).first().focus();
    await page.keyboard.press("Enter");
    await page.waitForURL(`${BASE}/default/admin#/pools/default`);
    await page.locator("#signin-card").waitFor();
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe("pool-title");
    expect(await page.locator("#pool-title").textContent()).toBe("Default pool");
    expect(await page.locator("#pool-picker").inputValue()).toBe("default");
    await shot(page, "admin-pool-signin");
    expect(await unlabelled(page)).toEqual([]);

    await page.getByRole("button", { name: "Make Password the preferred first factor" }).click();
    await page.getByRole("button", { name: "Save sign-in methods" }).click();
    await expect.poll(() => status(page).textContent()).toBe("Sign-in methods saved.");
    expect((await sysApi<{ preferred_authentication_mechanism: string }>("GET", "/pools/default")).preferred_authentication_mechanism).toBe(
      "password",
    );
    await shot(page, "admin-pool-password-preferred");

    await page.getByRole("button", { name: "Make Passkey the preferred first factor" }).click();
    await page.getByRole("button", { name: "Save sign-in methods" }).click();
    await expect
      .poll(
        async () =>
          (await sysApi<{ preferred_authentication_mechanism: string }>("GET", "/pools/default")).preferred_authentication_mechanism,
      )
      .toBe("webauthn");
  });

  it("removing every first factor shows the API's 422", async () => {
    const { page } = admin;
    await page.getByRole("button", { name: "Remove Passkey from the first factor" }).click();
    await page.getByRole("button", { name: "Remove Password from the first factor" }).click();
    await page.getByRole("button", { name: "Save sign-in methods" }).click();
    await expect.poll(() => page.locator("#methods-error").textContent()).toMatch(/at least one mechanism/);
    expect(await status(page).getAttribute("role")).toBe("alert");
    await shot(page, "admin-pool-methods-error");
    await page.reload();
    await page.locator("#signin-card").waitFor();
  });

  it("an invalid Relying Party ID: the 422 message appears next to the field", async () => {
    const { page } = admin;
    const rpId = page.getByLabel("Relying Party ID");
    await rpId.fill("https://bad.example.com:8443");
    await page.getByRole("button", { name: "Save passkey settings" }).click();
    const error = page.locator("#rp-id-error");
    await error.waitFor();
    expect(await error.textContent()).toMatch(/.+/);
    expect(await rpId.getAttribute("aria-invalid")).toBe("true");
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("rp-id");
    expect(await status(page).textContent()).toMatch(/Saving the passkey settings failed/);
    await shot(page, "admin-pool-rpid-error");
    expect(
      (await sysApi<{ passkey_settings: { relying_party_id: string } }>("GET", "/pools/default")).passkey_settings.relying_party_id,
    ).toBe("");

    await rpId.fill("");
    await page.getByRole("button", { name: "Save passkey settings" }).click();
    await expect.poll(() => status(page).textContent()).toBe("Passkey settings saved.");
    expect(await error.isHidden()).toBe(true);
  });

  it("sets the capacity; an out-of-range value is the API's 422 next to the field", async () => {
    const { page } = admin;
    const capacity = page.getByLabel("Passkey capacity per user");
    await capacity.fill("200");
    await page.getByRole("button", { name: "Save limits" }).click();
    await page.locator("#capacity-error").waitFor();
    expect(await page.locator("#capacity-error").textContent()).toMatch(/between 1 and 100/);
    await shot(page, "admin-pool-limits-error");

    await capacity.fill("5");
    await page.getByRole("button", { name: "Save limits" }).click();
    await expect.poll(() => status(page).textContent()).toMatch(/Limits saved: 5 passkeys/);
    expect(
      (await sysApi<{ limits: { webauthn_credentials_capacity: number } }>("GET", "/pools/default")).limits.webauthn_credentials_capacity,
    ).toBe(5);
    await shot(page, "admin-pool-limits-saved");
  });
});

describe("Users > pool > user", () => {
  const user = { id: "", email: "", name: "" };

  it("lists the pool's users and opens one with its passkeys", async () => {
    Object.assign(user, await newUser("default", "ada"));
    // Two passkeys, each from its own browser (own virtual authenticator), through the enrollment link.
    for (const _ of [1, 2]) {
      const other = await pageWithAuthenticator(browser);
      watch(other.page);
      await enrollThroughLink(other, "default", user, await codeFor("default", user));
      await other.page.context().close();
    }
    expect(await passkeysOf("default", user.id)).toHaveLength(2);

    const { page } = admin;
    await page.getByRole("link", { name: "Users", exact: true }).last().click();
    await page.waitForURL(`${BASE}/default/admin#/pools/default/users`);
    const link = page.getByRole("link", { name: user.name });
    await link.waitFor();
    await shot(page, "admin-users");
    await link.click();
    await page.waitForURL(new RegExp(`#/pools/default/users/${user.id}$`));
    await page.locator("table.passkeys").waitFor();
    expect(await page.locator("#pool-title").textContent()).toBe(user.name);
    expect(await page.locator("table.passkeys tbody tr").count()).toBe(2);
    expect(await page.locator("table.passkeys tbody").textContent()).toMatch(/Device-bound/);
    await shot(page, "admin-user");
    expect(await unlabelled(page)).toEqual([]);
  });

  it("renames a passkey", async () => {
    const { page } = admin;
    await page.getByRole("button", { name: "Rename Unnamed passkey" }).first().click();
    const input = page.getByLabel("New name for Unnamed passkey");
    await input.fill("Work laptop");
    await shot(page, "admin-user-rename");
    await page.getByRole("button", { name: "Save name" }).click();
    await expect.poll(() => status(page).textContent()).toBe("Passkey renamed to “Work laptop”.");
    await page.getByText("Work laptop", { exact: true }).waitFor();
    expect((await passkeysOf("default", user.id)).map((c) => c.name)).toContain("Work laptop");
  });

  it("an invalid name is refused next to the field", async () => {
    const { page } = admin;
    await page.getByRole("button", { name: "Rename Work laptop" }).click();
    await page.getByLabel("New name for Work laptop").fill("   ");
    await page.getByRole("button", { name: "Save name" }).click();
    await expect.poll(() => page.locator(".rename .field-error").textContent()).toMatch(/1 to 64 characters/);
    await shot(page, "admin-user-rename-error");
    await page.getByRole("button", { name: "Cancel" }).click();
  });

  it("deletes a passkey after confirming", async () => {
    const { page } = admin;
    await page.getByRole("button", { name: "Delete Unnamed passkey" }).click();
    await shot(page, "admin-user-delete-confirm");
    await page.getByRole("button", { name: "Delete passkey" }).click();
    await expect.poll(() => status(page).textContent()).toBe("Passkey “Unnamed passkey” deleted.");
    await expect.poll(() => page.locator("table.passkeys tbody tr").count()).toBe(1);
    const left = await passkeysOf("default", user.id);
    expect(left.map((c) => c.name)).toEqual(["Work laptop"]);
    await shot(page, "admin-user-deleted");
  });

  it("sends an enrollment code", async () => {
    const { page } = admin;
    const before = (await sysApi<{ messages: Message[] }>("GET", "/outbox")).messages.filter((m) => m.to === user.email).length;
    await page.getByRole("button", { name: "Send enrollment code" }).click();
    await expect.poll(() => status(page).textContent()).toBe("If the user has a verified address, a code is on its way.");
    const after = (await sysApi<{ messages: Message[] }>("GET", "/outbox")).messages.filter((m) => m.to === user.email).length;
    expect(after).toBe(before + 1);
    await shot(page, "admin-user-code-sent");
  });

  it("raised no CSP violation or script error", () => {
    expect(problems).toEqual([]);
  });
});
