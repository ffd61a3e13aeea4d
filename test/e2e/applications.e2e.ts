/**
 * Admin console "Applications" (OIDC clients of a workspace) in a real browser: reach it from the workspace card,
 * create a confidential client (the API's 422 next to the field first; the secret shown once, copied with the copy
 * button), edit its redirect URIs, rotate the secret (shown once, different), create a public client (no secret, no
 * rotation), delete after confirming. Screenshots: test/e2e/screenshots/apps-*.png.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launch, shot, signedInAdmin, sysApi, uniq } from "./browser";
import { BASE } from "./config";

type Client = {
  client_id: string;
  client_name: string;
  redirect_uris: string[];
  token_endpoint_auth_method: string;
  client_secret?: string;
};

let browser: Browser;
let page: Page;
const problems: string[] = [];
const status = () => page.locator("#status");
const poll = <T>(fn: () => Promise<T> | T) => expect.poll(fn, { timeout: 15_000 });
const ws = { id: uniq("apps").replace(/[^A-Za-z0-9_-]/g, "-"), name: `Apps workspace ${Date.now().toString(36)}` };
const appsHash = `#/workspaces/${ws.id}/applications`;
const list = async () => (await sysApi<{ clients: Client[] }>("GET", `/workspaces/${ws.id}/clients`)).clients;
const statusOf = (path: string) =>
  sysApi("GET", path).then(
    () => 200,
    (e: Error) => Number(/: (\d{3}) /.exec(e.message)?.[1]),
  );
/** Every secret text on the page (the shown-once boxes). */
const secretsShown = () => page.locator(".secret-value").allTextContents();

beforeAll(async () => {
  browser = await launch();
  await sysApi("POST", "/workspaces", { id: ws.id, name: ws.name, identity_pools: ["default"] });
  page = (await signedInAdmin(browser, "apps-admin")).page;
  await page.context().grantPermissions(["clipboard-read", "clipboard-write"], { origin: BASE });
  page.on("console", (m) => {
    if (m.type() === "error" && /Content Security Policy|Refused to/i.test(m.text())) problems.push(m.text());
  });
  page.on("pageerror", (e) => problems.push(e.message));
});
afterAll(async () => {
  await sysApi("DELETE", `/workspaces/${ws.id}`).catch(() => undefined);
  await browser?.close();
});

