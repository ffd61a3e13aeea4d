/**
 * Authenticator policy per pool (issue 12, item 4) in chromium with CDP virtual authenticators: chromium 156 offers
 * `defaultBackupEligibility` / `defaultBackupState` on WebAuthn.addVirtualAuthenticator (and setCredentialProperties to
 * flip them later), so a synced and a device-bound passkey are both possible. A device-bound-only pool: the portal
 * refuses the synced passkey with the clear message and accepts the device-bound one; an OIDC authorization (the app is
 * openid-client) then gets an ID token with acr phrh. The console edits the policy (a list without attestation direct
 * is refused at its field) and marks the passkey that no longer meets it. Screenshots: test/e2e/screenshots/policy-*.png.
 */
import * as oidc from "openid-client";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  addVirtualAuthenticator,
  type AuthPage,
  enrollPasskey,
  launch,
  pageWithAuthenticator,
  shot,
  signedInAdmin,
  sysApi,
  uniq,
} from "./browser";
import { BASE } from "./config";

const PASSWORD = "correct horse battery staple";
const CALLBACK = `${BASE}/app/callback`;
const YUBIKEY = "cb69481e-8ff7-4039-93ec-0a2729a154a8";
const poll = expect.poll;

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => browser?.close());

/** A page whose virtual authenticator makes synced (BE and BS set) or device-bound passkeys. */
const pageWith = (synced: boolean) => pageWithAuthenticator(browser, { synced });

/** A Smart + password workspace over a fresh pool (settings `pool`), a user with a password, and a public OIDC client. */
async function world(pool: Record<string, unknown>) {
  const poolId = (
    await sysApi<{ id: string }>("POST", "/pools", {
      name: uniq("Staff"),
      authentication_mechanisms: ["webauthn", "password"],
      ...pool,
    })
  ).id;
  const wid = (
    await sysApi<{ id: string }>("POST", "/workspaces", {
      name: uniq("Workforce"),
      authentication_mechanisms: ["usernameless_webauthn", "password"],
      identity_pools: [poolId],
    })
  ).id;
  const email = `${uniq("ada")}@example.com`;
  const user = await sysApi<{ id: string }>("POST", `/pools/${poolId}/users`, {
    identifiers: [{ identifier: email, type: "email" }],
    verifiable_addresses: [{ address: email, type: "email", verified: true }],
    credentials: [{ type: "password", password: PASSWORD }],
  });
  return { poolId, wid, email, userId: user.id };
}

const rows = (page: Page) => page.locator("#passkey-rows tr");
const status = (page: Page) => page.locator("#status");

