/**
 * A pool's authenticator policy (API `passkey_settings.authenticator_policy`), judged on what is known of one passkey:
 * at registration (webauthn/registration.ts), at every sign-in (webauthn/authentication.ts) and in the admin console
 * (which marks the passkeys that no longer meet it). Pure: it returns a result, the caller decides what to answer.
 *
 * - device_bound_only: the backup-eligible flag (BE) must be clear: a synced passkey is refused.
 * - aaguid_allow: the AAGUID must be listed and vouched for by an attestation (see `aaguidVouched`).
 * - aaguid_deny: the AAGUID must not be listed (the authenticator's claim is enough to refuse it).
 */

export type PolicyRule = "device_bound_only" | "aaguid_not_allowed";

export interface AuthenticatorPolicy {
  deviceBoundOnly: boolean;
  aaguidAllow: readonly string[];
  aaguidDeny: readonly string[];
}

export interface AuthenticatorFacts {
  backupEligible: boolean;
  /** Lowercase UUID (all zeros when the authenticator gave none). */
  aaguid: string;
  /**
   * Whether an attestation vouches for the AAGUID. At registration: an attestation certificate carries the
   * id-fido-gen-ce-aaguid extension, which the attestation check found equal to the AAGUID. For a stored passkey:
   * its attestation format was not `none` (what is stored of the registration).
   */
  aaguidVouched: boolean;
}

export type PolicyCheck = { ok: true } | { ok: false; rule: PolicyRule; message: string };

/** The user-facing sentence of each rule (the 400 authenticator_not_allowed message, the console's marks). */
export const POLICY_MESSAGES: Record<PolicyRule, string> = {
  device_bound_only:
    "This pool accepts only device-bound passkeys such as a security key; this passkey is synced (backup eligible). " +
    "Use a security key or a passkey that stays on this device.",
  aaguid_not_allowed: "This pool accepts only authenticators its administrator allows; this authenticator is not one of them.",
};

const refused = (rule: PolicyRule): PolicyCheck => ({ ok: false, rule, message: POLICY_MESSAGES[rule] });

/** Whether a passkey with these facts meets the policy; the first rule it breaks otherwise. */
export function checkAuthenticator(policy: AuthenticatorPolicy, facts: AuthenticatorFacts): PolicyCheck {
  if (policy.deviceBoundOnly && facts.backupEligible) return refused("device_bound_only");
  const aaguid = facts.aaguid.toLowerCase();
  if (policy.aaguidAllow.length > 0 && !(facts.aaguidVouched && policy.aaguidAllow.includes(aaguid))) return refused("aaguid_not_allowed");
  if (policy.aaguidDeny.includes(aaguid)) return refused("aaguid_not_allowed");
  return { ok: true };
}

/** The facts of a stored passkey (API credential payload or row): its flags, AAGUID and attestation format. */
export function storedFacts(c: {
  backupEligible: boolean | null;
  aaguid: string | null;
  attestationType: string | null;
}): AuthenticatorFacts {
  return {
    backupEligible: c.backupEligible === true,
    aaguid: c.aaguid ?? "00000000-0000-0000-0000-000000000000",
    aaguidVouched: (c.attestationType ?? "none") !== "none",
  };
}
