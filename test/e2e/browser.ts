/** playwright-core with Debian's chromium, a CDP WebAuthn virtual authenticator, screenshots, and API shortcuts. */
import { mkdirSync } from "node:fs";
import { chromium, type Browser, type CDPSession, type Page } from "playwright-core";
import { BASE, E2E_CLIENT } from "./config";

export const SHOTS = "test/e2e/screenshots";

export async function launch(): Promise<Browser> {
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
    ],
  });
}

export interface AuthPage {
  page: Page;
  cdp: CDPSession;
  authenticatorId: string;
}

/** A page with a virtual platform authenticator (ctap2, internal, resident keys, user verification). */
export async function pageWithAuthenticator(browser: Browser, opts: { automaticPresence?: boolean } = {}): Promise<AuthPage> {
  const context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: opts.automaticPresence ?? true,
    },
  });
  return { page, cdp, authenticatorId };
}

/** Makes the virtual authenticator refuse user verification/presence, like a person cancelling the prompt. */
export async function refusePrompts(p: AuthPage): Promise<void> {
  await p.cdp.send("WebAuthn.setUserVerified", { authenticatorId: p.authenticatorId, isUserVerified: false });
  await p.cdp.send("WebAuthn.setAutomaticPresenceSimulation", { authenticatorId: p.authenticatorId, enabled: false });
}

export async function credentialsOf(p: AuthPage) {
  return (await p.cdp.send("WebAuthn.getCredentials", { authenticatorId: p.authenticatorId })).credentials;
}

export async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
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
