/** Workspace policy (pure): the passkey mode follows from the mechanisms; both passkey values at once conflict. */
import { isPasskey, type Mechanism } from "./mechanisms";
import type { Result } from "./result";
import type { PasskeyMode } from "./vocabulary";

/** Smart with usernameless_webauthn, Classic with webauthn, null when the workspace offers no passkey. */
export function passkeyMode(mechanisms: readonly string[]): PasskeyMode | null {
  if (mechanisms.includes("usernameless_webauthn")) return "smart";
  if (mechanisms.includes("webauthn")) return "classic";
  return null;
}

export function checkWorkspaceMechanisms(mechanisms: Mechanism[]): Result<Mechanism[]> {
  if (mechanisms.includes("webauthn") && mechanisms.includes("usernameless_webauthn")) {
    return {
      ok: false,
      field: "authentication_mechanisms",
      code: "passkey_mode_conflict",
      message: "a workspace uses one passkey mode: webauthn (Classic) or usernameless_webauthn (Smart), not both",
    };
  }
  if (new Set(mechanisms).size !== mechanisms.length) {
    return { ok: false, field: "authentication_mechanisms", message: "authentication_mechanisms lists a mechanism twice" };
  }
  return { ok: true, value: mechanisms };
}

/**
 * The workspace's sign-in methods, preferred first: the first pool's preferred mechanism, named as the workspace
 * names passkeys (webauthn or usernameless_webauthn); else the workspace's first mechanism.
 */
export function orderedMethods(
  mechanisms: readonly string[],
  firstPoolPreferred: string | undefined,
): { methods: string[]; preferred: string | null } {
  const asWorkspace = (m: string | undefined) => (m && isPasskey(m) ? mechanisms.find(isPasskey) : mechanisms.find((x) => x === m));
  const preferred = asWorkspace(firstPoolPreferred) ?? mechanisms[0] ?? null;
  return { methods: preferred ? [preferred, ...mechanisms.filter((m) => m !== preferred)] : [...mechanisms], preferred };
}
