/**
 * Admin console, managing the tenant in a real browser: create and delete a pool, a workspace and a user (with the
 * API's 409s shown where they belong), and page through 500 users of a pool with Previous/Next and a search.
 * Screenshots: test/e2e/screenshots/manage-*.png.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launch, shot, signedInAdmin, sysApi, sysClient, uniq } from "./browser";
import { BASE } from "./config";

type User = { id: string; identifiers: { identifier: string }[] };

let browser: Browser;
let page: Page;
const problems: string[] = [];
const status = () => page.locator("#status");
const idOf = (prefix: string) => uniq(prefix).replace(/[^A-Za-z0-9_-]/g, "-");
/** The HTTP status of a system-API GET (sysApi throws on anything but 2xx). */
const statusOf = (path: string) =>
  sysApi("GET", path).then(
    () => 200,
    (e: Error) => Number(/: (\d{3}) /.exec(e.message)?.[1]),
  );
/** expect.poll with room for a slow worker on a busy machine (an API call took 3.6 s once). */
const poll = <T>(fn: () => Promise<T> | T) => expect.poll(fn, { timeout: 15_000 });
const focusedText = () => page.evaluate(() => document.activeElement?.textContent?.trim() ?? "");

/** Every visible form control has a label. */
const unlabelled = () =>
  page.evaluate(() =>
    [...document.querySelectorAll<HTMLInputElement>("input, select, textarea")]
      .filter((el) => !el.closest("[hidden]") && !el.labels?.length && !el.getAttribute("aria-label"))
      .map((el) => el.outerHTML),
  );

beforeAll(async () => {
  browser = await launch();
  page = (await signedInAdmin(browser, "manage-admin")).page;
  page.on("console", (m) => {
    if (m.type() === "error" && /Content Security Policy|Refused to/i.test(m.text())) problems.push(m.text());
  });
  page.on("pageerror", (e) => problems.push(e.message));
});
afterAll(async () => browser?.close());

