/** playwright-core with Debian's chromium, a CDP WebAuthn virtual authenticator, screenshots, and API shortcuts. */
import { mkdirSync } from "node:fs";
import { chromium, type Browser, type CDPSession, type Page } from "playwright-core";
import { BASE, E2E_CLIENT } from "./config";

export const SHOTS = "test/e2e/screenshots";

/** Debian's chromium, headless; `extraArgs` for a suite's own switches (host rules, certificates). */
export async function launch(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      ...extraArgs,
    ],
  });
}

export interface AuthPage {
  page: Page;
  cdp: CDPSession;
  authenticatorId: string;
}

export interface AuthenticatorOptions {
  automaticPresence?: boolean;
  /** Whether its new passkeys are synced (backup eligible and backed up) or device-bound; chromium's default when absent. */
  synced?: boolean;
}

/** Adds a virtual platform authenticator (ctap2, internal, resident keys, user verification) to the page's session. */
export async function addVirtualAuthenticator(cdp: CDPSession, opts: AuthenticatorOptions = {}): Promise<string> {
  const backup = opts.synced === undefined ? {} : { defaultBackupEligibility: opts.synced, defaultBackupState: opts.synced };
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: opts.automaticPresence ?? true,
      ...backup,
    },
  });
  return authenticatorId;
}

/** A page with a virtual platform authenticator (addVirtualAuthenticator). */
export async function pageWithAuthenticator(
  browser: Browser,
  opts: AuthenticatorOptions & { viewport?: { width: number; height: number } } = {},
): Promise<AuthPage> {
  const context = await browser.newContext({ viewport: opts.viewport ?? { width: 1100, height: 800 } });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  return { page, cdp, authenticatorId: await addVirtualAuthenticator(cdp, opts) };
}

/** Makes the virtual authenticator refuse user verification/presence, like a person cancelling the prompt. */
export async function refusePrompts(p: AuthPage): Promise<void> {
  await p.cdp.send("WebAuthn.setUserVerified", { authenticatorId: p.authenticatorId, isUserVerified: false });
  await p.cdp.send("WebAuthn.setAutomaticPresenceSimulation", { authenticatorId: p.authenticatorId, enabled: false });
}

export async function credentialsOf(p: AuthPage) {
  return (await p.cdp.send("WebAuthn.getCredentials", { authenticatorId: p.authenticatorId })).credentials;
}

/**
 * A screenshot for people reading the run (no test asserts on it). Chromium can stall a full-page capture under load
 * (seen in CI on the sign-in page while its passkey autofill request is pending): after 10 s it is skipped with a
 * warning rather than failing the test it documents.
 */
export async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  try {
    await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true, timeout: 10_000 });
  } catch (e) {
    if (!(e instanceof Error && e.name === "TimeoutError")) throw e;
    console.warn(`screenshot ${name} skipped: ${e.message.split("\n")[0]}`);
  }
}

/** A system-API token from the e2e bootstrap client. */
export async function systemToken(tid = "default"): Promise<string> {
  const res = await fetch(`${BASE}/${tid}/system/oauth2/token`, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      authorization: `Basic ${btoa(`${E2E_CLIENT.id}:${E2E_CLIENT.secret}`)}`,
    },
    body: "grant_type=client_credentials&scope=identity",
  });
  if (!res.ok) throw new Error(`token: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

export async function sysApi<T = Record<string, unknown>>(method: string, path: string, body?: unknown, tid = "default"): Promise<T> {
  const res = await fetch(`${BASE}/api/identity/${tid}/system${path}`, {
    method,
    headers: { authorization: `Bearer ${await systemToken(tid)}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return (res.status === 204 ? undefined : await res.json()) as T;
}

let n = 0;
export const uniq = (p = "e2e") => `${p}-${Date.now().toString(36)}-${(n++).toString(36)}`;

/**
 * Opens a page that redirects at once (no token: to sign-in). Waits only for the first response: waiting for its
 * "load" races the redirect and can fail with ERR_ABORTED. The caller asserts the target with waitForURL.
 */
export async function openRedirecting(page: Page, url: string): Promise<void> {
  await page.goto(url, { waitUntil: "commit" });
}

/**
 * A system-API caller with one token for many calls (seeding hundreds of rows without a token request each). A 503
 * (local D1 busy under parallel writes; the API says Retry-After) is retried a few times.
 */
export async function sysClient(tid = "default") {
  const token = await systemToken(tid);
  const call = async <T>(method: string, path: string, body: unknown, attempt: number): Promise<T> => {
    const res = await fetch(`${BASE}/api/identity/${tid}/system${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (res.status === 503 && attempt < 5) {
      await new Promise((r) => setTimeout(r, 250 * (attempt + 1)));
      return call<T>(method, path, body, attempt + 1);
    }
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  };
  return <T = Record<string, unknown>>(method: string, path: string, body?: unknown) => call<T>(method, path, body, 0);
}

/**
 * A new administrator of tenant default signed in to the console: a user in pool admins, a passkey through the
 * enrollment link in this page's virtual authenticator, then the passkey sign-in at /default/admin/login.
 */
export async function signedInAdmin(browser: Browser, prefix = "admin"): Promise<AuthPage> {
  const admin = await pageWithAuthenticator(browser);
  const name = uniq(prefix);
  const email = `${name}@example.com`;
  const user = await sysApi<{ id: string }>("POST", "/pools/admins/users", {
    identifiers: [{ identifier: name, type: "uid" }],
    verifiable_addresses: [{ address: email, type: "email", verified: true }],
  });
  await enrollPasskey(admin.page, "admins", "admin", user.id, email);
  await signInToConsole(admin.page);
  return admin;
}

/**
 * Opens /default/admin and signs in with the page's passkey until the console shows. Chromium's virtual authenticator
 * may also answer the sign-in page's passkey-autofill request on its own (the button is then busy and the page moves
 * on): either way the browser must land in the console.
 */
export async function signInToConsole(page: Page): Promise<void> {
  const inConsole = page.waitForURL(`${BASE}/default/admin#/methods`, { timeout: 30_000 });
  await page.goto(`${BASE}/default/admin`);
  const button = page.getByRole("button", { name: /sign in with a passkey/i });
  await Promise.race([inConsole, button.click({ timeout: 30_000 }).catch(() => undefined)]);
  await inConsole;
}

/** A passkey for the user in this page's virtual authenticator, through the enrollment link. */
export async function enrollPasskey(page: Page, pool: string, wid: string, userId: string, email: string) {
  await sysApi("POST", `/pools/${pool}/user/webauthn/add/request`, { userID: userId });
  const { messages } = await sysApi<{ messages: { to: string; code: string }[] }>("GET", "/outbox");
  const code = messages.find((m) => m.to === email)!.code;
  await page.goto(`${BASE}/default/${wid}/enroll?user=${userId}&code=${code}`);
  await page.getByRole("button", { name: "Create a passkey" }).click();
  await page.getByText("Your passkey is ready").first().waitFor();
}
