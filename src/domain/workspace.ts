/** Workspace policy (pure): the passkey mode follows from the mechanisms; both passkey values at once conflict. */
import type { Check } from "../errors";
import type { Mechanism } from "./mechanisms";

export type PasskeyMode = "smart" | "classic" | null;

export function passkeyMode(mechanisms: readonly string[]): PasskeyMode {
  if (mechanisms.includes("usernameless_webauthn")) return "smart";
  if (mechanisms.includes("webauthn")) return "classic";
  return null;
}

export function checkWorkspaceMechanisms(mechanisms: Mechanism[]): Check<Mechanism[]> {
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