describe("create and delete", () => {
  const pool = { id: idOf("mp"), name: `Manage pool ${Date.now().toString(36)}` };
  const ws = { id: idOf("mw"), name: "Manage workspace" };
  const identifier = `${uniq("grace")}@example.com`;

  it("creates a pool", async () => {
    await page.goto(`${BASE}/default/admin#/pools/default`);
    await page.locator("#signin-card").waitFor();
    await page.getByRole("button", { name: "New pool" }).click();
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("new-pool-name");
    await page.getByLabel("Name", { exact: true }).fill(pool.name);
    await page.getByLabel("ID (optional)").fill(pool.id);
    expect(await unlabelled()).toEqual([]);
    await shot(page, "manage-pool-new");
    await page.getByRole("button", { name: "Create pool" }).click();
    await page.waitForURL(`${BASE}/default/admin#/pools/${pool.id}`);
    await poll(() => status().textContent()).toBe(`Pool “${pool.name}” created (id ${pool.id}).`);
    await poll(() => page.locator("#pool-title").textContent()).toBe(pool.name);
    expect(await page.locator("#pool-picker").inputValue()).toBe(pool.id);
    expect((await sysApi<{ name: string }>("GET", `/pools/${pool.id}`)).name).toBe(pool.name);
    await shot(page, "manage-pool-created");
  });

  it("an id that is taken is the API's 409 next to the field", async () => {
    await page.getByRole("button", { name: "New pool" }).click();
    await page.getByLabel("Name", { exact: true }).fill("Twin");
    await page.getByLabel("ID (optional)").fill(pool.id);
    await page.getByRole("button", { name: "Create pool" }).click();
    await poll(() => page.locator("#new-pool-id-error").textContent()).toBe("A pool with this ID already exists.");
    expect(await page.getByLabel("ID (optional)").getAttribute("aria-invalid")).toBe("true");
    expect(await status().getAttribute("role")).toBe("alert");
    await page.getByRole("button", { name: "Cancel" }).click();
    await poll(focusedText).toBe("New pool");
  });

  it("creates a workspace that signs in users of the new pool", async () => {
    await page.getByRole("link", { name: "Authentication" }).click();
    await page.locator("[data-workspace=default]").waitFor();
    await page.getByRole("button", { name: "New workspace" }).click();
    await page.getByLabel("Name", { exact: true }).fill(ws.name);
    await page.getByLabel("ID (optional)").fill(ws.id);
    await page.getByLabel(`${pool.name} (${pool.id})`).check();
    expect(await unlabelled()).toEqual([]);
    await page.getByRole("button", { name: "Create workspace" }).click();
    await poll(() => status().textContent()).toMatch(`Workspace “${ws.name}” created (id ${ws.id})`);
    const card = page.locator(`[data-workspace=${ws.id}]`);
    await card.waitFor();
    expect(await card.textContent()).toContain(`Signs in users of: ${pool.id}`);
    expect((await sysApi<{ identity_pools: string[] }>("GET", `/workspaces/${ws.id}`)).identity_pools).toEqual([pool.id]);
    await shot(page, "manage-workspace-created");
  });

  it("a pool that a workspace uses cannot be deleted: the 409 shows in the card and the status", async () => {
    await page.goto(`${BASE}/default/admin#/pools/${pool.id}`);
    await page.getByRole("button", { name: `Delete pool ${pool.name}` }).click();
    await page.getByRole("button", { name: "Delete pool and users" }).click();
    await poll(() => page.locator("#delete-pool-error").textContent()).toMatch(/remove it from their pools first/);
    expect(await status().textContent()).toMatch(
      /Deleting the pool “.*” failed: remove the pool from its workspaces' identity_pools first/,
    );
    expect(await status().getAttribute("role")).toBe("alert");
    await shot(page, "manage-pool-in-use");
    expect(await statusOf(`/pools/${pool.id}`)).toBe(200);
    await page.getByRole("button", { name: "Keep" }).click();
    await poll(focusedText).toBe("Delete pool");
  });

  it("creates a user; the same identifier again is the API's 409 next to the field", async () => {
    await page.getByRole("link", { name: "Users", exact: true }).last().click();
    await page.waitForURL(`${BASE}/default/admin#/pools/${pool.id}/users`);
    await page.getByText("No users in this pool yet.").waitFor();
    await page.getByRole("button", { name: "New user" }).click();
    await page.getByLabel("Identifier", { exact: true }).fill(identifier);
    await page.getByLabel("Verified email address (optional)").fill(identifier);
    expect(await unlabelled()).toEqual([]);
    await page.getByRole("button", { name: "Create user" }).click();
    await page.waitForURL(new RegExp(`#/pools/${pool.id}/users/[^/]+$`));
    await poll(() => page.locator("#pool-title").textContent()).toBe(identifier);
    expect(await status().textContent()).toMatch(`User “${identifier}” created.`);
    await shot(page, "manage-user-created");

    await page.getByRole("link", { name: `All users of ${pool.name}` }).click();
    await page.getByRole("link", { name: identifier }).waitFor();
    await page.getByRole("button", { name: "New user" }).click();
    await page.getByLabel("Identifier", { exact: true }).fill(identifier.toUpperCase());
    await page.getByRole("button", { name: "Create user" }).click();
    await poll(() => page.locator("#new-user-identifier-error").textContent()).toMatch(/already used by another user of this pool/);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("new-user-identifier");
    await shot(page, "manage-user-taken");
    await page.getByRole("button", { name: "Cancel" }).click();
  });

  it("deletes the user after confirming", async () => {
    await page.getByRole("link", { name: identifier }).click();
    await page.getByRole("button", { name: `Delete user ${identifier}` }).click();
    await shot(page, "manage-user-delete-confirm");
    await page.getByRole("button", { name: "Delete user now" }).click();
    await page.waitForURL(`${BASE}/default/admin#/pools/${pool.id}/users`);
    await poll(() => status().textContent()).toBe(`User “${identifier}” deleted.`);
    await page.getByText("No users in this pool yet.").waitFor();
    expect((await sysApi<{ users: User[] }>("GET", `/pools/${pool.id}/users`)).users).toEqual([]);
  });

  it("deletes the workspace, then the pool", async () => {
    await page.getByRole("link", { name: "Authentication" }).click();
    const card = page.locator(`[data-workspace=${ws.id}]`);
    await card.getByRole("button", { name: `Delete workspace ${ws.name}` }).click();
    await card.getByRole("button", { name: "Delete workspace" }).click();
    await poll(() => status().textContent()).toBe(`Workspace “${ws.name}” deleted.`);
    expect(await card.count()).toBe(0);
    expect(await statusOf(`/workspaces/${ws.id}`)).toBe(404);

    await page.goto(`${BASE}/default/admin#/pools/${pool.id}`);
    await page.getByRole("button", { name: `Delete pool ${pool.name}` }).click();
    await page.getByRole("button", { name: "Delete pool and users" }).click();
    await page.waitForURL(`${BASE}/default/admin#/pools/default`);
    await poll(() => status().textContent()).toBe(`Pool “${pool.name}” deleted.`);
    expect(await page.locator("#pool-picker option").allTextContents()).not.toContain(`${pool.name} (${pool.id})`);
    expect(await statusOf(`/pools/${pool.id}`)).toBe(404);
    await shot(page, "manage-pool-deleted");
  });
});

