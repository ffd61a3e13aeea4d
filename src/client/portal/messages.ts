/** What the portal says when a change fails (pure: the component shows it). */
import { ApiFailure, type FailureCode } from "../lib/api";
import { passkeyMessage } from "../lib/passkey-errors";
import { LAST_PASSKEY_REASON } from "../lib/passkey-view";
import { isCeremonyAbort, isPasskeyError, NETWORK } from "../lib/signin-messages";
import type { StatusKind } from "../lib/status";
import { ReauthError } from "./self";

export interface Outcome {
  message: string;
  kind: StatusKind;
  /** Offer "Sign in again". */
  signinAgain: boolean;
}

const BY_CODE: Partial<Record<FailureCode, string>> = {
  last_credential: LAST_PASSKEY_REASON,
  credential_limit_reached: "You have as many passkeys as this account allows. Delete one you no longer use, then try again.",
  credential_exists: "This passkey is already on your account.",
  registration_failed: "Your device's answer couldn't be checked. Try again, or use another device.",
  passkey_mode_mismatch: "Adding passkeys isn't available in this workspace right now.",
  insufficient_user_authentication: "For your security, sign in again before changing your passkeys.",
  not_found: "That passkey no longer exists. The list is up to date now.",
};

function apiOutcome(err: ApiFailure, fallback: string): Outcome {
  const signinAgain = err.code === "insufficient_user_authentication";
  if (err.status === 400 && err.code === "validation_failed") {
    return { message: "That name can't be used. Use 1 to 64 ordinary characters.", kind: "error", signinAgain };
  }
  if (err.status === 429) return { message: "Too many attempts. Wait a minute, then try again.", kind: "error", signinAgain };
  // The pool's authenticator policy: the server's sentence names the rule (device-bound only, the AAGUID list).
  if (err.code === "authenticator_not_allowed") return { message: err.message, kind: "error", signinAgain };
  return { message: BY_CODE[err.code] ?? fallback, kind: "error", signinAgain };
}

/** The message for a failed change; a failed confirmation also offers "Sign in again". */
export function changeFailed(err: unknown, fallback: string): Outcome {
  if (err instanceof ReauthError) return { message: err.message, kind: "error", signinAgain: true };
  if (isCeremonyAbort(err)) return { message: "", kind: "info", signinAgain: false };
  if (isPasskeyError(err)) return { message: passkeyMessage(err), kind: "error", signinAgain: false };
  if (err instanceof ApiFailure) return apiOutcome(err, fallback);
  if (err instanceof TypeError) return { message: NETWORK, kind: "error", signinAgain: false };
  return { message: fallback, kind: "error", signinAgain: false };
}
