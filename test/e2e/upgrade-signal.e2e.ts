/**
 * Issue 12, items 3 and 5 in chromium with the CDP virtual authenticator: the passkey upgrade after a password sign-in
 * (silent conditional create where the browser has it, else the one-click offer) and the Signal API calls of the hosted
 * pages. An init script records every PublicKeyCredential.signal* call and navigator.credentials.create's mediation
 * (calling the browser's own method when it has one, defining a recorder when it does not), so the calls and their
 * arguments are asserted whatever this chromium supports. Screenshots: test/e2e/screenshots/upgrade-*.png, signal-*.png.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AuthPage, credentialsOf, launch, pageWithAuthenticator, shot, sysApi, uniq } from "./browser";
import { BASE } from "./config";

const PASSWORD = "correct horse battery staple";

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => browser?.close());

interface Recorded {
  /** The browser's own support, before the recorder defined anything. */
  native: Record<string, boolean>;
  signals: { name: string; arg: Record<string, unknown> }[];
  creates: (string | null)[];
}

/**
 * Records the Signal API and create()'s mediation; `conditionalCreate: false` makes getClientCapabilities say the
 * browser cannot create silently (the offer path). Conditional get stays pending until aborted, as a real browser's
 * autofill does while the user has not picked anything (the virtual authenticator would answer it at once).
 */
async function record(page: Page, o: { conditionalCreate?: boolean } = {}) {
  await page.addInitScript((forced: boolean | null) => {
    type Pkc = Record<string, unknown> & { getClientCapabilities?: () => Promise<Record<string, boolean>> };
    const pkc = PublicKeyCredential as unknown as Pkc;
    // Kept in sessionStorage, so the calls of a page that has navigated on can still be read on the next one.
    const saved = JSON.parse(sessionStorage.getItem("e2e-recorded") ?? "null") as Recorded | null;
    const rec: Recorded = { native: {}, signals: saved?.signals ?? [], creates: saved?.creates ?? [] };
    const save = () => sessionStorage.setItem("e2e-recorded", JSON.stringify(rec));
    (window as unknown as { recorded: Recorded }).recorded = rec;
    for (const name of ["signalUnknownCredential", "signalAllAcceptedCredentials", "signalCurrentUserDetails", "getClientCapabilities"]) {
      rec.native[name] = typeof pkc[name] === "function";
    }
    for (const name of ["signalUnknownCredential", "signalAllAcceptedCredentials", "signalCurrentUserDetails"]) {
      const own = pkc[name] as ((arg: unknown) => Promise<void>) | undefined;
      pkc[name] = (arg: Record<string, unknown>) => {
        rec.signals.push({ name, arg: JSON.parse(JSON.stringify(arg)) as Record<string, unknown> });
        save();
        return own ? own.call(PublicKeyCredential, arg) : Promise.resolve();
      };
    }
    const caps = pkc.getClientCapabilities?.bind(PublicKeyCredential);
    pkc.getClientCapabilities = async () => {
      const real = caps ? await caps() : {};
      return forced === null ? real : { ...real, conditionalCreate: forced };
    };
    const create = navigator.credentials.create.bind(navigator.credentials);
    navigator.credentials.create = (options?: CredentialCreationOptions) => {
      rec.creates.push((options as { mediation?: string } | undefined)?.mediation ?? null);
      save();
      return create(options);
    };
    const get = navigator.credentials.get.bind(navigator.credentials);
    navigator.credentials.get = (options?: CredentialRequestOptions) => {
      if (options?.mediation !== "conditional") return get(options);
      return new Promise((_, reject) => options.signal?.addEventListener("abort", () => reject(options.signal!.reason)));
    };
  }, o.conditionalCreate ?? null);
}

const recorded = (page: Page) => page.evaluate(() => (window as unknown as { recorded: Recorded }).recorded);
/** Forgets the calls recorded so far (this page's and the saved ones). */
const resetRecord = (page: Page) =>
  page.evaluate(() => {
    const rec = (window as unknown as { recorded: Recorded }).recorded;
    rec.signals.length = 0;
    rec.creates.length = 0;
    sessionStorage.removeItem("e2e-recorded");
  });
/** Signs out as the portal does (the stored token goes), keeping the record. */
const dropToken = (page: Page) =>
  page.evaluate(() => {
    for (const k of Object.keys(sessionStorage)) if (k.startsWith("passkey-edge:")) sessionStorage.removeItem(k);
  });
