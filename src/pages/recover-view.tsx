/**
 * The recovery page's ("Lost your passkey?") wording and ids for the shared steps (src/pages/code-then-passkey-view.tsx),
 * used by the server (src/pages/recover.tsx) and the browser (src/client/recover/recover.tsx): the address, then the
 * code and the new passkey.
 */
import type { CodeThenPasskeyTexts } from "./code-then-passkey-view";

export const recoverTexts: CodeThenPasskeyTexts = {
  forms: { address: "recover-address", code: "recover-code" },
  field: "address",
  maxlength: 320,
  addressHint: "The verified address of your account. We send a one-time code there, then you create a new passkey.",
  sentTo: (address) => <>If {address} belongs to an account, we sent it a code.</>,
  codeHint:
    "Then your device asks for your fingerprint, face or screen lock to create the new passkey. Your other passkeys stay on your account.",
  createLabel: "Create a new passkey",
  restartLabel: "Use another address or get a new code",
};
