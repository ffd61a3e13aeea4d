/** How the portal and the console show a passkey (pure: no DOM, so the workers tests can check it). */

/** The Credential shape of the contract, as far as the portal reads it. */
export interface CredentialJson {
  id: string;
  type: string;
  name: string | null;
  payload: {
    credential_id?: string;
    transport?: string[];
    flags?: { backupEligible?: boolean; backupState?: boolean };
    authenticator?: { name?: string | null; attachment?: string | null };
  };
  /** The user handle a discoverable passkey carries; "" for a Classic-only one. */
  discoverable_id?: string;
  created_at: string;
  last_used_at: string | null;
}

export interface PasskeyView {
  id: string;
  credentialId: string;
  transports: string[];
  /** The user's name for it, or null (shown as "Unnamed passkey"). */
  name: string | null;
  label: string;
  authenticator: string;
  sync: "Synced" | "Device-bound";
  created: { iso: string; text: string };
  lastUsed: { iso: string; text: string } | null;
  /** The authenticator's own name (AAGUID lookup), or null when unknown. */
  authenticatorName: string | null;
  /** "platform", "cross-platform" or null (unknown). */
  attachment: string | null;
  /** Whether it can serve Smart (usernameless) sign-in; false when the API says it is not discoverable. */
  discoverable: boolean;
}

export const LAST_PASSKEY_REASON = "You can't remove your only passkey. Add another first.";

export function formatDate(iso: string, locale?: string, timeZone?: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short", timeZone }).format(d);
}

/** The user's passkeys (not its password) as the portal's table shows them, in the API's order. */
export function passkeyViews(credentials: readonly CredentialJson[], locale?: string, timeZone?: string): PasskeyView[] {
  return credentials
    .filter((c) => c.type === "webauthn")
    .map((c) => ({
      id: c.id,
      credentialId: c.payload.credential_id ?? "",
      transports: c.payload.transport ?? [],
      name: c.name,
      label: c.name?.trim() ? c.name : "Unnamed passkey",
      authenticator: c.payload.authenticator?.name || "Unknown authenticator",
      sync: c.payload.flags?.backupEligible ? "Synced" : "Device-bound",
      created: { iso: c.created_at, text: formatDate(c.created_at, locale, timeZone) },
      lastUsed: c.last_used_at ? { iso: c.last_used_at, text: formatDate(c.last_used_at, locale, timeZone) } : null,
      authenticatorName: c.payload.authenticator?.name || null,
      attachment: c.payload.authenticator?.attachment ?? null,
      discoverable: c.discoverable_id !== "",
    }));
}

/** A passkey name the API accepts: 1..64 characters after trimming (the server also checks NFC and control characters). */
export function nameProblem(value: string): string | null {
  const name = value.trim().normalize("NFC");
  if (!name) return "Enter a name for this passkey.";
  if ([...name].length > 64) return "Use at most 64 characters.";
  return null;
}