const status = (page: Page) => page.locator("#status");
/** CDP gives ids and handles in base64; the API and the Signal API use base64url. */
const b64url = (b64: string) => b64.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

async function upgradeWorkspace(on = true) {
  const pool = (
    await sysApi<{ id: string }>("POST", "/pools", {
      name: uniq("pool"),
      authentication_mechanisms: ["webauthn", "password"],
      self_service: { passkey_upgrade: on },
    })
  ).id;
  const wid = (
    await sysApi<{ id: string }>("POST", "/workspaces", {
      name: uniq("Workspace"),
      authentication_mechanisms: ["usernameless_webauthn", "password"],
      identity_pools: [pool],
    })
  ).id;
  return { pool, wid };
}

async function newUser(pool: string) {
  const email = `${uniq("grace")}@example.com`;
  const user = await sysApi<{ id: string }>("POST", `/pools/${pool}/users`, {
    identifiers: [{ identifier: email, type: "email" }],
    verifiable_addresses: [{ address: email, type: "email", verified: true }],
    credentials: [{ type: "password", password: PASSWORD }],
  });
  return { id: user.id, email };
}

async function passwordSignIn(page: Page, wid: string, email: string) {
  await page.goto(`${BASE}/default/${wid}/login`);
  await page.getByLabel("Email or username").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in with password" }).click();
}

const passkeysOf = async (pool: string, userId: string) =>
  (
    await sysApi<{ credentials: { type: string; payload: { credential_id?: string } }[] }>("GET", `/pools/${pool}/users/${userId}`)
  ).credentials
    .filter((c) => c.type === "webauthn")
    .map((c) => c.payload.credential_id!);

/** The one credential of the virtual authenticator: its id and user handle in base64url. */
async function onlyCredential(p: AuthPage) {
  const creds = await credentialsOf(p);
  expect(creds).toHaveLength(1);
  return { id: b64url(creds[0]!.credentialId), userHandle: b64url(creds[0]!.userHandle ?? "") };
}

