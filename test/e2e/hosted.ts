/**
 * Helpers of the hosted "email → one-time code → new passkey" flows' browser tests (test/e2e/signup.e2e.ts,
 * test/e2e/recovery.e2e.ts): the workspace, the development outbox, the address step, and the wrong code / cancelled
 * prompt / retry sequence both pages share.
 */
import type { Page } from "playwright-core";
import { expect } from "vitest";
import { type AuthPage, credentialsOf, refusePrompts, shot, sysApi, uniq } from "./browser";
import { BASE } from "./config";

export type Message = { to: string; purpose: string; code: string };

/** A pool with these self-service settings and a Smart workspace over it. */
export async function selfServiceWorkspace(selfService: Record<string, boolean>) {
  const pool = (await sysApi<{ id: string }>("POST", "/pools", { name: uniq("pool"), self_service: selfService })).id;
  const wid = (
    await sysApi<{ id: string }>("POST", "/workspaces", {
      name: uniq("Shop"),
      authentication_mechanisms: ["usernameless_webauthn"],
      identity_pools: [pool],
    })
  ).id;
  return { pool, wid };
}

/** The newest message of this purpose to the address (development outbox; the code may be sent after the answer). */
export async function messageFor(address: string, purpose: string): Promise<Message> {
  let found: Message | undefined;
  await expect
    .poll(async () => {
      const { messages } = await sysApi<{ messages: Message[] }>("GET", "/outbox");
      found = messages.find((m) => m.to === address && m.purpose === purpose);
      return found;
    })
    .toBeTruthy();
  return found!;
}

/**
 * Conditional mediation as a real browser runs it while nobody touches the username field: pending until aborted
 * (chromium's virtual authenticator would answer it at once, signing in before the button is clicked).
 */
export async function autofillPendingUntilAborted(page: Page) {
  await page.addInitScript(() => {
    const get = navigator.credentials.get.bind(navigator.credentials);
    navigator.credentials.get = (options?: CredentialRequestOptions) => {
      if (options?.mediation !== "conditional") return get(options);
      return new Promise((_, reject) => options.signal?.addEventListener("abort", () => reject(options.signal!.reason)));
    };
  });
}

/** Script errors and failed requests of ours (the browser's own /favicon.ico request is a 404: there is none). */
export function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (m) => m.type() === "error" && !m.text().startsWith("Failed to load resource") && errors.push(m.text()));
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("response", (r) => r.status() >= 400 && !r.url().endsWith("/favicon.ico") && errors.push(`${r.status()} ${r.url()}`));
  return errors;
}

export const status = (page: Page) => page.locator("#status");

/** The address step: the page says `said` and focus moves to the code field; then the code sent (of `purpose`). */
export async function sendCode(page: Page, address: string, said: string, purpose: string): Promise<string> {
  await page.getByLabel("Email address").fill(address);
  await page.getByRole("button", { name: "Send me a code" }).click();
  await expect.poll(() => status(page).textContent(), { timeout: 10_000 }).toContain(said);
  await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe("code");
  return (await messageFor(address, purpose)).code;
}

/**
 * The code step: a wrong code is refused (alert, aria-invalid), a cancelled prompt says so and creates nothing, and the
 * right code then creates the passkey and lands on the account page. Screenshots `${prefix}-wrong-code`, `-cancelled`.
 */
export async function wrongCodeCancelThenCreate(
  p: AuthPage,
  o: { wid: string; code: string; address: string; create: string; prefix: string },
): Promise<void> {
  const { page } = p;
  const wrong = o.code === "00000000" ? "11111111" : "00000000";
  await page.getByLabel("One-time code").fill(wrong);
  await page.getByRole("button", { name: o.create }).click();
  await expect.poll(() => status(page).textContent()).toContain("This code doesn't work");
  expect(await status(page).getAttribute("role")).toBe("alert");
  expect(await page.getByLabel("One-time code").getAttribute("aria-invalid")).toBe("true");
  await shot(page, `${o.prefix}-wrong-code`);

  await refusePrompts(p);
  // With presence simulation off, Chromium leaves the request pending until its timeout; with it back on, the refused
  // user verification fails at once, as a cancelled prompt does.
  await p.cdp.send("WebAuthn.setAutomaticPresenceSimulation", { authenticatorId: p.authenticatorId, enabled: true });
  await page.getByLabel("One-time code").fill(o.code);
  await page.getByRole("button", { name: o.create }).click();
  await expect.poll(() => status(page).textContent()).toContain("cancelled or timed out");
  expect(await credentialsOf(p)).toHaveLength(0);
  await shot(page, `${o.prefix}-cancelled`);

  await p.cdp.send("WebAuthn.setUserVerified", { authenticatorId: p.authenticatorId, isUserVerified: true });
  await p.cdp.send("WebAuthn.setAutomaticPresenceSimulation", { authenticatorId: p.authenticatorId, enabled: true });
  await page.getByRole("button", { name: o.create }).click();
  await page.waitForURL(`${BASE}/default/${o.wid}/account`);
  await expect.poll(() => page.locator("#user-identifier").textContent()).toBe(o.address);
}
