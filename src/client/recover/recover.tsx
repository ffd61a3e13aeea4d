/**
 * The recovery page's flow for the shared component (src/client/lib/code-then-passkey.tsx): address → "if this address
 * belongs to an account, we sent it a code" (POST /recover/request, the same answer for every address) → the code and
 * the passkey prompt (POST /recover/webauthn/options, the browser's create, POST /recover/webauthn/complete) → signed
 * in. No message says whether the address has an account.
 */
import { recoverTexts } from "../../pages/recover-view";
import { api } from "../lib/api";
import type { CodeFlow } from "../lib/code-then-passkey";

export const recoverFlow: CodeFlow = {
  path: "recover",
  texts: recoverTexts,
  address: /^(?:[^\s@]{1,64}@[^\s@]+\.[^\s@]+|\+[0-9]{6,15})$/,
  addressRefused: "Enter the email address of your account, like name@example.com.",
  async request(base, address) {
    await api<void>("POST", `${base}/request`, { address });
    return { address };
  },
  sent: () => "If this address belongs to an account, we sent it a code. It can take a minute to arrive.",
  wrongCode:
    "This code doesn't work: it may be mistyped, used or expired, or the address has no account that can recover here. Check the message, or get a new code.",
  failure(e) {
    if (e.code === "authenticator_not_allowed")
      return `${e.message}. Your code is used up: get a new code and use another passkey or device.`;
    if (e.status === 400 || e.status === 409)
      return "We couldn't create your passkey, and your code is used up. Get a new code and try again.";
    if (e.status === 404) return "Recovery is not available here any more. Ask your administrator to help you get back in.";
    return undefined;
  },
  invalidState: "This device already has a passkey for this account. Sign in with it instead.",
  saving: "Saving your new passkey…",
  ready: {
    app: "Your new passkey is ready and you're signed in. Taking you back to the app…",
    account: "Your new passkey is ready and you're signed in. Taking you to your account…",
  },
  lockRestartWhenLeaving: false,
};
