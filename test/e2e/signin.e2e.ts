/**
 * Hosted sign-in page in a real browser (chromium + CDP virtual authenticator) against `wrangler dev`:
 * Smart (no username), Classic (username first), password + passkey second factor, a cancelled prompt, failures.
 * Every page state visited is saved under test/e2e/screenshots/signin-*.png.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { credentialsOf, launch, openRedirecting, pageWithAuthenticator, refusePrompts, shot, sysApi, uniq, type AuthPage } from "./browser";
import { BASE } from "./config";

const PASSWORD = "correct horse battery staple";

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => browser?.close());

async function newUser(pool: string) {
  const email = `${uniq("ada")}@example.com`;
  const user = await sysApi<{ id: string }>("POST", `/pools/${pool}/users`, {
    identifiers: [{ identifier: email, type: "email" }],
    verifiable_addresses: [{ address: email, type: "email", verified: true }],
    credentials: [{ type: "password", password: PASSWORD }],
  });
  return { id: user.id, email };
}

async function newWorkspace(mechanisms: string[], pools: string[]) {
  return (
    await sysApi<{ id: string }>("POST", "/workspaces", {
      name: uniq("Workspace"),
      authentication_mechanisms: mechanisms,
      identity_pools: pools,
    })
  ).id;
}

async function newPool(body: Record<string, unknown>) {
  return (await sysApi<{ id: string }>("POST", "/pools", { name: uniq("pool"), ...body })).id;
}

/** The claims of the token the page stored for this workspace. */
async function storedClaims(page: Page, wid: string, tid = "default") {
  return page.evaluate((key) => {
    const token = sessionStorage.getItem(key);
    if (!token) return null;
    return JSON.parse(atob(token.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/"))) as Record<string, unknown>;
  }, `passkey-edge:${tid}:${wid}`);
}

const status = (page: Page) => page.locator("#status");

/**
 * Conditional mediation as a real browser runs it while the user has not touched the username field: pending until
 * aborted. (Chromium's virtual authenticator answers a conditional request at once, as if the user had picked the
 * passkey from the autofill list, so without this the page would sign in before the button is clicked.)
 */
async function autofillPendingUntilAborted(page: Page) {
  await page.addInitScript(() => {
    const log: string[] = [];
    (window as unknown as { conditionalLog: string[] }).conditionalLog = log;
    const get = navigator.credentials.get.bind(navigator.credentials);
    navigator.credentials.get = (options?: CredentialRequestOptions) => {
      if (options?.mediation !== "conditional") return get(options);
      log.push("pending");
      return new Promise((_, reject) => {
        options.signal?.addEventListener("abort", () => {
          log.push("aborted");
          reject(options.signal!.reason);
        });
      });
    };
  });
}

const conditionalLog = (page: Page) => page.evaluate(() => (window as unknown as { conditionalLog: string[] }).conditionalLog);

async function passwordSignIn(page: Page, wid: string, email: string, password = PASSWORD) {
  await page.goto(`${BASE}/default/${wid}/login`);
  await page.getByLabel("Email or username").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: /^Sign in( with password)?$/ }).click();
}

/** Enrolls a passkey the way a user does: in the portal, "Add a passkey". */
async function addPasskeyInPortal(page: Page) {
  const rows = page.locator("#passkey-rows tr");
  const before = await rows.count();
  await page.getByRole("button", { name: "Add a passkey" }).click();
  await expect.poll(() => rows.count()).toBe(before + 1);
  await expect.poll(() => status(page).textContent()).toContain("Passkey added");
}

/**
 * Enrolls a passkey through the system API, the ceremony running in the browser with the virtual authenticator
 * (for a user who cannot reach the portal yet, e.g. a pool that needs a passkey second factor).
 */
