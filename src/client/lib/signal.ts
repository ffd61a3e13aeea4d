/**
 * The WebAuthn Signal API (WebAuthn L3 §5.1.10): the hosted pages tell the browser's passkey provider what the server
 * knows, so it can hide a passkey the server deleted and show the user's current name. Feature-detected: where the
 * browser lacks a method, nothing happens. Signals are fire-and-forget: a failure never reaches the user.
 */
import type { z } from "@hono/zod-openapi";
import type { SelfUser } from "../../api/self";

type Me = z.infer<typeof SelfUser>;

/** The static methods of PublicKeyCredential this file uses (not every DOM lib declares them yet). */
interface SignalApi {
  signalUnknownCredential?(o: { rpId: string; credentialId: string }): Promise<void>;
  signalAllAcceptedCredentials?(o: { rpId: string; userId: string; allAcceptedCredentialIds: string[] }): Promise<void>;
  signalCurrentUserDetails?(o: { rpId: string; userId: string; name: string; displayName: string }): Promise<void>;
  getClientCapabilities?(): Promise<Record<string, boolean>>;
}

export const signalApi = (): SignalApi | undefined =>
  typeof PublicKeyCredential === "undefined" ? undefined : (PublicKeyCredential as unknown as SignalApi);

/** Runs a signal, swallowing a missing method and any failure (the browser decides what to do with it). */
async function quietly(fn: (api: SignalApi) => Promise<void> | undefined): Promise<void> {
  const api = signalApi();
  if (!api) return;
  try {
    await fn(api);
  } catch {
    // best effort: a refused signal changes nothing for the user
  }
}

/** Whether the browser has signalAllAcceptedCredentials or signalCurrentUserDetails (worth reading /me for). */
export function canSignalUser(): boolean {
  const api = signalApi();
  return typeof api?.signalAllAcceptedCredentials === "function" || typeof api?.signalCurrentUserDetails === "function";
}

/** The server does not know this credential (the sign-in's 401 said `unknown_credential`): the provider may hide it. */
export function signalUnknownCredential(rpId: string | undefined, credentialId: string): Promise<void> {
  if (!rpId) return Promise.resolve();
  return quietly((api) => api.signalUnknownCredential?.({ rpId, credentialId }));
}

/** The credential ids of the user's passkeys (all of the user's pool, hence of its one RP ID). */
const passkeyIds = (me: Me) =>
  me.credentials.flatMap((c) => (c.type === "webauthn" && c.payload.credential_id ? [c.payload.credential_id] : []));

/** Every passkey the server accepts for this user: the provider may hide the others of this user and RP. */
export function signalAcceptedCredentials(me: Me): Promise<void> {
  const u = me.webauthn_user;
  if (!u) return Promise.resolve();
  return quietly((api) => api.signalAllAcceptedCredentials?.({ rpId: u.rp_id, userId: u.id, allAcceptedCredentialIds: passkeyIds(me) }));
}

/** The user's current name and display name, as the passkeys should show them. */
export function signalUserDetails(me: Me): Promise<void> {
  const u = me.webauthn_user;
  if (!u) return Promise.resolve();
  return quietly((api) => api.signalCurrentUserDetails?.({ rpId: u.rp_id, userId: u.id, name: u.name, displayName: u.display_name }));
}

/** After a sign-in: the accepted list and the current details, from GET /me with the new token (skipped without the API). */
export async function signalAfterSignin(readMe: () => Promise<Me>): Promise<void> {
  if (!canSignalUser()) return;
  let me: Me;
  try {
    me = await readMe();
  } catch {
    return;
  }
  await Promise.all([signalAcceptedCredentials(me), signalUserDetails(me)]);
}