describe("passkey upgrade after a password sign-in", () => {
  it("reports what this chromium offers (conditional create, Signal API)", async () => {
    const { page } = await pageWithAuthenticator(browser);
    await record(page);
    await page.goto(`${BASE}/default/default/login`);
    const r = await recorded(page);
    const caps = await page.evaluate(() => PublicKeyCredential.getClientCapabilities?.());
    console.log(`chromium ${browser.version()}: native ${JSON.stringify(r.native)}, conditionalCreate ${caps?.conditionalCreate}`);
    expect(Object.keys(r.native)).toHaveLength(4);
  });

  it("the one-click offer (no conditional create): Create a passkey for next time, then the portal lists it", async () => {
    const p = await pageWithAuthenticator(browser);
    const { page } = p;
    await record(page, { conditionalCreate: false });
    const { pool, wid } = await upgradeWorkspace();
    const user = await newUser(pool);

    await passwordSignIn(page, wid, user.email);
    const offer = page.getByRole("region", { name: "Sign in faster next time" });
    await offer.waitFor();
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe("passkey-offer-title");
    // The sign-in forms step aside while the offer is shown.
    expect(await page.locator("#first-step").isHidden()).toBe(true);
    await shot(page, "upgrade-offer");
    expect((await recorded(page)).creates).toEqual([]);

    await page.getByRole("button", { name: "Create a passkey for next time" }).click();
    await page.waitForURL(`${BASE}/default/${wid}/account`);
    await expect.poll(() => page.locator("#passkey-rows tr").count()).toBe(1);
    await shot(page, "upgrade-offer-created");
    const cred = await onlyCredential(p);
    expect(await passkeysOf(pool, user.id)).toEqual([cred.id]);
  });

  it("Not now: no passkey, straight on to the account; the sign-in's signals name the user with no passkey", async () => {
    const p = await pageWithAuthenticator(browser);
    const { page } = p;
    await record(page, { conditionalCreate: false });
    const { pool, wid } = await upgradeWorkspace();
    const user = await newUser(pool);

    await passwordSignIn(page, wid, user.email);
    await page.getByRole("button", { name: "Not now" }).click();
    await page.waitForURL(`${BASE}/default/${wid}/account`);
    await shot(page, "upgrade-not-now");
    const r = await recorded(page);
    expect(r.signals).toHaveLength(2);
    expect(r.creates).toEqual([]);
    expect(await credentialsOf(p)).toHaveLength(0);
    expect(await passkeysOf(pool, user.id)).toEqual([]);
    const all = r.signals.find((s) => s.name === "signalAllAcceptedCredentials")!;
    expect(all.arg).toMatchObject({ rpId: "localhost", allAcceptedCredentialIds: [] });
    expect(r.signals.find((s) => s.name === "signalCurrentUserDetails")!.arg).toEqual({
      rpId: "localhost",
      userId: all.arg.userId,
      name: user.email,
      displayName: user.email,
    });
  });

  it("silent (conditional create) where chromium has it: create() runs with mediation conditional; declined, the offer follows", async () => {
    const p = await pageWithAuthenticator(browser);
    const { page } = p;
    await record(page);
    const { pool, wid } = await upgradeWorkspace();
    const user = await newUser(pool);
    await page.goto(`${BASE}/default/${wid}/login`);
    const native = await page.evaluate(async () => (await PublicKeyCredential.getClientCapabilities?.())?.conditionalCreate === true);

    await passwordSignIn(page, wid, user.email);
    const offer = page.getByRole("region", { name: "Sign in faster next time" });
    const account = `${BASE}/default/${wid}/account`;
    // Chromium either creates silently (the virtual authenticator answers) and signs in, or declines and the offer shows.
    await expect.poll(async () => page.url() === account || (await offer.isVisible()), { timeout: 30_000 }).toBe(true);
    const r = await recorded(page);
    if (!native) {
      console.log("chromium has no conditional create: only the offer path applies");
      expect(r.creates).toEqual([]);
      return;
    }
    expect(r.creates[0]).toBe("conditional");
    if (await offer.isVisible()) {
      console.log("chromium declined the silent create (no password-manager entry): the offer followed");
      await shot(page, "upgrade-silent-declined-offer");
      await page.getByRole("button", { name: "Create a passkey for next time" }).click();
      await page.waitForURL(account);
      expect((await recorded(page)).creates).toEqual(["conditional", null]);
    } else {
      console.log("chromium created the passkey silently");
      expect(r.creates).toEqual(["conditional"]);
    }
    const cred = await onlyCredential(p);
    expect(await passkeysOf(pool, user.id)).toEqual([cred.id]);
    const all = (await recorded(page)).signals.find((s) => s.name === "signalAllAcceptedCredentials")!;
    expect(all.arg).toEqual({ rpId: "localhost", userId: cred.userHandle, allAcceptedCredentialIds: [cred.id] });
  });

  it("the silent path through the recorder: a conditional create that succeeds signs in with no offer", async () => {
    const p = await pageWithAuthenticator(browser);
    const { page } = p;
    await record(page, { conditionalCreate: true });
    // As a browser whose password manager just filled the password: the conditional create answers like a modal one.
    await page.addInitScript(() => {
      const create = navigator.credentials.create.bind(navigator.credentials);
      navigator.credentials.create = (options?: CredentialCreationOptions) => {
        const { mediation: _, ...rest } = (options ?? {}) as CredentialCreationOptions & { mediation?: string };
        return create(rest);
      };
    });
    const { pool, wid } = await upgradeWorkspace();
    const user = await newUser(pool);
    await passwordSignIn(page, wid, user.email);
    await page.waitForURL(`${BASE}/default/${wid}/account`);
    await expect.poll(() => page.locator("#passkey-rows tr").count()).toBe(1);
    await shot(page, "upgrade-silent-created");
    const cred = await onlyCredential(p);
    expect(await passkeysOf(pool, user.id)).toEqual([cred.id]);
  });

  it("a pool without passkey_upgrade: no offer, no create", async () => {
    const { page } = await pageWithAuthenticator(browser);
    await record(page, { conditionalCreate: false });
    const { pool, wid } = await upgradeWorkspace(false);
    const user = await newUser(pool);
    await passwordSignIn(page, wid, user.email);
    await page.waitForURL(`${BASE}/default/${wid}/account`);
    expect((await recorded(page)).signals).toHaveLength(2);
    expect(await page.locator("#passkey-offer").count()).toBe(0);
    expect((await recorded(page)).creates).toEqual([]);
  });
});

