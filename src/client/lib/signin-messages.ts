/** What the sign-in page and the portal say when something fails (pure, no DOM). Never says whether an account exists. */
import type { ErrorCode } from "../../errors";
import { passkeyMessage } from "./passkey-errors";

export const SIGNIN_FAILED = "We couldn't sign you in. Check your details and try again.";
export const NOT_ENROLLED =
  "Your account needs a passkey as a second step, but none is set up yet. Ask your administrator to help you add one.";
export const NETWORK = "We couldn't reach the server. Check your connection and try again.";

/** True for the abort that a newer ceremony (or leaving the step) sends to a pending one: not worth a message. */
export function isCeremonyAbort(err: unknown): boolean {
  const e = err as { name?: unknown; code?: unknown } | null;
  return !!e && (e.code === "ERROR_CEREMONY_ABORTED" || e.name === "AbortError");
}

/** A WebAuthn error from the browser (as opposed to an API answer or a network failure). */
export function isPasskeyError(err: unknown): boolean {
  const name = (err as { name?: unknown } | null)?.name;
  return (
    typeof name === "string" &&
    /^(NotAllowedError|AbortError|InvalidStateError|SecurityError|NotSupportedError|ConstraintError|UnknownError)$/.test(name)
  );
}

/** The message for an API failure ({status, code}) in a sign-in, or null when it is not one. */
export function apiMessage(err: unknown): string | null {
  const e = err as { status?: unknown; code?: ErrorCode } | null;
  if (!e || typeof e.status !== "number") return null;
  if (e.code === "second_factor_not_enrolled") return NOT_ENROLLED;
  if (e.status === 429) return "Too many attempts. Wait a minute, then try again.";
  if (e.code === "method_not_enabled") return "This sign-in method isn't available here.";
  if (e.status === 503 || e.status >= 500) return "Something went wrong on our side. Try again in a moment.";
  return SIGNIN_FAILED;
}

/** The message for a failed sign-in step: the passkey prompt, the API or the network. */
export function signinMessage(err: unknown, opts: { passwordOffered?: boolean } = {}): string {
  if (isPasskeyError(err)) {
    const base = passkeyMessage(err);
    if ((err as Error).name !== "NotAllowedError") return base;
    return `${base} No passkey on this device? ${opts.passwordOffered ? "Sign in with your password instead, or use" : "Use"} the phone or security key that has your passkey.`;
  }
  const api = apiMessage(err);
  if (api) return api;
  if (err instanceof TypeError) return NETWORK;
  return SIGNIN_FAILED;
}