describe("Applications screen", () => {
  let cid = "";
  let firstSecret = "";

  it("opens from the workspace card and starts empty", async () => {
    await page.goto(`${BASE}/default/admin#/methods`);
    await page.getByRole("link", { name: `Applications of ${ws.name}` }).click();
    await page.waitForURL(`${BASE}/default/admin${appsHash}`);
    await poll(() => page.locator("#apps-title").textContent()).toBe("Applications");
    await poll(() => page.locator("#applications").textContent()).toBe("This workspace has no application yet.");
    expect(await page.locator("#screen-applications code").first().textContent()).toBe(`${BASE}/default/${ws.id}`);
  });

  it("shows the API's 422 next to the redirect URIs, then creates a confidential client with its secret shown once", async () => {
    await page.getByRole("button", { name: "New application" }).click();
    await page.getByLabel("Name", { exact: true }).fill("Shop");
    await page.locator("#new-app-redirect_uris").fill("http://shop.example.com/cb");
    await page.getByRole("button", { name: "Create application" }).click();
    await poll(() => page.locator("#new-app-redirect_uris-error").textContent()).toMatch(/must use https/);
    expect(await page.locator("#new-app-redirect_uris").getAttribute("aria-invalid")).toBe("true");
    expect(await status().getAttribute("role")).toBe("alert");
    expect(await list()).toEqual([]);
    await shot(page, "apps-new-error");

    await page.locator("#new-app-redirect_uris").fill("https://shop.example.com/cb\n\n");
    await page.locator("#new-app-post_logout_redirect_uris").fill("https://shop.example.com/");
    await page.getByRole("button", { name: "Create application" }).click();
    await poll(() => status().textContent()).toBe("Application “Shop” created. Copy its secret now: it is not shown again.");
    const [created] = await list();
    expect(created).toMatchObject({
      client_name: "Shop",
      redirect_uris: ["https://shop.example.com/cb"],
      token_endpoint_auth_method: "client_secret_basic",
    });
    expect(created).not.toHaveProperty("client_secret");
    cid = created!.client_id;
    const shown = await secretsShown();
    expect(shown).toHaveLength(1);
    firstSecret = shown[0]!;
    expect(firstSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await page.locator(`[data-secret-for="${cid}"]`).isVisible()).toBe(true);
    await shot(page, "apps-created-secret");

    await page.getByRole("button", { name: "Copy secret" }).click();
    await poll(() => status().textContent()).toBe("Client secret copied to the clipboard.");
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(firstSecret);
    await page.getByRole("button", { name: "Done" }).click();
    expect(await secretsShown()).toEqual([]);

    // Reloading the screen never shows the secret again.
    await page.reload();
    await page.locator(`form[data-client="${cid}"]`).waitFor();
    expect(await page.content()).not.toContain(firstSecret);
  });

  it("edits the redirect URIs", async () => {
    const card = page.locator(`form[data-client="${cid}"]`);
    await card.locator(`#app-${cid}-redirect_uris`).fill("https://shop.example.com/cb\nhttps://shop.example.com/cb2");
    await card.getByRole("button", { name: "Save" }).click();
    await poll(() => status().textContent()).toBe("Saved the redirect URIs of “Shop”.");
    expect((await list())[0]!.redirect_uris).toEqual(["https://shop.example.com/cb", "https://shop.example.com/cb2"]);

    await card.locator(`#app-${cid}-redirect_uris`).fill("javascript:alert(1)");
    await card.getByRole("button", { name: "Save" }).click();
    await poll(() => card.locator(`#app-${cid}-redirect_uris-error`).textContent()).toMatch(/javascript: scheme/);
    expect((await list())[0]!.redirect_uris).toEqual(["https://shop.example.com/cb", "https://shop.example.com/cb2"]);
    await card.locator(`#app-${cid}-redirect_uris`).fill("https://shop.example.com/cb\nhttps://shop.example.com/cb2");
  });

  it("rotates the secret: a new one, shown once", async () => {
    await page.getByRole("button", { name: "Rotate secret of Shop" }).click();
    await poll(() => status().textContent()).toBe(
      "New secret for “Shop”: the old one no longer works. Copy the new one now: it is not shown again.",
    );
    const shown = await secretsShown();
    expect(shown).toHaveLength(1);
    expect(shown[0]).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(shown[0]).not.toBe(firstSecret);
    await shot(page, "apps-rotated");
    await page.getByRole("button", { name: "Done" }).click();
    expect(await secretsShown()).toEqual([]);
  });

  it("creates a public client: no secret, no rotation", async () => {
    await page.getByRole("button", { name: "New application" }).click();
    await page.getByLabel("Name", { exact: true }).fill("Mobile");
    await page.getByLabel(/public: PKCE only/).check();
    await page.locator("#new-app-redirect_uris").fill("com.example.shop:/callback");
    await page.getByRole("button", { name: "Create application" }).click();
    await poll(() => status().textContent()).toBe("Application “Mobile” created (public: no secret, PKCE only).");
    const mobile = (await list()).find((c) => c.client_name === "Mobile")!;
    expect(mobile.token_endpoint_auth_method).toBe("none");
    expect(await secretsShown()).toEqual([]);
    const card = page.locator(`form[data-client="${mobile.client_id}"]`);
    expect(await card.getByRole("button", { name: /Rotate secret/ }).count()).toBe(0);
    await shot(page, "apps-two");
  });

  it("deletes after confirming", async () => {
    await page.getByRole("button", { name: "Delete application Shop" }).click();
    await shot(page, "apps-delete-confirm");
    await page.getByRole("button", { name: "Delete application", exact: true }).click();
    await poll(() => status().textContent()).toBe("Application “Shop” deleted.");
    expect(await page.locator(`form[data-client="${cid}"]`).count()).toBe(0);
    expect(await statusOf(`/workspaces/${ws.id}/clients/${cid}`)).toBe(404);
    expect((await list()).map((c) => c.client_name)).toEqual(["Mobile"]);
    expect(problems).toEqual([]);
  });
});
