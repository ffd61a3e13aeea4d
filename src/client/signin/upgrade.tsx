/**
 * Passkey upgrade after a password sign-in (issue 12, item 3): when the password answer says `passkey_upgrade`, the page
 * creates a passkey in the workspace's mode with the answer's fresh token through the self-service API. Where the
 * browser supports conditional create (getClientCapabilities().conditionalCreate), silently (the password manager that
 * just filled the password makes it, no prompt); otherwise, or when the browser declines the silent one, the user gets a
 * one-click offer. Nothing here ever blocks the sign-in: every failure ends in "continue as before".
 */
import type { z } from "@hono/zod-openapi";
import { browserSupportsWebAuthn, startRegistration, WebAuthnAbortService } from "@simplewebauthn/browser";
import { flushSync, useState } from "hono/jsx/dom";
import type { CreationOptions } from "../../api/webauthn";
import { api } from "../lib/api";
import { isCeremonyAbort } from "../lib/signin-messages";
import { signalApi } from "../lib/signal";
import type { Say } from "../lib/status";
import type { SigninPage } from "./ceremonies";

type Creation = Parameters<typeof startRegistration>[0]["optionsJSON"];

export interface UpgradeUi {
  say: Say;
  /** Shows "Create a passkey for next time" / "Not now"; resolves to the choice (true: create). */
  offerPasskey(): Promise<boolean>;
}

/**
 * A silent create the browser leaves pending is given up after this long, and the offer follows. A password manager that
 * can create one answers at once; chromium 156 without one (headless, the virtual authenticator) never answers.
 */
const SILENT_LIMIT_MS = 3_000;

/** Whether the browser says it can create a passkey without a prompt right after a password sign-in. */
export async function supportsConditionalCreate(): Promise<boolean> {
  try {
    const caps = await signalApi()?.getClientCapabilities?.();
    return caps?.conditionalCreate === true;
  } catch {
    return false;
  }
}

class Declined extends Error {}

/** begin, the browser's create (silent or with its prompt), complete: the self-service API with the new token. */
async function createPasskey(page: SigninPage, token: string, silent: boolean): Promise<void> {
  const segment = page.cfg.mode === "smart" ? "usernameless-webauthn" : "webauthn";
  const self = `/${encodeURIComponent(page.tid)}/${encodeURIComponent(page.wid)}/identity/v2/self/${segment}/create`;
  const begin = await api<z.infer<typeof CreationOptions>>("POST", `${self}/begin`, undefined, token);
  let response: Awaited<ReturnType<typeof startRegistration>>;
  const timer = silent ? setTimeout(() => WebAuthnAbortService.cancelCeremony(), SILENT_LIMIT_MS) : undefined;
  try {
    response = await startRegistration({ optionsJSON: begin.publicKey as unknown as Creation, useAutoRegister: silent });
  } catch (err) {
    throw new Declined(err instanceof Error ? err.name : "declined");
  } finally {
    clearTimeout(timer);
  }
  await api("POST", `${self}/complete`, response, token);
}

/**
 * Runs the upgrade for a password sign-in whose answer carried `passkey_upgrade`. Resolves when the page may go on
 * (always: a refused, cancelled or failed creation only changes what the live region says).
 */
export async function upgradeToPasskey(page: SigninPage, token: string, ui: UpgradeUi): Promise<void> {
  if (!page.cfg.mode || !browserSupportsWebAuthn()) return;
  if (await supportsConditionalCreate()) {
    try {
      await createPasskey(page, token, true);
      ui.say("You're signed in. We also created a passkey, so next time you can sign in without your password.", "success");
      return;
    } catch (err) {
      // The browser declined the silent create (no password manager entry, or not now): the offer follows. A creation
      // that failed at the server is not retried.
      if (!(err instanceof Declined)) return;
    }
  }
  if (!(await ui.offerPasskey())) return;
  ui.say("Follow your browser's prompt to create the passkey.");
  try {
    await createPasskey(page, token, false);
    ui.say("Passkey created. Next time, sign in with it instead of your password.", "success");
  } catch (err) {
    const cancelled = err instanceof Declined || isCeremonyAbort(err);
    ui.say(`${cancelled ? "No passkey was created." : "We couldn't create the passkey."} You can add one later from your account.`);
  }
}

/** The one-click offer (where the browser cannot create a passkey silently), shown once the password was accepted. */
const UpgradeOffer = ({ onChoice }: { onChoice: (create: boolean) => void }) => (
  <section id="passkey-offer" aria-labelledby="passkey-offer-title">
    <h2 id="passkey-offer-title" tabindex={-1}>
      Sign in faster next time
    </h2>
    <p id="passkey-offer-hint">
      A passkey lets you sign in with your fingerprint, face or screen lock instead of your password. It stays on this device.
    </p>
    <button type="button" id="passkey-offer-create" class="block" aria-describedby="passkey-offer-hint" onClick={() => onChoice(true)}>
      Create a passkey for next time
    </button>
    <button type="button" id="passkey-offer-skip" class="block secondary" onClick={() => onChoice(false)}>
      Not now
    </button>
  </section>
);

/** The offer's state for the page component: `node` to render, `offer()` shows it and resolves to the choice. */
export function usePasskeyOffer() {
  const [choose, setChoose] = useState<((create: boolean) => void) | null>(null);
  const offer = () =>
    new Promise<boolean>((resolve) => {
      const once = (create: boolean) => {
        flushSync(() => setChoose(null));
        resolve(create);
      };
      flushSync(() => setChoose(() => once));
      document.getElementById("passkey-offer-title")?.focus();
    });
  return { node: choose ? <UpgradeOffer onChoice={choose} /> : null, offering: choose !== null, offer };
}