describe("500 users of a pool", () => {
  const pool = idOf("pages");
  /** The pool's identifiers in the API's order (newest first). */
  const expected: string[] = [];
  const rows = () => page.locator("table.users tbody tr td:first-child a");

  /** The table shows page n (1-based) of `expected`: 50 rows, first and last as the API orders them. */
  async function onPage(n: number) {
    const slice = expected.slice((n - 1) * 50, n * 50);
    await poll(() => rows().first().textContent()).toBe(slice[0]);
    expect(await rows().count()).toBe(slice.length);
    expect(await rows().last().textContent()).toBe(slice.at(-1));
    expect(await page.locator("#users-range").textContent()).toBe(
      `Users ${(n - 1) * 50 + 1}–${(n - 1) * 50 + slice.length}, newest first.`,
    );
    expect(new URL(page.url()).hash).toBe(`#/pools/${pool}/users${n > 1 ? `?page=${n}` : ""}`);
  }

  beforeAll(async () => {
    await sysApi("POST", "/pools", { id: pool, name: "Five hundred" });
    const sys = await sysClient();
    const names = Array.from({ length: 500 }, (_, i) => `pg-${String(i + 1).padStart(3, "0")}`);
    for (let i = 0; i < names.length; i += 10) {
      await Promise.all(
        names.slice(i, i + 10).map((identifier) => sys("POST", `/pools/${pool}/users`, { identifiers: [{ identifier, type: "uid" }] })),
      );
    }
    // The API's order, fetched 50 at a time: a page over 99 users is a 500 today (D1's limit of bound variables).
    for (let offset = 0; offset < 500; offset += 50) {
      const { users } = await sys<{ users: User[] }>("GET", `/pools/${pool}/users?limit=50&offset=${offset}`);
      expected.push(...users.map((u) => u.identifiers[0]!.identifier));
    }
    expect(new Set(expected).size).toBe(500);
  }, 180_000);

  it("pages with Next through all 10 pages and back with Previous; focus stays on the button", async () => {
    await page.goto(`${BASE}/default/admin#/pools/${pool}/users`);
    await onPage(1);
    expect(await page.getByRole("button", { name: "Previous" }).isDisabled()).toBe(true);
    await shot(page, "manage-users-page-1");
    for (let n = 2; n <= 10; n++) {
      await page.getByRole("button", { name: "Next" }).click();
      await onPage(n);
      // At the last page Next is disabled, so focus moves to Previous.
      await poll(focusedText).toBe(n < 10 ? "Next" : "Previous");
    }
    expect(await page.getByRole("button", { name: "Next" }).isDisabled()).toBe(true);
    await shot(page, "manage-users-page-10");

    // The address keeps the page: a reload shows page 10 again.
    await page.reload();
    await onPage(10);
    for (let n = 9; n >= 1; n--) {
      await page.getByRole("button", { name: "Previous" }).click();
      await onPage(n);
    }
    await poll(focusedText).toBe("Next");
  }, 120_000);

  it("a search narrows the list to one user (any part, any case), and Show all users brings the pages back", async () => {
    await page.getByLabel("Search users").fill("PG-123");
    await page.getByRole("button", { name: "Search" }).click();
    await poll(() => rows().count()).toBe(1);
    expect(await rows().first().textContent()).toBe("pg-123");
    expect(await page.locator("#users-range").textContent()).toBe("Users 1–1 with an identifier containing “PG-123”, newest first.");
    expect(new URL(page.url()).hash).toBe(`#/pools/${pool}/users?q=PG-123`);
    expect(await page.getByRole("button", { name: "Next" }).count()).toBe(0);
    await shot(page, "manage-users-search");

    await page.getByLabel("Search users").fill("zz-nobody");
    await page.getByRole("button", { name: "Search" }).click();
    await poll(() => page.locator("#users-range").textContent()).toBe("No user has an identifier containing “zz-nobody”.");
    expect(await rows().count()).toBe(0);

    await page.getByRole("button", { name: "Show all users" }).click();
    await onPage(1);
    expect(await page.getByLabel("Search users").inputValue()).toBe("");
  });

  it("raised no CSP violation or script error", () => {
    expect(problems).toEqual([]);
  });
});