describe("Signal API", () => {
  /** A user of a Smart workspace with a passkey in this page's authenticator (made through the offer). */
  async function withPasskey(p: AuthPage) {
    const { pool, wid } = await upgradeWorkspace();
    const user = await newUser(pool);
    await passwordSignIn(p.page, wid, user.email);
    await p.page.getByRole("button", { name: "Create a passkey for next time" }).click();
    await p.page.waitForURL(`${BASE}/default/${wid}/account`);
    await expect.poll(() => p.page.locator("#passkey-rows tr").count()).toBe(1);
    return { pool, wid, user, cred: await onlyCredential(p) };
  }

  it("a passkey deleted on the server: the sign-in fails and signalUnknownCredential names it", async () => {
    const p = await pageWithAuthenticator(browser);
    const { page } = p;
    await record(page, { conditionalCreate: false });
    const s = await withPasskey(p);
    const [entry] = (
      await sysApi<{ credentials: { id: string; type: string }[] }>("GET", `/pools/${s.pool}/users/${s.user.id}`)
    ).credentials.filter((c) => c.type === "webauthn");
    // An administrator deletes it (the API keeps no last-passkey rule for administrators).
    await sysApi("DELETE", `/pools/${s.pool}/users/${s.user.id}/webauthn/${entry!.id}`);
    await dropToken(page);
    await resetRecord(page);

    await page.goto(`${BASE}/default/${s.wid}/login`);
    await page.getByRole("button", { name: "Sign in with a passkey" }).click();
    await expect.poll(() => status(page).textContent()).toContain("We couldn't sign you in");
    await expect
      .poll(async () => (await recorded(page)).signals)
      .toEqual([{ name: "signalUnknownCredential", arg: { rpId: "localhost", credentialId: s.cred.id } }]);
    await shot(page, "signal-unknown-credential");
    // A chromium with the Signal API hands it to the authenticator: the virtual one drops the passkey.
    if ((await recorded(page)).native.signalUnknownCredential) await expect.poll(async () => (await credentialsOf(p)).length).toBe(0);
    console.log(`after signalUnknownCredential the virtual authenticator holds ${(await credentialsOf(p)).length} credential(s)`);
  });

  it("a passkey sign-in signals the accepted list and the user's details; a delete in the portal signals the rest", async () => {
    const p = await pageWithAuthenticator(browser);
    const { page } = p;
    await record(page, { conditionalCreate: false });
    const s = await withPasskey(p);
    // A second passkey, on another device (this authenticator is excluded: it has one for the user already).
    const phone = await pageWithAuthenticator(browser);
    await passwordSignIn(phone.page, s.wid, s.user.email);
    await phone.page.waitForURL(`${BASE}/default/${s.wid}/account`);
    await phone.page.getByRole("button", { name: "Add a passkey" }).click();
    await expect.poll(() => phone.page.locator("#passkey-rows tr").count()).toBe(2);
    const ids = await passkeysOf(s.pool, s.user.id);
    expect(ids).toHaveLength(2);
    await dropToken(page);
    await resetRecord(page);
    await page.goto(`${BASE}/default/${s.wid}/login`);
    await page.getByRole("button", { name: "Sign in with a passkey" }).click();
    await page.waitForURL(`${BASE}/default/${s.wid}/account`);
    const signin = (await recorded(page)).signals;
    expect(signin).toHaveLength(2);
    expect(signin.find((x) => x.name === "signalAllAcceptedCredentials")!.arg).toEqual({
      rpId: "localhost",
      userId: s.cred.userHandle,
      allAcceptedCredentialIds: expect.arrayContaining(ids),
    });
    expect(signin.find((x) => x.name === "signalAllAcceptedCredentials")!.arg.allAcceptedCredentialIds).toHaveLength(2);
    expect(signin.find((x) => x.name === "signalCurrentUserDetails")!.arg).toEqual({
      rpId: "localhost",
      userId: s.cred.userHandle,
      name: s.user.email,
      displayName: s.user.email,
    });

    // The portal: delete the first passkey; the signal lists the one left.
    await expect.poll(() => page.locator("#passkey-rows tr").count()).toBe(2);
    await resetRecord(page);
    await page.locator("button[data-delete]").first().click();
    await page.locator("#delete-confirm").click();
    await expect.poll(() => page.locator("#passkey-rows tr").count()).toBe(1);
    const remaining = await passkeysOf(s.pool, s.user.id);
    expect(remaining).toHaveLength(1);
    await expect
      .poll(async () => (await recorded(page)).signals)
      .toEqual([
        {
          name: "signalAllAcceptedCredentials",
          arg: { rpId: "localhost", userId: s.cred.userHandle, allAcceptedCredentialIds: remaining },
        },
      ]);
    await shot(page, "signal-portal-deleted");
  });
});