describe("a device-bound-only pool", () => {
  it("the portal refuses a synced passkey with a clear message, accepts a device-bound one; OIDC gives acr phrh", async () => {
    const w = await world({ passkey_settings: { authenticator_policy: { device_bound_only: true } } });
    const p = await pageWith(true);
    const { page } = p;
    const account = `${BASE}/default/${w.wid}/account`;
    await page.goto(`${BASE}/default/${w.wid}/login`);
    await page.getByLabel("Email or username").fill(w.email);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in with password" }).click();
    await page.waitForURL(account);

    // The synced passkey: refused, with the rule named; nothing added.
    await page.getByRole("button", { name: "Add a passkey" }).click();
    await poll(() => status(page).textContent()).toContain("This pool accepts only device-bound passkeys such as a security key");
    expect(await rows(page).count()).toBe(0);
    await shot(page, "policy-portal-synced-refused");

    // The same person with a device-bound authenticator (a security key, a TPM-bound passkey): added.
    await p.cdp.send("WebAuthn.removeVirtualAuthenticator", { authenticatorId: p.authenticatorId });
    await addVirtualAuthenticator(p.cdp, { synced: false });
    await page.getByRole("button", { name: "Add a passkey" }).click();
    await poll(() => rows(page).count()).toBe(1);
    await poll(() => status(page).textContent()).toContain("Passkey added");
    await shot(page, "policy-portal-device-bound-added");

    // An app signs the user in through the hosted page: the ID token says phrh (device-bound, user verified).
    const client = await sysApi<{ client_id: string }>("POST", `/workspaces/${w.wid}/clients`, {
      client_name: "Workforce app",
      redirect_uris: [CALLBACK],
      token_endpoint_auth_method: "none",
      scopes: ["openid", "profile"],
      trusted: true,
    });
    const issuer = `${BASE}/default/${w.wid}`;
    const config = await oidc.discovery(new URL(issuer), client.client_id, undefined, oidc.None(), {
      execute: [oidc.allowInsecureRequests],
    });
    const checks = {
      pkceCodeVerifier: oidc.randomPKCECodeVerifier(),
      expectedState: oidc.randomState(),
      expectedNonce: oidc.randomNonce(),
    };
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: CALLBACK,
      scope: "openid profile",
      state: checks.expectedState,
      nonce: checks.expectedNonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(checks.pkceCodeVerifier),
      code_challenge_method: "S256",
      prompt: "login",
    });
    await page.goto(url.href, { waitUntil: "commit" });
    await page.waitForURL(/\/login\?authz=/);
    const back = page.waitForURL(`${CALLBACK}?**`, { timeout: 30_000 });
    await page
      .getByRole("button", { name: /sign in with a passkey/i })
      .click({ timeout: 10_000 })
      .catch(() => undefined); // the virtual authenticator may answer the autofill request first
    await back;
    const tokens = await oidc.authorizationCodeGrant(config, new URL(page.url()), { ...checks, idTokenExpected: true });
    expect(tokens.claims()).toMatchObject({ sub: w.userId, acr: "phrh", amr: expect.arrayContaining(["pop", "hwk", "user"]) });
    await page.context().close();
  });
});

describe("the console", () => {
  let admin: AuthPage;
  beforeAll(async () => {
    admin = await signedInAdmin(browser, "policy-admin");
  });
  afterAll(async () => admin?.page.context().close());

  it("edits the policy (a list needs attestation direct, shown at the field) and marks a passkey that no longer meets it", async () => {
    const w = await world({});
    const synced = await pageWith(true);
    await enrollPasskey(synced.page, w.poolId, w.wid, w.userId, w.email);
    await synced.page.context().close();

    const { page } = admin;
    await page.goto(`${BASE}/default/admin#/pools/${w.poolId}`);
    const card = page.locator("#policy-card");
    await card.getByRole("heading", { name: "Authenticator policy" }).waitFor();

    // An allow list while the pool's attestation is none: the 422 at the list, with what to do.
    await card.getByLabel("Only the authenticators listed (allow list)").check();
    await card.getByLabel("Allowed AAGUIDs").fill(YUBIKEY);
    await poll(() => card.getByRole("list", { name: "Authenticators in the list" }).textContent()).toContain("YubiKey");
    await card.getByRole("button", { name: "Save authenticator policy" }).click();
    await poll(() => card.locator("#aaguid-list-error").textContent()).toContain("Set Attestation to “Direct” in Passkey Settings first");
    expect(await card.getByLabel("Allowed AAGUIDs").getAttribute("aria-invalid")).toBe("true");
    await shot(page, "policy-console-list-needs-direct");

    // Device-bound only, no list: saved.
    await card.getByLabel("Any authenticator", { exact: true }).check();
    await card.getByLabel("Device-bound passkeys only").check();
    await card.getByRole("button", { name: "Save authenticator policy" }).click();
    await poll(() => status(page).textContent()).toBe("Authenticator policy saved.");
    const saved = await sysApi<{ passkey_settings: { authenticator_policy: unknown } }>("GET", `/pools/${w.poolId}`);
    expect(saved.passkey_settings.authenticator_policy).toEqual({ device_bound_only: true, aaguid_allow: [], aaguid_deny: [] });
    await shot(page, "policy-console-saved");

    // The user's synced passkey is marked: it can no longer sign in.
    await page.goto(`${BASE}/default/admin#/pools/${w.poolId}/users/${w.userId}`);
    const mark = page.locator("[data-policy-mark]");
    await poll(() => mark.textContent()).toContain("Synced passkey: this pool accepts only device-bound passkeys");
    await shot(page, "policy-console-user-marked");
  });
});
