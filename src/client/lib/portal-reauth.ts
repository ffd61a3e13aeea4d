/**
 * The portal's re-authentication rule, kept free of the DOM so the workers tests can check it.
 *
 * The self-service API wants a sign-in within the last 300 s (TTL.recentAuth) for every change (else 401
 * insufficient_user_authentication). The portal asks for a passkey first when the sign-in is older than 290 s (TTL.portalReauth)
 * (10 s of margin for the request and small clock differences), and if the API refuses anyway (a slow prompt, a
 * clock that is behind), it re-authenticates and retries the change once.
 */
import { TTL } from "../../domain/ttl";
import type { ErrorCode } from "../../errors";

export const REAUTH_AFTER_SECONDS = TTL.portalReauth;

/** Whether a change must be preceded by a fresh passkey sign-in, given the sign-in's age in seconds (authAge). */
export function needsReauth(ageSeconds: number): boolean {
  return !(ageSeconds <= REAUTH_AFTER_SECONDS); // NaN (no auth_time) counts as old
}

/** The API's "sign in again" answer: 401 insufficient_user_authentication. */
export function isStepUpRequired(err: unknown): boolean {
  const e = err as { status?: unknown; code?: ErrorCode } | null;
  return !!e && e.status === 401 && e.code === "insufficient_user_authentication";
}

export interface RecentAuth {
  /** True when the current sign-in is recent enough for a change. */
  isRecent(): boolean;
  /** Runs a passkey sign-in and stores the new token; throws when the user cancels or it fails. */
  reauth(): Promise<void>;
}

/**
 * Runs a change with a recent sign-in: re-authenticates first when the sign-in is old, then runs the change;
 * when the API still answers insufficient_user_authentication, re-authenticates and retries the change once.
 * The user asked for the change once, so they never have to click again.
 */
export async function withRecentAuth<T>(auth: RecentAuth, change: () => Promise<T>): Promise<T> {
  if (!auth.isRecent()) await auth.reauth();
  try {
    return await change();
  } catch (err) {
    if (!isStepUpRequired(err)) throw err;
    // One retry only: a second refusal reaches the caller instead of looping on passkey prompts.
    await auth.reauth();
    return change();
  }
}