async function enrollViaSystem(p: AuthPage, pool: string, userId: string, segment: "webauthn" | "usernameless-webauthn") {
  const { publicKey } = await sysApi<{ publicKey: Record<string, unknown> }>(
    "POST",
    `/pools/${pool}/users/${userId}/${segment}/create/begin`,
  );
  const response = await p.page.evaluate(async (options) => {
    const b64 = (s: string) => Uint8Array.from(atob(s.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
    const s64 = (b: ArrayBuffer) =>
      btoa(String.fromCharCode(...new Uint8Array(b)))
        .replace(/\+/g, "-")
        .replace(/\//g, "_")
        .replace(/=+$/, "");
    const o = options as {
      challenge: string;
      user: { id: string; name: string; displayName: string };
      excludeCredentials?: { id: string; type: string }[];
    };
    const cred = (await navigator.credentials.create({
      publicKey: {
        ...(options as object),
        challenge: b64(o.challenge),
        user: { ...o.user, id: b64(o.user.id) },
        excludeCredentials: (o.excludeCredentials ?? []).map((c) => ({ ...c, id: b64(c.id) })),
      } as unknown as PublicKeyCredentialCreationOptions,
    })) as PublicKeyCredential;
    const r = cred.response as AuthenticatorAttestationResponse;
    return {
      id: cred.id,
      rawId: s64(cred.rawId),
      type: cred.type,
      clientExtensionResults: cred.getClientExtensionResults(),
      authenticatorAttachment: cred.authenticatorAttachment ?? undefined,
      response: { clientDataJSON: s64(r.clientDataJSON), attestationObject: s64(r.attestationObject), transports: r.getTransports() },
    };
  }, publicKey);
  await sysApi("POST", `/pools/${pool}/users/${userId}/${segment}/create/complete`, response);
}

describe("hosted sign-in", () => {
  it("Smart: signs in with no username after enrolling a passkey in the portal; the button cancels the pending autofill", async () => {
    const p = await pageWithAuthenticator(browser);
    const { page } = p;
    await autofillPendingUntilAborted(page);
    const user = await newUser("default");

    await page.goto(`${BASE}/default/default/login`);
    await shot(page, "signin-smart-start");
    await passwordSignIn(page, "default", user.email);
    await page.waitForURL(`${BASE}/default/default/account`);
    await expect.poll(() => page.locator("#user-identifier").textContent()).toBe(user.email);
    await shot(page, "signin-smart-portal-no-passkey");
    await addPasskeyInPortal(page);
    expect(await credentialsOf(p)).toHaveLength(1);
    await shot(page, "signin-smart-portal-enrolled");

    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(/\/default\/default\/login\?signed_out=1$/);
    await expect.poll(() => status(page).textContent()).toBe("You're signed out.");
    expect(await storedClaims(page, "default")).toBeNull();
    await shot(page, "signin-smart-signed-out");
    // Passkey autofill is armed on the username field...
    await expect.poll(() => conditionalLog(page)).toEqual(["pending"]);

    // ...and the button's ceremony aborts it without an error message.
    const finishes: string[] = [];
    page.on("request", (r) => r.url().endsWith("/login/webauthn/finish") && finishes.push(r.url()));
    await page.getByRole("button", { name: "Sign in with a passkey" }).click();
    await page.waitForURL(`${BASE}/default/default/account`);
    expect(finishes).toHaveLength(1);
    await expect.poll(() => page.locator("#passkey-rows tr").count()).toBe(1);
    expect(await page.locator("#user-identifier").textContent()).toBe(user.email);
    expect(await storedClaims(page, "default")).toMatchObject({ sub: user.id, amr: ["pop"] });
    await shot(page, "signin-smart-done");
  });

  it("Smart: picking the passkey from the username field's autofill signs in without a click", async () => {
    const p = await pageWithAuthenticator(browser);
    const { page } = p;
    const user = await newUser("default");
    await passwordSignIn(page, "default", user.email);
    await page.waitForURL(`${BASE}/default/default/account`);
    await addPasskeyInPortal(page);
    await page.evaluate(() => sessionStorage.clear());

    // The virtual authenticator answers the conditional request as a user picking the suggested passkey would.
    await openRedirecting(page, `${BASE}/default/default/login`);
    await page.waitForURL(`${BASE}/default/default/account`);
    expect(await storedClaims(page, "default")).toMatchObject({ sub: user.id, amr: ["pop"] });
    await expect.poll(() => page.locator("#passkey-rows tr").count()).toBe(1);
  });

  it("Classic: username first, then the passkey prompt", async () => {
    const p = await pageWithAuthenticator(browser);
    const { page } = p;
    const pool = await newPool({ authentication_mechanisms: ["webauthn", "password"] });
    const wid = await newWorkspace(["webauthn", "password"], [pool]);
    const user = await newUser(pool);

    await passwordSignIn(page, wid, user.email);
    await page.waitForURL(`${BASE}/default/${wid}/account`);
    await addPasskeyInPortal(page);
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(/signed_out=1$/);

    expect(await page.getByLabel("Email or username").getAttribute("autocomplete")).toBe("username");
    await shot(page, "signin-classic-start");
    // No username: the page asks for it and stays.
    await page.getByRole("button", { name: "Continue with a passkey" }).click();
    await expect.poll(() => status(page).textContent()).toContain("Enter your email or username");
    expect(await page.getByLabel("Email or username").getAttribute("aria-invalid")).toBe("true");
    await shot(page, "signin-classic-missing-username");

    await page.getByLabel("Email or username").fill(user.email);
    await page.getByRole("button", { name: "Continue with a passkey" }).click();
    await page.waitForURL(`${BASE}/default/${wid}/account`);
    await expect.poll(() => page.locator("#passkey-rows tr").count()).toBe(1);
    expect(await storedClaims(page, wid)).toMatchObject({ sub: user.id, amr: ["pop"] });
    await shot(page, "signin-classic-done");
  });

  it("password, then the passkey second factor; the token's amr is [pwd, pop]", async () => {
    const p = await pageWithAuthenticator(browser);
    const { page } = p;
    const pool = await newPool({ authentication_mechanisms: ["password"], second_factor_authentication_mechanisms: ["webauthn"] });
    const wid = await newWorkspace(["password"], [pool]);
    const user = await newUser(pool);

    // Without a passkey, the second factor cannot be done: the page says so.
    await passwordSignIn(page, wid, user.email);
    await expect.poll(() => status(page).textContent()).toContain("needs a passkey as a second step, but none is set up yet");
    expect(page.url()).toContain(`/default/${wid}/login`);
    await shot(page, "signin-2fa-not-enrolled");

    await enrollViaSystem(p, pool, user.id, "webauthn");
    await passwordSignIn(page, wid, user.email);
    await expect.poll(() => page.locator("#second-factor").isVisible()).toBe(true);
    expect(await page.locator("#first-step").isVisible()).toBe(false);
    await expect.poll(() => status(page).textContent()).toContain("Password accepted");
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("second-factor-title");
    await shot(page, "signin-2fa-passkey-step");

    await page.getByRole("button", { name: "Continue with a passkey" }).click();
    await page.waitForURL(`${BASE}/default/${wid}/account`);
    expect(await storedClaims(page, wid)).toMatchObject({ sub: user.id, amr: ["pwd", "pop"] });
    await expect.poll(() => page.locator("#passkey-rows tr").count()).toBe(1);
    // This workspace offers no passkey mode: the portal says adding is not available here.
    expect(await page.locator("#add-unavailable").isVisible()).toBe(true);
    await shot(page, "signin-2fa-done");
  });

  it("a cancelled prompt shows the cancel message in the live region and stays on the page", async () => {
    const p = await pageWithAuthenticator(browser);
    const { page } = p;
    const user = await newUser("default");
    await passwordSignIn(page, "default", user.email);
    await page.waitForURL(`${BASE}/default/default/account`);
    await addPasskeyInPortal(page);
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(/signed_out=1$/);

    await refusePrompts(p);
    // refusePrompts also stops presence simulation, which leaves Chromium's request pending until its 5-minute timeout;
    // with presence back on, the refused user verification fails at once, as a cancelled prompt does.
    await p.cdp.send("WebAuthn.setAutomaticPresenceSimulation", { authenticatorId: p.authenticatorId, enabled: true });
    await page.getByRole("button", { name: "Sign in with a passkey" }).click();
    await expect.poll(() => status(page).textContent()).toContain("The passkey prompt was cancelled or timed out");
    expect(await status(page).getAttribute("role")).toBe("alert");
    expect(await status(page).textContent()).toContain("No passkey on this device?");
    expect(page.url()).toBe(`${BASE}/default/default/login?signed_out=1`);
    expect(await storedClaims(page, "default")).toBeNull();
    await expect.poll(() => page.getByRole("button", { name: "Sign in with a passkey" }).isEnabled()).toBe(true);
    await shot(page, "signin-cancelled");
  });

  it("no passkey on this device: the prompt fails and the page says what to do", async () => {
    const { page } = await pageWithAuthenticator(browser);
    await page.goto(`${BASE}/default/default/login`);
    await page.getByRole("button", { name: "Sign in with a passkey" }).click();
    await expect.poll(() => status(page).textContent()).toContain("No passkey on this device? Sign in with your password instead");
    expect(page.url()).toBe(`${BASE}/default/default/login`);
  });

  it("a wrong password and an unknown user get the same message; return_to is honoured only for same-origin paths", async () => {
    const { page } = await pageWithAuthenticator(browser);
    const user = await newUser("default");

    await passwordSignIn(page, "default", user.email, "wrong password!");
    await expect.poll(() => status(page).textContent()).toBe("We couldn't sign you in. Check your details and try again.");
    const wrong = await status(page).textContent();
    await shot(page, "signin-failed");
    await passwordSignIn(page, "default", "nobody-here@example.com");
    await expect.poll(() => status(page).textContent()).toBe(wrong);

    await page.goto(`${BASE}/default/default/login?return_to=${encodeURIComponent("//evil.example/x")}`);
    await page.getByLabel("Email or username").fill(user.email);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByLabel("Password").press("Enter");
    await page.waitForURL(`${BASE}/default/default/account`);

    await page.goto(`${BASE}/default/default/login?return_to=${encodeURIComponent("/default/default/account?from=return_to")}`);
    await page.getByLabel("Email or username").fill(user.email);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in with password" }).click();
    await page.waitForURL(`${BASE}/default/default/account?from=return_to`);
  });

  it("answers 404 in the same layout for an unknown workspace", async () => {
    const { page } = await pageWithAuthenticator(browser);
    const res = await page.goto(`${BASE}/default/${uniq("nowhere")}/login`);
    expect(res?.status()).toBe(404);
    expect(await page.locator("h1").textContent()).toBe("We can't find this page");
    await shot(page, "signin-not-found");
  });

  it("fits a phone-sized screen; a Smart-only workspace offers the username field for autofill", async () => {
    const { page } = await pageWithAuthenticator(browser);
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${BASE}/default/default/login`);
    await shot(page, "signin-mobile");
    const wid = await newWorkspace(["usernameless_webauthn"], ["default"]);
    await page.goto(`${BASE}/default/${wid}/login`);
    expect(await page.getByLabel("Email or username").getAttribute("autocomplete")).toBe("username webauthn");
    expect(await page.getByLabel("Password").count()).toBe(0);
    await shot(page, "signin-smart-only");
  });
});
