/**
 * The sign-up page's flow for the shared component (src/client/lib/code-then-passkey.tsx): email address → code sent
 * (POST /signup/request, which names the sign-up) → the code and the passkey prompt (POST /signup/webauthn/options, the
 * browser's create, POST /signup/webauthn/complete, which makes the account) → signed in.
 */
import type { z } from "@hono/zod-openapi";
import type { SignupStarted } from "../../api/signup";
import { signupTexts } from "../../pages/signup-view";
import { api } from "../lib/api";
import type { CodeFlow } from "../lib/code-then-passkey";

export const signupFlow: CodeFlow = {
  path: "signup",
  texts: signupTexts,
  address: /^[^\s@]{1,64}@[^\s@]+\.[^\s@]+$/,
  addressRefused: "Enter your email address, like name@example.com.",
  async request(base, address) {
    const { signup_id } = await api<z.infer<typeof SignupStarted>>("POST", `${base}/request`, { address });
    return { signup_id };
  },
  sent: (address) => `We sent a code to ${address}. It can take a minute to arrive.`,
  wrongCode: "This code doesn't work: it may be mistyped, used or expired. Check the message, or get a new code.",
  failure(e, step) {
    if (e.code === "identifier_taken") return "An account with this address exists already. Sign in instead.";
    if (e.code === "registration_failed") return "We couldn't create your passkey. Try again, or use another device.";
    if (e.status === 400 && step === "complete") return `${e.message}. Try another passkey or device.`;
    if (e.status === 404) return "Sign-up is not available here any more.";
    return undefined;
  },
  saving: "Creating your account…",
  ready: { app: "Your account is ready. Taking you back to the app…", account: "Your account is ready. Taking you to it…" },
  lockRestartWhenLeaving: true,
};
