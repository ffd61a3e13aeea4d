/**
 * The portal's calls: the self-service API with the stored token, and the passkey confirmation a change needs when
 * the sign-in is old (lib/portal-reauth.ts). No DOM: the component passes `say` for the live region.
 */
import type { z } from "@hono/zod-openapi";
import {
  type AuthenticationResponseJSON,
  browserSupportsWebAuthn,
  type PublicKeyCredentialDescriptorJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  startAuthentication,
} from "@simplewebauthn/browser";
import type { OptionsResponse, TokenOrNext } from "../../api/signin";
import type { SelfUser } from "../../api/self";
import { ApiFailure, api } from "../lib/api";
import { passkeyMessage } from "../lib/passkey-errors";
import type { PasskeyView } from "../lib/passkey-view";
import { needsReauth, type RecentAuth } from "../lib/portal-reauth";
import { authAge, clearToken, loadToken, saveToken } from "../lib/session";

export type Me = z.infer<typeof SelfUser>;
type Options = z.infer<typeof OptionsResponse>;

/** The page's data from <body data-*>. */
export interface PortalPage {
  tid: string;
  wid: string;
  mode: "smart" | "classic" | "";
  /** Pools whose users can confirm a change with a passkey sign-in alone. */
  reauthPools: string[];
}

/** A failure to confirm the user; the message says what to do, and "Sign in again" is offered. */
export class ReauthError extends Error {}
/** Thrown after sending the browser to the sign-in page, to stop whatever was running; never shown. */
export class LeavingPage extends Error {}

export const workspacePath = (p: PortalPage) => `/${encodeURIComponent(p.tid)}/${encodeURIComponent(p.wid)}`;
export const signinUrl = (p: PortalPage) =>
  `${workspacePath(p)}/login?${new URLSearchParams({ return_to: `${workspacePath(p)}/account` })}`;

export function toSignIn(page: PortalPage): never {
  location.replace(signinUrl(page));
  throw new LeavingPage("redirecting to sign-in");
}

/** The self-service API with the current token; a token the API no longer accepts sends the user to sign in. */
export async function selfApi<T>(page: PortalPage, method: string, path: string, body?: unknown): Promise<T> {
  const session = loadToken(page.tid, page.wid) ?? toSignIn(page);
  try {
    return await api<T>(method, `${workspacePath(page)}/identity/v2/self${path}`, body, session.token);
  } catch (err) {
    if (err instanceof ApiFailure && err.status === 401 && err.code !== "insufficient_user_authentication") {
      clearToken(page.tid, page.wid);
      toSignIn(page);
    }
    throw err;
  }
}

/** Smart: the options limited to this user's passkeys; Classic: the options as the server made them for the identifier. */
function requestOptions(page: PortalPage, opts: Options, passkeys: readonly PasskeyView[]): PublicKeyCredentialRequestOptionsJSON {
  const publicKey = opts.publicKey as unknown as PublicKeyCredentialRequestOptionsJSON;
  if (page.mode !== "smart") return publicKey;
  const allowCredentials = passkeys.map((p) => ({
    id: p.credentialId,
    type: "public-key" as const,
    transports: p.transports as PublicKeyCredentialDescriptorJSON["transports"],
  }));
  return { ...publicKey, allowCredentials };
}

/** Sends the passkey's answer; returns the new token, or throws ReauthError. */
async function finishConfirmation(login: string, opts: Options, credential: AuthenticationResponseJSON) {
  let result: z.infer<typeof TokenOrNext>;
  try {
    result = await api<z.infer<typeof TokenOrNext>>("POST", `${login}/finish`, { login_id: opts.login_id, credential });
  } catch {
    throw new ReauthError("We couldn't confirm it's you. Your change wasn't made. Try again, or sign in again.");
  }
  if (!("access_token" in result)) throw new ReauthError("For your security, sign in again before changing your passkeys.");
  return result.access_token;
}

/** Confirms the user with a passkey sign-in (Smart {} limited to their passkeys, or Classic {identifier}), and keeps the new token. */
async function confirmWithPasskey(page: PortalPage, me: Me | null, passkeys: readonly PasskeyView[], say: (m: string) => void) {
  const current = loadToken(page.tid, page.wid) ?? toSignIn(page);
  if (!page.mode || !page.reauthPools.includes(current.claims.pool_id) || passkeys.length === 0 || !browserSupportsWebAuthn()) {
    throw new ReauthError("For your security, sign in again before changing your passkeys.");
  }
  say("For your security, confirm it's you with one of your passkeys.");
  const login = `${workspacePath(page)}/login/webauthn`;
  let opts: Options;
  try {
    opts = await api<Options>(
      "POST",
      `${login}/options`,
      page.mode === "classic" ? { identifier: me?.identifiers[0]?.identifier ?? "" } : {},
    );
  } catch {
    throw new ReauthError("We couldn't start the passkey check. Your change wasn't made. Try again, or sign in again.");
  }
  let credential: AuthenticationResponseJSON;
  try {
    credential = await startAuthentication({ optionsJSON: requestOptions(page, opts, passkeys) });
  } catch (err) {
    throw new ReauthError(`${passkeyMessage(err)} Your change wasn't made: confirm it's you with your passkey, or sign in again.`);
  }
  saveToken(page.tid, page.wid, await finishConfirmation(login, opts, credential));
  const next = loadToken(page.tid, page.wid);
  if (!next || next.claims.sub !== current.claims.sub) {
    saveToken(page.tid, page.wid, current.token);
    throw new ReauthError("That passkey belongs to a different account. Use a passkey of this account, or sign in again.");
  }
  say("Thanks, that's you. Saving your change…");
}

/** The portal's RecentAuth (lib/portal-reauth.ts) for the user and passkeys shown now. */
export function recentAuth(page: PortalPage, me: Me | null, passkeys: readonly PasskeyView[], say: (m: string) => void): RecentAuth {
  return {
    isRecent: () => {
      const session = loadToken(page.tid, page.wid);
      return !!session && !needsReauth(authAge(session.claims));
    },
    reauth: () => confirmWithPasskey(page, me, passkeys, say),
  };
}
