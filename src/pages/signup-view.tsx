/**
 * The sign-up page's wording and ids for the shared steps (src/pages/code-then-passkey-view.tsx), used by the server
 * (src/pages/signup.tsx) and the browser (src/client/signup/signup.tsx): the email address, then the code and the
 * passkey.
 */
import type { CodeThenPasskeyTexts } from "./code-then-passkey-view";

export const signupTexts: CodeThenPasskeyTexts = {
  forms: { address: "signup-address", code: "signup-code" },
  field: "email",
  maxlength: 256,
  addressHint: "We send a one-time code to this address. No password needed.",
  sentTo: (address) => <>We sent a code to {address}.</>,
  codeHint: "Then your device asks for your fingerprint, face or screen lock to create your passkey.",
  createLabel: "Create your passkey",
  restartLabel: "Resend the code or change the address",
};
